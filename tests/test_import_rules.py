"""The apps import each other only along the arrows written in docs/architecture.md.

Static: every module of every app is parsed (not imported) and each import of a sibling app is
checked against the table under "Allowed imports" in docs/architecture.md, so the document and
the code cannot drift apart. Two ways of hiding an arrow are refused outright: an import of a
sibling app inside a function (a hidden cycle), and ``import_string``/``apps.get_model`` on a
literal naming a sibling app.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("config", "hotline", "routing", "telephony", "callback", "metrics", "web")
RULES_HEADING = "### Allowed imports"


def allowed_arrows(doc: str) -> dict[str, set[str]]:
    """Parse lines like ``- `callback` → `hotline`, `telephony` `` (or ``→ nothing``) under the heading."""
    section = doc.split(RULES_HEADING, 1)[1].split("\n#", 1)[0]
    rules: dict[str, set[str]] = {}
    for line in section.splitlines():
        match = re.match(r"\s*-\s*`(\w+)`\s*→\s*(.+)", line)
        if match:
            rules[match.group(1)] = set(re.findall(r"`(\w+)`", match.group(2)))
    return rules


def _target(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _literal_reach(node: ast.Call) -> str | None:
    """The module a dynamic-import call names by a literal, if any."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if name in ("import_string", "import_module") and args:
        return args[0]
    if name == "get_model" and args:
        return args[0].split(".")[0]  # apps.get_model("callback", "Revisit") or ("callback.Revisit")
    return None


def violations(root: Path, rules: dict[str, set[str]], apps: tuple[str, ...] = APPS) -> list[str]:
    """Every import between apps in ``root`` that the rules do not allow, as readable lines."""
    found: set[str] = set()
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            where = path.relative_to(root)
            migration = path.parent.name == "migrations"  # apps.get_model is how migrations reach models
            for parent in ast.walk(tree):
                # AppConfig.ready() is where Django wants start-up imports (models are ready only then).
                in_function = isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef) and not (
                    path.name == "apps.py" and parent.name == "ready"
                )
                for node in ast.iter_child_nodes(parent) if in_function else ():
                    for stmt in ast.walk(node):
                        for module in _target(stmt):
                            other = module.split(".")[0]
                            if other in apps and other != app:
                                found.add(f"{where}:{stmt.lineno}: imports {module} inside a function")
            for node in ast.walk(tree):
                for module in _target(node):
                    other = module.split(".")[0]
                    if other in apps and other != app and other not in rules.get(app, set()):
                        found.add(f"{where}:{node.lineno}: {app} → {other} ({module}) is not an allowed arrow")
                if not migration and isinstance(node, ast.Call) and (reach := _literal_reach(node)):
                    other = reach.split(".")[0]
                    if other in apps and other != app:
                        found.add(f"{where}:{node.lineno}: reaches {reach} through a string")
    return sorted(found)


@pytest.fixture(scope="module")
def rules() -> dict[str, set[str]]:
    return allowed_arrows((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))


def test_the_documented_rules_name_every_app(rules):
    assert set(rules) == set(APPS)
    assert rules["hotline"] == set(), "the core domain imports no other app"


def test_the_apps_import_only_along_the_documented_arrows(rules):
    assert violations(ROOT, rules) == []


def test_the_check_catches_an_arrow_against_the_rules(rules, tmp_path):
    """The checker itself: a forbidden arrow, a function-local import and a string reach are each reported."""
    for app in APPS:
        (tmp_path / app).mkdir()
    (tmp_path / "hotline" / "bad.py").write_text("from web.views import agent\n")
    (tmp_path / "callback" / "hidden.py").write_text("def dial():\n    from telephony import control\n")
    (tmp_path / "metrics" / "dynamic.py").write_text(
        "from django.apps import apps\nRevisit = apps.get_model('callback', 'Revisit')\n"
    )
    (tmp_path / "routing" / "fine.py").write_text("from hotline.models import Ticket\n")
    found = violations(tmp_path, rules)
    assert any("hotline/bad.py:1: hotline → web" in line for line in found), found
    assert any("callback/hidden.py:2: imports telephony inside a function" in line for line in found), found
    assert any("metrics/dynamic.py:2: reaches callback through a string" in line for line in found), found
    assert not any("routing/fine.py" in line for line in found), found
