"""Which charts the run renders to PNG (only those the slides place) and the names the figure
modules restate instead of importing scikit-learn with analysis.overview."""

from __future__ import annotations

import importlib

from telco_analytics.analysis import overview as analysis_overview
from telco_analytics.report.figures import SLIDE_FIGURES
from telco_analytics.report.figures import overview as figures_overview


def _slide_specs() -> list[object]:
    """Every slide spec the deck module exposes (old report/slides.py or report/deck/)."""
    specs = []
    for name in ("telco_analytics.report.slides", "telco_analytics.report.deck"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for value in vars(module).values():
            if isinstance(value, tuple | list):
                specs += [v for v in value if hasattr(v, "stems")]
    return specs


def test_every_figure_a_slide_names_is_rendered():
    specs = _slide_specs()
    assert specs, "no slide specs found: the deck module changed shape"
    # a slide shows the first of its figures that the run rendered
    shown = {spec.stems[0] for spec in specs if spec.stems}
    assert shown and shown <= set(SLIDE_FIGURES), sorted(shown - set(SLIDE_FIGURES))
    # the model and tracking slides' figures, named outside the specs in the older deck
    assert {"regression_metrics", "loss_curve"} <= set(SLIDE_FIGURES)


def test_restated_names_equal_the_analysis_ones():
    assert figures_overview.PCA_VARIABLES == analysis_overview.PCA_VARIABLES
    assert figures_overview.app_bytes_column("youtube") == \
        analysis_overview.app_bytes_column("youtube")
    import pandas as pd

    df = pd.DataFrame({"msisdn": ["1"], "a": [1.0], "b": ["x"], "c": [2]})
    assert figures_overview.quantitative_columns(df) == \
        analysis_overview.quantitative_columns(df)


def test_report_figures_do_not_import_scikit_learn():
    import subprocess
    import sys

    code = ("import sys, telco_analytics.report.charts as c; c._figure_builders(); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
