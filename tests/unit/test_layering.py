"""The layering of DESIGN.md, checked on the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "telco_analytics"


def _imports(path: Path) -> set[str]:
    """Absolute dotted names imported by a module (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def _modules(*parts: str) -> list[Path]:
    out = []
    for part in parts:
        p = PACKAGE / part
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p.with_suffix(".py")])
    return [p for p in out if p.exists()]


def _offenders(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return bad


def test_core_never_touches_io_engine_or_outer_layers():
    # narrative belongs to the report layer (DESIGN: report/narrative.py): it may format numbers
    core = _modules("analysis", "models", "clean", "aggregate", "schema", "config", "errors")
    forbidden = tuple(f"telco_analytics.{m}" for m in (
        "io", "engine", "run", "cli", "tracking", "serve", "dashboard", "report"))
    assert _offenders(core, forbidden + ("mlflow", "duckdb", "pyspark", "streamlit")) == []


def test_only_engine_names_the_engines_and_only_tracking_imports_mlflow():
    everything = _modules(".")
    others = [p for p in everything if p.name != "engine.py"]
    assert _offenders(others, ("duckdb", "pyspark")) == []
    not_tracking = [p for p in everything if p.name != "tracking.py"]
    assert _offenders(not_tracking, ("mlflow",)) == []


def test_report_and_shells_do_not_recompute_the_pipeline():
    """They read a run through the catalog, never through the runner or the engine."""
    shells = _modules("report", "dashboard", "serve", "narrative")
    assert _offenders(shells, ("telco_analytics.run.runner", "telco_analytics.run.nodes",
                               "telco_analytics.run.execution", "telco_analytics.cli",
                               "telco_analytics.engine")) == []


# threads, processes and OpenMP/BLAS limits
CONCURRENCY = ("threading", "concurrent", "multiprocessing", "threadpoolctl")


def test_only_the_execution_module_starts_threads_or_limits_them():
    """Analyses, models, engine steps, outputs and the runner are single-threaded code: the
    execution module alone decides what runs side by side and with how many native threads.
    Not part of a run: the generator (synth, its own command), the prediction server (a
    per-request limit), the prediction log (a lock) and the dashboard server's page warm-up
    (a background thread in the Streamlit process)."""
    shells = (PACKAGE / "serve" / "app.py", PACKAGE / "monitoring.py",
              PACKAGE / "dashboard" / "warm.py")
    others = [p for p in _modules(".") if p != PACKAGE / "run" / "execution.py"
              and not p.is_relative_to(PACKAGE / "synth") and p not in shells]
    assert _offenders(others, CONCURRENCY) == []


def test_analyses_are_engine_agnostic():
    """No analysis or model looks at which engine ran: they take pandas tables."""
    import re

    branches = [f"{p.relative_to(PACKAGE)}: {line.strip()}"
                for p in _modules("analysis", "models")
                for line in p.read_text().splitlines()
                if re.search(r"\bengine\b\s*(==|!=|in\b)|\.engine\b", line)]
    assert branches == []



def _sibling_imports(path: Path, package: str, siblings: set[str]) -> set[str]:
    """The sibling modules (of siblings; "__init__" is the package) that a module of package
    imports anywhere in it: at module level, inside functions, under TYPE_CHECKING."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                module = ".".join(parts[: len(parts) - node.level + 1]
                                  + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import x` imports the module x (not the package); `from .x import f`, x
            targets = [f"{module}.{alias.name}" for alias in node.names
                       if module == package and alias.name in siblings] or [module]
        else:
            continue
        for target in targets:
            if target == package:
                found.add("__init__")
            elif target.startswith(package + "."):
                found.add(target[len(package) + 1:].split(".")[0])
    return found & siblings


def _import_graph(folder: Path, package: str) -> dict[str, set[str]]:
    """Module -> the sibling modules it imports, over the modules of one package folder."""
    paths = {p.stem: p for p in sorted(folder.glob("*.py"))}
    return {name: _sibling_imports(path, package, set(paths)) - {name}
            for name, path in paths.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of the graph (its modules in order, the first repeated), [] if none."""
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> list[str]:
        if name in trail:
            return [*trail[trail.index(name):], name]
        if name in done:
            return []
        for other in sorted(graph[name]):
            if found := visit(other, [*trail, name]):
                return found
        done.add(name)
        return []

    for name in sorted(graph):
        if found := visit(name, []):
            return found
    return []


def test_the_import_graph_sees_imports_inside_functions(tmp_path):
    # the synth check is only as good as its parser: a cycle closed by an import inside a
    # function (how synth/fitcache once imported curves back) must be found
    (tmp_path / "a.py").write_text("from . import b, c\nfrom .. import schema\n")
    (tmp_path / "b.py").write_text("def f():\n    from .a import g\n    return g\n")
    (tmp_path / "c.py").write_text("import numpy\nimport telco_analytics.fake.d\n")
    (tmp_path / "d.py").write_text("from telco_analytics.fake import a\n")
    (tmp_path / "__init__.py").write_text("from .c import h\n")
    graph = _import_graph(tmp_path, "telco_analytics.fake")
    assert graph == {"a": {"b", "c"}, "b": {"a"}, "c": {"d"}, "d": {"a"}, "__init__": {"c"}}
    assert _cycle(graph) == ["a", "b", "a"]
    assert _cycle({**graph, "b": set()}) == ["c", "d", "a", "c"]  # found from __init__
    assert _cycle({**graph, "b": set(), "d": set()}) == []


def test_synth_modules_import_no_cycle():
    graph = _import_graph(PACKAGE / "synth", "telco_analytics.synth")
    assert graph["curves"] >= {"fitcache", "quantiles"}  # the graph is the real one
    assert _cycle(graph) == []
