"""The HTML report: parses, has the TOC and every section, fetches nothing from the network;
table cells formatted with units. On a tiny run folder built in code."""

from __future__ import annotations

import re

import pandas as pd
from bs4 import BeautifulSoup

from telco_analytics.narrative.records import Finding
from telco_analytics.narrative.select import key_findings
from telco_analytics.report.build import build_report, load_run
from telco_analytics.report.formatting import format_table, format_value, unit_of
from telco_analytics.report.html import SECTIONS, report_html
from tests.unit.test_slides import tiny_run

EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


def external_fetches(soup: BeautifulSoup) -> list[str]:
    """Every src/href that would reach the network, and every CSS import of a URL."""
    found = []
    for tag in soup.find_all(True):
        for attr in ("src", "href", "data", "poster", "srcset"):
            value = tag.get(attr)
            if isinstance(value, str) and EXTERNAL.match(value):
                found.append(f"<{tag.name} {attr}={value}>")
    for style in soup.find_all("style"):
        # url(...) covers @import url(...); a bare @import "..." is checked on its own
        found += re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)'\"]+", style.text)
        found += re.findall(r"@import\s+['\"](?:https?:)?//[^'\"]+", style.text)
    return found


def test_report_has_toc_every_section_and_no_external_fetch(tmp_path):
    html = report_html(load_run(tiny_run(tmp_path)))
    soup = BeautifulSoup(html, "html.parser")
    toc = soup.find("nav", class_="toc")
    assert toc is not None
    targets = [a["href"] for a in toc.find_all("a")]
    assert targets == [f"#{key}" for key, _ in SECTIONS]
    for key, title in SECTIONS:
        section = soup.find("section", id=key)
        assert section is not None, key
        assert section.find("h2").get_text() == title
    assert external_fetches(soup) == []


def test_external_fetch_check_can_fail():
    soup = BeautifulSoup('<img src="https://x.org/a.png"><link href="//cdn/x.css">'
                         "<style>@import url(http://x.org/s.css); @import 'https://y.org/t.css';</style>",
                         "html.parser")
    assert len(external_fetches(soup)) == 4


def test_findings_go_to_their_section_and_png_is_embedded(tmp_path):
    run = tiny_run(tmp_path)
    soup = BeautifulSoup(report_html(load_run(run)), "html.parser")
    satisfaction = soup.find("section", id="satisfaction")
    assert "Huawei B528S-23A" in satisfaction.find(class_="findings").get_text()
    # the handsets finding is shown in the overview section
    assert "home router" in soup.find("section", id="overview").get_text()
    images = [img["src"] for img in soup.find_all("img")]
    assert images and all(src.startswith("data:image/png;base64,") for src in images)


def test_missing_tracking_is_said_not_fatal(tmp_path):
    soup = BeautifulSoup(report_html(load_run(tiny_run(tmp_path))), "html.parser")
    assert "tracking/runs.csv" in soup.find("section", id="tracking").get_text()


def test_tracking_runs_table_shown_when_present(tmp_path):
    run = tiny_run(tmp_path)
    (run / "tracking").mkdir()
    pd.DataFrame({"run_id": ["r1" * 10, "r2" * 10], "start": ["2026-01-01", "2026-01-02"],
                  "duration_s": [20.0, 21.5], "metrics.test_r2": [0.9, 0.95]}
                 ).to_csv(run / "tracking" / "runs.csv", index=False)
    section = BeautifulSoup(report_html(load_run(run)), "html.parser").find("section",
                                                                             id="tracking")
    text = section.get_text()
    assert "0.95" in text and "r2r2r2r2r2" in text


def test_build_report_html_only(tmp_path):
    run = tiny_run(tmp_path)
    assert build_report(run, slides=False) == {"html": run / "report.html"}
    assert not (run / "slides.pptx").exists()
    assert (run / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_key_findings_priority_first_spread_over_sections():
    items = [Finding("a.one", "a", "executive", "a1", priority=1),
             Finding("a.two", "a", "executive", "a2", priority=1),
             Finding("b.one", "b", "executive", "b1", priority=2),
             Finding("c.one", "c", "executive", "c1", priority=1)]
    assert [i.text for i in key_findings(items, 3)] == ["a1", "c1", "a2"]


def test_units_from_column_names():
    assert unit_of("total_bytes") == "bytes"
    assert unit_of("total_bytes_share") == "share"
    assert unit_of("duration_ms_mean") == "duration_ms"
    assert unit_of("rtt_ms_mean") == "ms"
    assert unit_of("throughput_kbps") == "kbps"
    assert unit_of("users") == "count"
    assert unit_of("missing_pct") == "percent"


def test_cell_formats():
    assert format_value(1_234_567, "bytes") == "1.23 MB"
    assert format_value(7_200_000, "duration_ms") == "2.0 h"
    assert format_value(12_345, "count") == "12,345"
    assert format_value(0.125, "share") == "12.5%"
    assert format_value(31.25, "ms") == "31.2 ms"
    assert format_value(float("nan"), "bytes") == ""


def test_long_table_takes_each_rows_unit():
    df = pd.DataFrame({"metric": ["total_bytes", "duration_ms", "sessions"], "rank": [1, 1, 1],
                       "msisdn": ["336", "337", "338"], "value": [2e9, 3_600_000, 18]})
    out = format_table(df, row_unit="metric")
    assert out["value"].tolist() == ["2.00 GB", "1.0 h", "18"]
    assert out["msisdn"].tolist() == ["336", "337", "338"]  # identifiers shown as they are
    assert df["value"].tolist() == [2e9, 3_600_000, 18]  # input untouched
