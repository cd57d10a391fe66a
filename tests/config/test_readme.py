"""The README documents every environment variable, with its real default, and nothing else.

Two tables, one row per variable, in exactly this shape (the lead merges rows from several
branches; anything else in the table fails here):

    | `NAME` | default | meaning |

- "## Configuration": every variable the code reads (``config/env.py`` helpers and
  ``os.environ`` reads in ``config/`` and ``apps/``, found by parsing the source). A literal
  default must appear in the default cell in backticks (`true`/`false` for booleans, lists
  comma-joined); an empty default reads "unset" or "empty"; "see settings" is never a
  default. Secrets (``env_secret``) mention their ``_FILE`` variant.
- "## Deployment variables": every other variable the deployment files use (``${NAME}`` in
  docker/*.yml and docker/*.sh, ``environment:`` keys of the app services, reads in
  docker/healthcheck.py, keys of .env.production.example), with the ``${NAME:-default}`` in
  backticks or "required" for ``${NAME:?...}``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from config import env as config_env

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Every reader config/env.py offers (a new helper is seen without editing this test).
HELPERS = {name for name in vars(config_env) if name.startswith("env_") and callable(getattr(config_env, name))}
# Read by Django itself, not by our code.
READ_BY_LIBRARIES = {"DJANGO_SETTINGS_MODULE"}
ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \| (.+) \|$")
UNSET = object()


class EnvReads(ast.NodeVisitor):
    """Names read from the environment, with the literal defaults they are read with."""

    def __init__(self) -> None:
        self.defaults: dict[str, list[object]] = {}
        self.secrets: set[str] = set()

    def _add(self, name: str, default: object = UNSET) -> None:
        self.defaults.setdefault(name, [])
        if default is not UNSET:
            self.defaults[name].append(default)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            if isinstance(func, ast.Name) and func.id in HELPERS:
                self._add(first.value, _literal_default(node))
                if func.id == "env_secret":
                    self.secrets.add(first.value)
            elif _is_environ_get(func):
                self._add(first.value)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if _is_environ(node.value) and isinstance(node.slice, ast.Constant) and isinstance(node.ctx, ast.Load):
            self._add(node.slice.value)
        self.generic_visit(node)


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", "") == "os"


def _is_environ_get(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value):
        return True
    return isinstance(func, ast.Attribute) and func.attr == "getenv" and getattr(func.value, "id", "") == "os"


def _literal_default(node: ast.Call) -> object:
    default = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "default"), None)
    if default is None:
        return ""  # the helpers' own default: empty / false
    try:
        return ast.literal_eval(default)
    except ValueError:
        return UNSET  # computed (e.g. from PROCESS_ROLE): described in words


def env_reads(*, include_tests_settings: bool = True) -> EnvReads:
    reads = EnvReads()
    for path in sorted([*ROOT.joinpath("config").rglob("*.py"), *ROOT.joinpath("apps").rglob("*.py")]):
        if path.name == "test.py" and path.parent.name == "settings" and not include_tests_settings:
            continue
        reads.visit(ast.parse(path.read_text(), filename=str(path)))
    return reads


def readme_table(heading: str) -> dict[str, tuple[str, str]]:
    """The rows of the table under ``## <heading>``; fails on a row of any other shape."""
    lines = README.read_text().splitlines()
    assert f"## {heading}" in lines, f"README has no '## {heading}' section"
    start = lines.index(f"## {heading}") + 1
    rows: dict[str, tuple[str, str]] = {}
    for line in lines[start:]:
        if line.startswith("## "):
            break
        if not line.startswith("|") or line.startswith(("|---", "| variable |")):
            continue
        match = ROW.match(line)
        assert match, f"README '{heading}' row not in the form | `NAME` | default | meaning |: {line}"
        name, default, meaning = match.groups()
        assert name not in rows, f"README '{heading}' lists {name} twice"
        rows[name] = (default.strip(), meaning.strip())
    return rows


def _rendered(value: object) -> list[str]:
    if isinstance(value, bool):
        return [f"`{str(value).lower()}`"]
    if isinstance(value, list | tuple):
        return [f"`{','.join(map(str, value))}`"] if value else []
    if isinstance(value, float) and value.is_integer():
        return [f"`{int(value)}`", f"`{value}`"]
    return [f"`{value}`"] if value != "" else []


def _default_problem(name: str, cell: str, defaults: list[object]) -> str | None:
    if "see settings" in cell.lower():
        return f"{name}: default says 'see settings'"
    for default in defaults:
        options = _rendered(default)
        if options and not any(option in cell for option in options):
            return f"{name}: default {options[0]} not in {cell!r}"
        if not options and not re.search(r"\b(unset|empty)\b", cell):
            return f"{name}: empty default, the cell should say unset or empty: {cell!r}"
    return None


def test_configuration_table_lists_exactly_the_variables_the_code_reads():
    rows = readme_table("Configuration")
    read = set(env_reads().defaults) | READ_BY_LIBRARIES
    assert sorted(read - set(rows)) == [], "read by the code but missing from the README table"
    assert sorted(set(rows) - read) == [], "in the README table but read by nobody"


def test_configuration_defaults_are_the_real_ones():
    rows = readme_table("Configuration")
    reads = env_reads(include_tests_settings=False)
    problems = [_default_problem(name, rows[name][0], reads.defaults[name]) for name in reads.defaults if name in rows]
    problems += [f"{name}: say that {name}_FILE works too" for name in reads.secrets if "_FILE" not in rows[name][1]]
    assert [p for p in problems if p] == []


DEPLOY_REF = re.compile(r"\$\$?\{([A-Z_][A-Z0-9_]*)(?::?([-?])([^}]*))?\}")
SHELL_REF = re.compile(r"\$([A-Z_][A-Z0-9_]*)")


def deployment_references() -> dict[str, set[str]]:
    """Variable -> the defaults the deployment files give it ("required" for ${X:?})."""
    refs: dict[str, set[str]] = {}

    def add(name: str, kind: str | None = None, default: str = "") -> None:
        refs.setdefault(name, set())
        if kind == "-":
            refs[name].add(f"`{default}`")
        elif kind == "?":
            refs[name].add("required")

    docker = ROOT / "docker"
    for path in [*docker.glob("*.yml"), *docker.glob("*.sh")]:
        text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
        for name, kind, default in DEPLOY_REF.findall(text):
            add(name, kind, default)
        if path.suffix == ".sh":
            for name in SHELL_REF.findall(text):
                add(name)
        else:
            for service in yaml.safe_load(text)["services"].values():
                if "build" in service:  # the app image: its environment is ours to document
                    for name in service.get("environment") or {}:
                        add(name)
    healthcheck = EnvReads()
    healthcheck.visit(ast.parse((docker / "healthcheck.py").read_text()))
    for name in healthcheck.defaults:
        add(name)
    for name in re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.production.example").read_text(), flags=re.M):
        add(name)
    return refs


def test_deployment_table_lists_exactly_the_other_deployment_variables():
    rows = readme_table("Deployment variables")
    configuration = readme_table("Configuration")
    refs = deployment_references()
    secret_files = {f"{name}_FILE" for name in env_reads().secrets}  # documented with their secret
    expected = set(refs) - set(configuration) - secret_files
    assert sorted(expected - set(rows)) == [], "used by the deployment files but missing from the README"
    assert sorted(set(rows) - expected) == [], "in the deployment table but unused (or in both tables)"
    wrong = [(n, d) for n in expected for d in refs[n] if d not in rows[n][0]]
    assert wrong == [], "deployment defaults that differ from the compose/entrypoint files"


def test_readme_shows_the_two_commands_first():
    readme = README.read_text()
    assert readme.index("make run") < readme.index("## Architecture")
    assert readme.index("make test") < readme.index("## Architecture")
