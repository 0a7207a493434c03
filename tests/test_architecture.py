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


# Inside the marketplace, rooms depend one way too, bottom to top (docs/architecture.md). Every
# import counts, those inside functions included. A room's interfaces (api.py, views.py) compose:
# they may call any room's services, as urls.py does; models, services and selectors only look down.
ROOMS = ["notifications", "catalogue", "kits", "factories", "sourcing", "boms", "plans", "orders", "rfqs", "directory", "demo"]
INTERFACES = {"api.py", "views.py"}


def _imported_rooms(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rooms = set()
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for module in modules:
            parts = module.split(".")
            if parts[0] == "marketplace" and len(parts) > 1 and parts[1] in ROOMS:
                rooms.add(parts[1])
    return rooms


@pytest.mark.parametrize("room", ROOMS)
def test_a_marketplace_room_imports_no_higher_room(room):
    higher = set(ROOMS[ROOMS.index(room) + 1:])
    offenders = {}
    for path in sorted((ROOT / "marketplace" / room).rglob("*.py")):
        if path.name in INTERFACES:
            continue
        bad = _imported_rooms(path) & higher
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}, f"marketplace.{room} must not import {sorted(higher)}: {offenders}"


def test_the_marketplace_root_holds_only_the_app_plumbing():
    """Domain code lives in rooms; the root keeps the app's entry points."""
    root = {p.name for p in (ROOT / "marketplace").glob("*.py")}
    assert root <= {"__init__.py", "apps.py", "admin.py", "urls.py", "models.py", "tasks.py", "exceptions.py"}, root
    rooms = [p for p in (ROOT / "marketplace").iterdir() if p.is_dir() and p.name in ROOMS]
    assert len([r for r in rooms if len(list(r.rglob("*.py"))) >= 4]) >= 5  # modules besides __init__


def _module_imports(path: Path, package_of: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {m for m in found if m in package_of}


def test_no_import_cycles_and_no_long_modules():
    """Every import counts, late ones included; a module of 800+ lines becomes a package."""
    modules = {}
    for app in ORDER + ["config"]:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    long = {name: n for name, path in modules.items() if (n := len(path.read_text().splitlines())) >= 800}
    assert long == {}
    graph = {name: _module_imports(path, modules) - {name} for name, path in modules.items()}
    # a module imported as `from pkg import name` counts as an import of pkg only when name is no submodule
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []
