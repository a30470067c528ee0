"""Findings are records addressed by topic: they survive a JSON trip, records of older runs load
without a topic, and the slides, the report and the dashboard choose them by key, never by
wording (a reworded finding stays on its slide; an absent topic leaves its slide without it)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pptx import Presentation

from telco_analytics.narrative import select
from telco_analytics.narrative.records import (
    Evidence,
    Finding,
    finding,
    findings_from_json,
    read_findings,
)
from telco_analytics.narrative.topics import AUDIENCES, TOPICS, section_of
from telco_analytics.report.build import load_run
from telco_analytics.report.html import report_html
from telco_analytics.report.slides import (
    MODEL_QUALITY_TOPICS,
    TOPIC_SLIDES,
    TRACKING_TOPICS,
    recommendations_table,
    slides_pptx,
)
from tests.unit.test_slides import tiny_run

SECTIONS = {"handsets", "overview", "engagement", "experience", "satisfaction", "summary"}
UNRELATED = "Zebra lettuce orbits a quiet violin"


def _insights(run: Path) -> list[dict]:
    return json.loads((run / "tables" / "insights.json").read_text())


def _rewrite(run: Path, items: list[dict]) -> None:
    (run / "tables" / "insights.json").write_text(json.dumps(items))


def _slide_text(pptx: bytes, key: str) -> str:
    """Every bullet and note of the slide with this key (titles state a run's numbers), as one
    string: a finding whose bullet did not fit is in the notes."""
    prs = Presentation(io.BytesIO(pptx))
    for slide in prs.slides:
        if slide.name == key:
            bullets = {s.name: s for s in slide.shapes}.get("Bullets")
            notes = slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
            return (bullets.text_frame.text if bullets is not None else "") + "\n" + notes
    raise AssertionError(f"no slide with key {key!r}")


# ---------------------------------------------------------------- the record


def test_record_survives_a_json_trip():
    item = finding("engagement.heavy_users", "The ten heaviest users ...",
                   action="The ten heaviest users are candidates for premium plans.",
                   evidence=[Evidence("engagement_top10", {"metric": "total_bytes", "rank": 1},
                                      {"value": 5.9e9})],
                   numbers={"max_total_bytes": 5.9e9})
    assert (item.section, item.audience) == ("engagement", TOPICS["engagement.heavy_users"])
    back = findings_from_json(json.loads(json.dumps([item.as_dict()])))
    assert back == [item]


def test_record_refuses_a_topic_of_another_section_or_an_unknown_audience():
    with pytest.raises(ValueError, match="section"):
        Finding("overview.app_traffic", "engagement", "network", "text")
    with pytest.raises(ValueError, match="audience"):
        Finding("overview.app_traffic", "overview", "everyone", "text")
    with pytest.raises(KeyError):  # a topic must be registered before the narrative writes it
        finding("overview.not_a_topic", "text")


def test_registry_topics_are_namespaced_with_valid_audiences():
    assert all(section_of(t) in SECTIONS and t.count(".") == 1 for t in TOPICS)
    assert set(TOPICS.values()) <= set(AUDIENCES)


def test_slides_ask_only_for_registered_topics():
    asked = [t for spec in TOPIC_SLIDES for t in spec.topics]
    asked += [*MODEL_QUALITY_TOPICS, *TRACKING_TOPICS]
    assert sorted(set(asked) - set(TOPICS)) == []
    assert len(asked) == len(set(asked))  # a finding is shown on one topic slide at most


def test_records_of_an_older_run_load_without_a_topic(tmp_path):
    path = tmp_path / "insights.json"
    path.write_text(json.dumps([{"section": "engagement", "text": "Old sentence that should "
                                 "target offers.", "numbers": {"x": 1}, "priority": 1}]))
    (old,) = read_findings(path)
    assert (old.topic, old.audience, old.action, old.numbers) == (None, None, None, {"x": 1})
    # shown in its section list only: nothing is guessed from its wording
    assert select.for_section([old], "engagement") == [old]
    assert select.key_findings([old]) == [] and select.actions([old]) == []
    assert read_findings(tmp_path / "absent.json") == []


# ---------------------------------------------------------------- selection by key


def test_by_topic_and_for_topics_never_fall_back():
    a = finding("overview.app_traffic", "a", priority=1)
    b = finding("overview.typical_user", "b")
    assert select.by_topic([a, b], "overview.typical_user") is b
    assert select.by_topic([a], "overview.typical_user") is None
    assert select.for_topics([a, b], ["overview.typical_user", "overview.pca_components",
                                      "overview.app_traffic"]) == [b, a]


def test_actions_are_the_findings_that_carry_one_most_important_first():
    plain = finding("overview.typical_user", "no action", priority=1)
    later = finding("engagement.heavy_users", "h", action="Heavy users get plans.", priority=2)
    first = finding("overview.app_traffic", "t", action="Capacity follows apps.", priority=1)
    assert select.actions([plain, later, first]) == [first, later]
    assert select.actions([plain, later, first], 1) == [first]


def test_a_reworded_finding_stays_on_its_slide(tmp_path):
    run = tiny_run(tmp_path)
    items = _insights(run)
    target = next(i for i in items if i["topic"] == "engagement.most_engaged_cluster")
    target["text"], target["action"] = f"{UNRELATED}.", "Nobody needs to do anything here."
    _rewrite(run, items)
    deck = slides_pptx(load_run(run))
    shown = _slide_text(deck, "engagement_segments")
    assert UNRELATED in shown and "Nobody needs to do anything here." in shown
    assert UNRELATED not in _slide_text(deck, "experience_clusters")


def test_an_absent_topic_leaves_its_slide_without_another_finding(tmp_path):
    run = tiny_run(tmp_path)
    items = _insights(run)
    # every other finding says something distinctive: none may appear on the emptied slide
    for n, item in enumerate(items):
        item["text"] = f"Finding number {n} of {item['topic']}."
    _rewrite(run, [i for i in items if i["topic"] != "experience.worst_cluster"])
    deck = slides_pptx(load_run(run))
    assert "Finding number" not in _slide_text(deck, "experience_clusters")
    engaged = _slide_text(deck, "engagement_segments")
    assert "engagement.most_engaged_cluster" in engaged
    assert "engagement.least_engaged_cluster" in engaged


def test_recommendations_come_from_actions_with_their_audience(tmp_path):
    run = tiny_run(tmp_path)
    items = _insights(run)
    for item in items:
        item["action"] = None
    items[0]["action"] = "Only this action is recommended."
    _rewrite(run, items)
    table = recommendations_table(load_run(run))
    assert table["Recommendation"].tolist() == ["Only this action is recommended."]
    assert table["For"].tolist() == [items[0]["audience"].capitalize()]


def test_report_lists_findings_by_section_and_summary_by_topic(tmp_path):
    run = tiny_run(tmp_path)
    items = _insights(run)
    items.append({"section": "experience", "text": f"{UNRELATED} (an older run's record).",
                  "numbers": {}, "priority": 1})
    target = next(i for i in items if i.get("topic") == "satisfaction.satisfied_group")
    target["text"] = "Satisfied group, reworded."
    _rewrite(run, items)
    soup = BeautifulSoup(report_html(load_run(run)), "html.parser")
    summary = soup.find(class_="findings").get_text()
    assert "Satisfied group, reworded." in summary and UNRELATED not in summary
    experience = soup.find("section", id="experience").find(class_="findings").get_text()
    assert UNRELATED in experience
    satisfaction = soup.find("section", id="satisfaction").find(class_="findings")
    assert satisfaction.find(class_="action").get_text() == target["action"]


def test_dashboard_shows_a_pages_sections_with_their_actions(tmp_path, monkeypatch):
    from telco_analytics.dashboard.views import common

    run = tiny_run(tmp_path)
    items = _insights(run)
    for item in items:
        item["text"] = f"Text of {item['topic']}."
    _rewrite(run, items)
    shown: list[str] = []
    monkeypatch.setattr(common.st, "info", lambda body, **_: shown.append(body))
    common.findings(run, "handsets", "overview")
    (box,) = shown
    lines = box.split("\n\n")
    # the two sections' findings, most important first, each with its action in bold
    assert [line.split(".")[0] for line in lines] == ["- Text of handsets", "- Text of overview"]
    assert all(line.endswith(f"**{items[0]['action']}**") for line in lines)
