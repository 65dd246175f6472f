"""The layers, checked on the source: imports only go down.

Every ``import`` statement of ``analysis/`` and ``dashboard/`` is read from the syntax tree (also
the ones inside functions, which run later but still tie a module to another), so a cycle or an
upward import fails here rather than in a review.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
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


@functools.lru_cache(maxsize=None)
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


# --- what a stage calls: a static call graph of functions --------------------------------------------
# Nodes are (module, function) pairs of the project; an edge is a reference from a function's body to
# another project function (called or passed along): a name defined in the same module or imported with
# `from m import f`, or `alias.f` where alias is an imported project module. Methods called on objects
# (`context.save_approach`, `opened.images`) are not followed: that is how the context is allowed.

WRITERS = {("analysis.core.bundle", name) for name in (
    "write_json", "write_parquet", "write_npy", "save_approach", "save_diagnostics", "save_embeddings",
    "save_features", "save_projection", "update_manifest", "create_bundle", "atomic_path", "transaction")} | {
    ("analysis.core.atomic", "atomic_path"), ("analysis.core.atomic", "transaction")}


@functools.lru_cache(maxsize=None)
def module_functions(module: str) -> dict[str, ast.AST]:
    """Every function of ``module`` by name (methods as ``Class.name``), and the module body as ``<module>``."""
    tree = ast.parse(source_files()[module].read_text())
    found: dict[str, ast.AST] = {"<module>": ast.Module(body=[node for node in tree.body if not isinstance(
        node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))], type_ignores=[])}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            found[node.name] = node  # a class referenced: its methods may run
    return found


@functools.lru_cache(maxsize=None)
def import_names(module: str, known: frozenset[str]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(alias → project module, name → (project module, function)) of every import in ``module``."""
    modules, names = {}, {}
    for node in ast.walk(ast.parse(source_files()[module].read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    modules[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in known:
                    modules[alias.asname or alias.name] = full
                elif node.module in known:
                    names[alias.asname or alias.name] = (node.module, alias.name)
    return modules, names


def code_nodes(node: ast.AST):
    """Every node under ``node`` except type annotations (a type named is not a call)."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        for name, value in ast.iter_fields(current):
            if name in ("annotation", "returns"):
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    todo.append(child)


def referenced_functions(module: str, node: ast.AST, known: set[str]) -> set[tuple[str, str]]:
    """The project functions that ``node`` (a function of ``module``) refers to."""
    local = module_functions(module)
    modules, names = import_names(module, frozenset(known))
    found = set()
    for child in code_nodes(node):
        if isinstance(child, ast.Name):
            if child.id in local and child.id != "<module>":
                found.add((module, child.id))
            elif child.id in names:
                found.add(names[child.id])
        elif isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id in modules:
            found.add((modules[child.value.id], child.attr))
    return found


def reachable_functions(start: set[tuple[str, str]]) -> set[tuple[str, str]]:
    known = set(source_files())
    seen: set[tuple[str, str]] = set()
    todo = list(start)
    while todo:
        module, name = todo.pop()
        if (module, name) in seen:
            continue
        seen.add((module, name))
        if module in known and name in (functions := module_functions(module)):
            todo.extend(referenced_functions(module, functions[name], known))
    return seen


def stage_functions(module: str) -> set[tuple[str, str]]:
    """What the ``STAGE = Stage(...)`` of ``module`` declares: its run, units, done, inputs, check, describe."""
    known = set(source_files())
    for node in ast.parse(source_files()[module].read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "STAGE" for t in node.targets):
            return referenced_functions(module, node, known)
    raise AssertionError(f"{module} declares no STAGE")


def test_the_call_walk_sees_writers():
    """The walk finds the writers that the runner and the `submit` command call (positive controls)."""
    assert ("analysis.core.bundle", "create_bundle") in reachable_functions({("analysis.stages.runner", "prepare")})
    assert ("analysis.core.bundle", "atomic_path") in reachable_functions(
        {("analysis.stages.submission", "write_submission")})
    assert ("analysis.core.bundle", "write_parquet") in reachable_functions(
        {("analysis.core.bundle", "save_features")})


def test_stages_write_only_through_the_context():
    """Nothing a stage runs (its own functions and every helper they reach, in any module) calls a
    bundle writer or reopens the bundle itself: it writes through the run context."""
    readers = {("analysis.core.bundle", "open_bundle"), ("analysis.core.bundle", "read_manifest"),
               ("analysis.core.bundle", "Bundle")}
    for stage in stage_modules():
        reached = reachable_functions(stage_functions(stage))
        assert len(reached) > 1, f"{stage}: the walk found nothing to check"
        assert not reached & (WRITERS | readers), f"{stage} reaches {sorted(reached & (WRITERS | readers))}"


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


# --- the drawing of the layers in README.md, made from the graph above ----------------------------

README = PROJECT_ROOT / "README.md"
FLOORS = ["cli", "present", "stages", "ladder", "stats", "models", "data", "core"]  # top floor first
DRAWING_START, DRAWING_END = "<!-- layers: made by tools/draw-layers from tests/test_architecture.py -->", "<!-- /layers -->"


def layer_drawing() -> str:
    """The packages as floors, top floor first, each with the packages it actually imports."""
    graph = import_graph()
    floors = FLOORS
    width = max(len(name) for name in [*floors, "dashboard"])
    lines = []
    for package in ["dashboard", *floors]:
        prefix = "dashboard" if package == "dashboard" else f"analysis.{package}."
        imported = {package_of(other) for name, others in graph.items()
                    if name.startswith(prefix) for other in others} - {package, None}
        below = [other for other in floors if other in imported]
        lines.append(f"{package:<{width}}  →  {', '.join(below) if below else '(no other package)'}")
    return "\n".join(lines)


def readme_drawing() -> str | None:
    text = README.read_text()
    if DRAWING_START not in text or DRAWING_END not in text:
        return None
    inside = text.split(DRAWING_START, 1)[1].split(DRAWING_END, 1)[0]
    return inside.strip().removeprefix("```text").removesuffix("```").strip()


def test_readme_draws_the_layers_as_they_are():
    assert readme_drawing() == layer_drawing(), f"run tools/draw-layers --write; the graph now reads:\n{layer_drawing()}"
    order = FLOORS
    rows = dict(line.split("  →  ") for line in layer_drawing().splitlines())
    for row, imports in rows.items():  # every floor imports only floors drawn below it
        below = order[order.index(row.strip()) + 1:] if row.strip() in order else order
        assert set(imports.split(", ")) - {"(no other package)"} <= set(below), row


def readme_section(title: str) -> str:
    text = README.read_text()
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_lists_the_stages_of_the_registry():
    from analysis.stages.registry import list_stages

    section = readme_section("How `run` is put together")
    listed = section.split("runs the stages listed in order in", 1)[1].split(")", 1)[0]
    assert re.findall(r"`(\w+)`", listed.split("(", 1)[1]) == list_stages()


def dashboard_pages() -> list[tuple[str, str]]:
    """(file, title) of every page in dashboard/navigation.py's navigation, in order."""
    tree = ast.parse((PROJECT_ROOT / "dashboard" / "navigation.py").read_text())
    pages = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Page":
            title = next(keyword.value.value for keyword in node.keywords if keyword.arg == "title")
            pages.append((node.args[0].value, title))
    return pages


def test_readme_and_home_list_the_pages_of_the_navigation():
    pages = dashboard_pages()
    assert pages[0] == ("views/home.py", "Home") and len(pages) > 5
    section = readme_section("Dashboard")
    listed = section.split("Pages:", 1)[1].split("Baselines are approaches", 1)[0]
    assert [" ".join(name.split()) for name in re.findall(r"\*\*([^*]+)\*\* \(", listed)] == [title for _, title in pages]
    assert [(path, title) for path, title, _ in page_guide()] == pages[1:]


def page_guide() -> list[tuple[str, str, str]]:
    """Home's PAGE_GUIDE, read from the source (importing the page would run it)."""
    tree = ast.parse((PROJECT_ROOT / "dashboard" / "views" / "home.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PAGE_GUIDE" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("dashboard/views/home.py has no PAGE_GUIDE")
