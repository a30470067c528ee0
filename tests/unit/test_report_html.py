"""The HTML report: parses, has the TOC and every section, fetches nothing from the network;
table cells formatted with units. On a tiny run folder built in code."""

from __future__ import annotations

import re

import pandas as pd
from bs4 import BeautifulSoup

from telco_analytics.narrative.records import Finding
from telco_analytics.narrative.select import key_findings
from telco_analytics.report.build import build_report, load_run
from telco_analytics.report.formatting import (
    format_distinct,
    format_number,
    format_table,
    format_value,
    header_label,
    plain_words,
    unit_of,
)
from telco_analytics.report.html import SECTIONS, report_html, table_html
from telco_analytics.report.web.analysis import values_table
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


def test_report_leads_with_summary_and_findings_then_analyses_then_appendix(tmp_path):
    soup = BeautifulSoup(report_html(load_run(tiny_run(tmp_path))), "html.parser")
    ids = [s["id"] for s in soup.find_all("section")]
    assert ids[:6] == ["summary", "findings", "overview", "engagement", "experience",
                       "satisfaction"]
    appendix = [t.get_text() for t in soup.find_all("h2")][6:]
    assert appendix and all(t.startswith("Appendix") for t in appendix)
    assert soup.find("section", id="findings").find(class_="findings") is not None


def test_no_rule_numbers_in_reader_facing_text():
    assert plain_words("artifact rows are dropped everywhere (SPEC rule 1)") == \
        "artifact rows are dropped everywhere"
    assert plain_words("beside the SPEC clustering, the same k-means") == \
        "beside the clustering on the raw metrics, the same k-means"
    assert "SPEC" not in plain_words("Ranked as SPEC rules 8-10 say; see SPEC section 4 rule 5")


def test_headers_say_what_the_cells_show():
    # the cells of duration_ms are in h/min/s: a header saying "ms" would be wrong
    assert header_label("duration_ms_mean") == "Duration mean"
    assert header_label("rtt_ms_mean") == "RTT mean"
    assert header_label("total_bytes") == "Total volume"
    assert header_label("share_of_known") == "Share of known"
    assert unit_of("share_of_known") == "share"


def test_distinct_values_never_read_the_same():
    values = [30_741.0, 30_744.0, 30_741.0, 1_000_000.0]
    texts = format_distinct(values, ["bytes"] * 4)
    assert texts[0] != texts[1] and texts[0] == texts[2]
    assert texts == ["30.741 kB", "30.744 kB", "30.741 kB", "1.00 MB"]  # only clashes change
    assert format_distinct([1.0, 2.0], ["bytes"] * 2) == ["1 B", "2 B"]  # nothing to add


def test_numbers_never_in_scientific_notation():
    assert format_number(2.88e-06) == "0.00000288"
    assert format_number(4.93e17) == "493,000,000,000,000,000"
    assert format_number(0.8444) == "0.844"
    assert format_number(12.3456) == "12.35"


def test_rank_cells_carry_their_number_and_tables_sort_by_it(tmp_path):
    df = pd.DataFrame({"rank": [1, 2, 10], "handset": ["a", "b", "c"], "users": [5, 4, 1]})
    soup = BeautifulSoup(table_html(df), "html.parser")
    assert "sortable" in soup.find("table")["class"]
    ranks = [td["data-v"] for td in soup.select("tbody td:nth-of-type(1)")]
    assert [float(r) for r in ranks] == [1.0, 2.0, 10.0]
    assert [th.get_text() for th in soup.find_all("th")] == ["Rank", "Handset", "Users"]


def test_experience_values_ranked_as_numbers_with_distinct_frequent_values():
    rows = []
    for rank in range(1, 11):
        rows += [("tcp_retrans_bytes", "top", rank, 1e6 * (11 - rank), 1),
                 ("tcp_retrans_bytes", "bottom", rank, 100.0 * rank, 1),
                 ("tcp_retrans_bytes", "frequent", rank, 30_740.0 + rank, 100 - rank)]
    values = pd.DataFrame(rows, columns=["metric", "kind", "rank", "value", "count"])
    soup = BeautifulSoup(values_table("tcp_retrans_bytes", values), "html.parser")
    assert [int(td.get_text()) for td in soup.select("tbody td:nth-of-type(1)")] == \
        list(range(1, 11))
    frequent = [td.get_text() for td in soup.select("tbody td:nth-of-type(4)")]
    assert len(set(frequent)) == 10 and "30.741 kB (99 users)" == frequent[0]
