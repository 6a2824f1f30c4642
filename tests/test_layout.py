"""The house: no import cycle between any two of the project's modules, and no module past 800 lines."""

from pathlib import Path

import grimp

PACKAGES = ("accounts", "backoffice", "cases", "letters")
ROOT = Path(__file__).resolve().parent.parent


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """Return one import cycle among the graph's modules (migrations aside), or None."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if ".migrations" in imported:
                continue
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported, [*path, imported])):
                return found
        state[module] = 2
        return None

    for module in modules:
        if module not in state and (found := visit(module, [module])):
            return found
    return None


def test_no_module_imports_itself_back_through_others():
    graph = grimp.build_graph(*PACKAGES)
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_no_module_is_longer_than_800_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and (lines := len(path.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert long == {}
