"""The README's configuration table lists every environment variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r'env_(?:str|secret|bool|int|float|list|choice|url)\(\s*"([A-Z0-9_]+)"')


def test_every_env_variable_is_documented():
    readme = (ROOT / "README.md").read_text()
    names = set()
    for path in [*ROOT.joinpath("config").rglob("*.py"), *ROOT.joinpath("apps").rglob("*.py")]:
        names.update(ENV_READ.findall(path.read_text()))
    missing = sorted(name for name in names if f"`{name}`" not in readme and f"{name}`" not in readme)
    assert not missing, f"README configuration table misses: {missing}"


def test_readme_shows_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("## Architecture")
    assert readme.index("make test") < readme.index("## Architecture")
