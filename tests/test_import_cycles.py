"""No import cycles among the repository's packages, and the layers between them hold.

The import graph is built by grimp (the engine of import-linter) from the source files, so a
function-level ``import`` counts as much as a module-level one: a cycle that only works because
one side imports late is still a cycle.

Layers: ``lecture_helpers`` (what notebooks import) may use ``course_kit.figure_alt`` (alt text
for figures) and nothing else of ``course_kit``; the course operations in ``course_kit`` do not
import the lecture helpers, except the exercise checks (they run the lecture's own helpers on
hidden inputs) and the deprecated aliases kept for one release.
"""

from __future__ import annotations

import grimp
import pytest
from realdata import REPO_ROOT

#: Every top-level package of the repository (a folder with an ``__init__.py``).
PACKAGES = sorted(
    path.parent.name
    for path in REPO_ROOT.glob("*/__init__.py")
    if path.parent.name not in ("tests", "benchmarks", "book")
)

#: The old ``course_kit`` module names, now thin aliases of ``lecture_helpers`` modules.
DEPRECATED_ALIASES = {
    f"course_kit.{name}"
    for name in (
        "basics",
        "deep",
        "segmentation",
        "measure",
        "embeddings",
        "viz",
        "tracking",
        "palette",
        "public_data",
    )
}

#: Cycles known and owned elsewhere, each with the reason; any other cycle fails the test.
KNOWN_CYCLES: set[frozenset[str]] = set()

#: course_kit modules that may import lecture helpers (besides the deprecated aliases).
OPERATIONS_USING_HELPERS = {"course_kit.exercise_checks"}

#: course_kit modules that lecture helpers may import.
KIT_MODULES_FOR_HELPERS = {"course_kit.figure_alt"}


def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """Every direct import that closes a cycle, with the shortest way back.

    Parameters
    ----------
    graph : grimp.ImportGraph
        An import graph.

    Returns
    -------
    list of tuple of str
        One entry per import ``a -> b`` for which ``b`` leads back to ``a``:
        ``(a, b, ..., a)``. Each cycle appears once per import it contains.
    """
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.append((importer, *back))
    return cycles


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_the_packages_are_found():
    assert {"course_kit", "data_registry", "lecture_helpers", "lowcost_capture"} <= set(PACKAGES)


def test_no_import_cycles(graph):
    cycles = [cycle for cycle in import_cycles(graph) if frozenset(cycle) not in KNOWN_CYCLES]
    assert not cycles, "import cycles (each as a chain of imports):\n" + "\n".join(
        " -> ".join(cycle) for cycle in cycles
    )


def test_cycle_detection_finds_a_cycle_through_a_late_import():
    """The check itself: the colab <-> repo cycle this repository once had is found."""
    graph = grimp.ImportGraph()
    for module in ("kit", "kit.colab", "kit.repo", "kit.site"):
        graph.add_module(module)
    graph.add_import(importer="kit.colab", imported="kit.repo")
    graph.add_import(importer="kit.site", imported="kit.repo")
    assert import_cycles(graph) == []
    graph.add_import(importer="kit.repo", imported="kit.colab")  # the late import
    assert import_cycles(graph) == [
        ("kit.colab", "kit.repo", "kit.colab"),
        ("kit.repo", "kit.colab", "kit.repo"),
    ]


def _imports_between(graph, importers: str, imported: str) -> set[tuple[str, str]]:
    return {
        (module, target)
        for module in graph.modules
        if module == importers or module.startswith(importers + ".")
        for target in graph.find_modules_directly_imported_by(module)
        if target == imported or target.startswith(imported + ".")
    }


def test_course_operations_do_not_import_lecture_helpers(graph):
    importers = {module for module, _ in _imports_between(graph, "course_kit", "lecture_helpers")}
    unexpected = importers - DEPRECATED_ALIASES - OPERATIONS_USING_HELPERS
    assert not unexpected, f"course operations importing lecture helpers: {sorted(unexpected)}"


def test_lecture_helpers_use_only_figure_alt_from_course_kit(graph):
    used = {target for _, target in _imports_between(graph, "lecture_helpers", "course_kit")}
    assert used <= KIT_MODULES_FOR_HELPERS, sorted(used - KIT_MODULES_FOR_HELPERS)


def test_every_deprecated_alias_exists_and_points_at_lecture_helpers(graph):
    for alias in DEPRECATED_ALIASES:
        targets = graph.find_modules_directly_imported_by(alias)
        assert any(target.startswith("lecture_helpers.") for target in targets), alias
