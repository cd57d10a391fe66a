"""The apps import downwards only: the import-linter contracts in .importlinter pass, and they
would fail if a lower app imported a higher one (shown on a copy of apps/ with one import
turned upside down). docs/DEVELOPING.md draws the layers and lists the known exceptions.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH: the `apps` package analysed is the one under cwd, which lint-imports puts first.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / ".importlinter"), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def contract() -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return parser["importlinter:contract:layers"]


def listed(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def apps_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "apps", tmp_path / "apps", ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(CONFIG, tmp_path / ".importlinter")
    return tmp_path


def test_the_layering_contracts_pass():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_every_app_is_on_a_layer():
    apps = {f"apps.{path.parent.name}" for path in (ROOT / "apps").glob("*/apps.py")}
    assert set(listed(contract()["layers"])) == apps


def test_no_import_is_exempt():
    """The last exception (the feeds enqueuing the bot runner) became the close sink that the
    feeds' composition roots wire; a new one needs a reason in docs/DEVELOPING.md first."""
    assert listed(contract().get("ignore_imports", "")) == []


def test_a_lower_app_importing_a_higher_one_breaks_the_contract(tmp_path: Path):
    house = apps_copy(tmp_path)
    (house / "apps" / "core" / "upside_down.py").write_text("from apps.web import views\n")
    result = lint_imports(house)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "apps.core is not allowed to import apps.web" in result.stdout
    assert "apps.core.upside_down -> apps.web.views" in result.stdout


def test_an_import_inside_a_function_counts_too(tmp_path: Path):
    house = apps_copy(tmp_path)
    dodge = "def ticket():\n    from apps.portfolio.forms import OrderTicketForm\n\n    return OrderTicketForm\n"
    (house / "apps" / "market" / "upside_down.py").write_text(dodge)
    result = lint_imports(house)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "apps.market is not allowed to import apps.portfolio" in result.stdout
