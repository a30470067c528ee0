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
        "io", "engine", "pipeline", "cli", "tracking", "serve", "dashboard", "report"))
    assert _offenders(core, forbidden + ("mlflow", "duckdb", "pyspark", "streamlit")) == []


def test_only_engine_names_the_engines_and_only_tracking_imports_mlflow():
    everything = _modules(".")
    others = [p for p in everything if p.name != "engine.py"]
    assert _offenders(others, ("duckdb", "pyspark")) == []
    not_tracking = [p for p in everything if p.name != "tracking.py"]
    assert _offenders(not_tracking, ("mlflow",)) == []


def test_report_and_shells_do_not_recompute_the_pipeline():
    shells = _modules("report", "dashboard", "serve")
    assert _offenders(shells, ("telco_analytics.pipeline", "telco_analytics.cli",
                               "telco_analytics.engine")) == []
