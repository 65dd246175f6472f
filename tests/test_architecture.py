"""The layers, checked on the source: imports only go down.

Every ``import`` statement of ``analysis/`` and ``dashboard/`` is read from the syntax tree (also
the ones inside functions, which run later but still tie a module to another), so a cycle or an
upward import fails here rather than in a review.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PACKAGES = ("analysis", "dashboard")
RUNNER = {"analysis.stages.runner", "analysis.stages.registry", "analysis.cli.commands", "analysis.__main__", "analysis.cli.demo"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((PROJECT_ROOT / package).rglob("*.py"))}


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules that ``path`` imports anywhere in its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from analysis import bundle` imports the module analysis.core.bundle; `from analysis import
            # open_bundle` imports the package itself (its __init__)
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                     for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def import_graph() -> dict[str, set[str]]:
    files = source_files()
    known = set(files)
    return {name: imported_modules(path, known) - {name} for name, path in files.items()}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return seen


def stage_modules() -> set[str]:
    """The modules that declare a stage (``STAGE = Stage(...)``)."""
    declared = set()
    for name, path in source_files().items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "STAGE" for t in node.targets):
                declared.add(name)
    return declared


def test_no_import_cycle():
    graph = import_graph()
    cycles = sorted(name for name in graph if name in reachable(graph, name))
    assert cycles == [], f"modules in an import cycle: {cycles}"


def test_the_walk_sees_what_it_should():
    graph = import_graph()
    assert "analysis.stages.registry" in graph["analysis.stages.runner"]       # imported inside run(): still seen
    assert {"analysis.stages.zeroshot", "analysis.stages.finetune"} <= graph["analysis.stages.registry"]
    assert stage_modules() == {"analysis.stages.baselines", "analysis.stages.zeroshot", "analysis.stages.probe", "analysis.stages.finetune",
                               "analysis.stages.ladder", "analysis.stages.agreement", "analysis.stages.submission"}


def test_no_stage_imports_the_runner():
    graph = import_graph()
    for stage in stage_modules():
        assert not reachable(graph, stage) & RUNNER, f"{stage} reaches {reachable(graph, stage) & RUNNER}"


def test_the_dashboard_imports_no_cli_pipeline_or_stage():
    graph = import_graph()
    forbidden = RUNNER | stage_modules()
    for name in graph:
        if name.startswith("dashboard"):
            assert not reachable(graph, name) & forbidden, f"{name} reaches {reachable(graph, name) & forbidden}"


def test_context_and_records_sit_below_the_stages():
    graph = import_graph()
    for low in ("analysis.stages.context", "analysis.core.options", "analysis.core.records", "analysis.core.bundle", "analysis.core.paths"):
        assert not reachable(graph, low) & (stage_modules() | RUNNER), low
    assert reachable(graph, "analysis.core.records") == set()  # the ground floor


def test_no_module_over_500_lines():
    long = {name: n for name, path in source_files().items()
            if (n := len(path.read_text().splitlines())) > 500}
    assert long == {}


def test_registered_stages_read_only_run_options():
    from analysis.core.options import RunOptions
    from analysis.stages.registry import STAGES, list_stages, stage

    run_fields = {item.name for item in dataclasses.fields(RunOptions)}
    for entry in STAGES:
        assert {item.name for item in dataclasses.fields(entry.options)} <= run_fields, entry.name
        assert dataclasses.is_dataclass(entry.options) and entry.options.__dataclass_params__.frozen
    assert list_stages() == ["baselines", "zeroshot", "probe", "finetune", "ladder", "agreement", "submission"]
    assert stage("probe").name == "probe"
    with pytest.raises(KeyError, match="there are baselines"):
        stage("nope")


def test_stages_write_only_through_the_context():
    """No stage module calls the bundle's writers (or reopens the bundle) itself."""
    writers = {"save_approach", "save_diagnostics", "save_embeddings", "save_projection", "update_manifest",
               "create_bundle", "Bundle", "open_bundle", "read_manifest"}
    files = source_files()
    for stage in stage_modules():
        calls = {f"{node.func.value.id}.{node.func.attr}" for node in ast.walk(ast.parse(files[stage].read_text()))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                 and isinstance(node.func.value, ast.Name) and node.func.value.id == "bundle"}
        assert not {call.split(".")[1] for call in calls} & writers, f"{stage}: {calls}"


LAYERS = ["core", "data", "models", "stats", "ladder", "stages", "present", "cli"]
MAY_IMPORT = {"core": set(), "data": {"core"}, "models": {"core", "data"}, "stats": {"core"},
              "ladder": {"core", "data", "stats"},
              "stages": {"core", "data", "models", "stats", "ladder"},
              "present": {"core", "data", "models", "stats", "ladder"},
              "cli": set(LAYERS)}


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "analysis" and len(parts) > 2 and parts[1] in LAYERS else None


def test_packages_import_only_the_layers_below():
    """Each sub-package imports only what its docstring allows (imports only go down)."""
    graph = import_graph()
    for name, imported in graph.items():
        package = package_of(name)
        if package is None:
            continue
        upward = {other for other in imported if package_of(other) not in MAY_IMPORT[package] | {package, None}}
        assert not upward, f"{name} imports {upward}"


def test_no_top_level_module_but_the_faces():
    assert sorted(path.name for path in (PROJECT_ROOT / "analysis").glob("*.py")) == ["__init__.py", "__main__.py"]
    for package in LAYERS:
        doc = ast.get_docstring(ast.parse((PROJECT_ROOT / "analysis" / package / "__init__.py").read_text()))
        assert doc and "May import" in doc, package
