"""Apps depend one way: organizations ← credit ← marketplace ← trials. An app never imports a later
one (migrations excepted: their history predates the organisations app)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["organizations", "credit", "marketplace", "trials"]


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.count(".") == 1:
            # lazy model references such as ForeignKey("marketplace.PurchaseOrder")
            app, _, model = node.value.partition(".")
            if app in ORDER and model[:1].isupper():
                names.add(app)
    return names & set(ORDER)


@pytest.mark.parametrize("app", ORDER)
def test_an_app_imports_no_later_app(app):
    later = set(ORDER[ORDER.index(app) + 1:])
    offenders = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        bad = _imported_apps(path) & later
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}, f"{app} must not import {sorted(later)}: {offenders}"
