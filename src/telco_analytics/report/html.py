"""The self-contained HTML report of a run: what matters first (executive summary, key
findings), then the four analyses, then the appendix (data, cleaning, definitions, parameters,
tracking, database).

Self-contained means it opens offline: the Vega, Vega-Lite and vega-embed scripts are inlined
once (vl_convert's bundle), each chart is its Vega-Lite spec in a JSON script tag, images are
base64 data URIs, the style sheet is inline. Nothing is fetched from the network. The pieces
live in `report.web`: assets (style, scripts), tables, page (figures), analysis, appendix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..narrative import select
from .formatting import format_value, plain_words
from .web import analysis, appendix
from .web.assets import CSS, LOADER_JS, SORT_JS, vega_bundle
from .web.page import Page
from .web.tables import esc, finding_item, findings_html, table_html, text_table_html

if TYPE_CHECKING:
    from .run_data import RunData

__all__ = ["SECTIONS", "report_html", "table_html", "text_table_html", "vega_bundle"]

# sections that start a printed page: each analysis and the appendix
NEW_PAGE = {"overview", "engagement", "experience", "satisfaction", "dictionary"}
KEY_FINDINGS = 6  # the key findings when a run has no executive summary record


def _summary_section(page: Page) -> str:
    """The executive summary record as a reader takes it in: what matters most, in order, with
    how many users and how large a gap; what to do first; the ranking rule last."""
    from ..narrative.summary import QUESTIONS

    record = select.by_topic(page.data.insights, select.EXECUTIVE)
    if record is None:
        return ('<p class="note">This run has no executive summary record; its key findings '
                "follow.</p>")
    chosen = select.executive_summary(page.data.insights)
    items = []
    for item in chosen:
        name = QUESTIONS.get(item.topic or "", ("", ""))[1] or \
            (item.topic or item.section).split(".")[-1].replace("_", " ")
        facts = []
        if item.users_affected:
            facts.append(f"{item.users_affected:,} users")
        if item.effect_size:
            facts.append(f"gap to the typical user {abs(item.effect_size):.0%}")
        detail = f" ({', '.join(facts)})" if facts else ""
        items.append(f"<li>{esc(name[:1].upper() + name[1:])}{esc(detail)}</li>")
    if not items:  # an older record: its own words
        return f'<p class="summary">{esc(plain_words(record.text))}</p>'
    first = next((f for f in chosen if f.action), None)
    todo = (f'<p class="summary"><strong>To do first:</strong> {esc(plain_words(first.action))}'
            "</p>") if first else ""
    rule = record.numbers.get("rule")
    note = (f'<p class="note">How the list is ordered: {esc(rule)}. The gap is the finding\'s '
            "key number against the typical user's.</p>" if rule else "")
    return (f'<div class="summary"><p><strong>What matters most for growth</strong>, most '
            f"important first:</p><ol>{''.join(items)}</ol></div>{todo}{note}")


def _findings_section(page: Page) -> str:
    """The findings the summary chose (or the most important ones), each with its action."""
    chosen = select.executive_summary(page.data.insights) or \
        select.key_findings(page.data.insights, KEY_FINDINGS)
    actions = [f for f in select.actions(page.data.insights) if f not in chosen][:3]
    parts = [findings_html(chosen, "What the data says")]
    if actions:
        lis = "".join(finding_item(f) for f in actions)
        parts.append(f'<div class="findings"><strong>Other recommended actions</strong>'
                     f"<ul>{lis}</ul></div>")
    return "".join(parts) or '<p class="note">No findings in this run folder.</p>'


def _appendix_tracking(page: Page) -> str:
    return appendix.tracking_section(page)


def _appendix_database(page: Page) -> str:
    # the last section: figures not placed anywhere else follow it
    return appendix.database_section(page) + appendix.other_figures(page)


SECTIONS: list[tuple[str, str]] = [
    ("summary", "Executive summary"),
    ("findings", "Key findings"),
    ("overview", "User overview"),
    ("engagement", "User engagement"),
    ("experience", "User experience"),
    ("satisfaction", "User satisfaction"),
    ("dictionary", "Appendix A: data dictionary"),
    ("cleaning", "Appendix B: data cleaning"),
    ("definitions", "Appendix C: definitions"),
    ("parameters", "Appendix D: parameters and run"),
    ("tracking", "Appendix E: model tracking"),
    ("database", "Appendix F: database export"),
]
BUILDERS: dict[str, Callable[[Page], str]] = {
    "summary": _summary_section, "findings": _findings_section,
    "overview": analysis.overview_section, "engagement": analysis.engagement_section,
    "experience": analysis.experience_section, "satisfaction": analysis.satisfaction_section,
    "dictionary": appendix.dictionary_section, "cleaning": appendix.cleaning_section,
    "definitions": appendix.definitions_section, "parameters": appendix.parameters_section,
    "tracking": _appendix_tracking, "database": _appendix_database,
}


def _header(data: RunData) -> str:
    m = data.manifest
    rows = m.get("rows", {})
    source = m.get("input", {}).get("source", "")
    facts = (f"{format_value(rows.get('sessions'), 'count')} sessions, "
             f"{format_value(rows.get('users'), 'count')} users")
    return (f"<header><h1>TellCo user analytics</h1><p>{esc(facts)} from "
            f"<code>{esc(source)}</code></p><p>Run {esc(m.get('run_id', ''))}, "
            f"{esc(m.get('started_at', '')[:19].replace('T', ' '))} UTC</p></header>")


def report_html(data: RunData) -> str:
    """The whole report as one HTML document (charts interactive, works offline)."""
    page = Page(data)
    toc = "".join(f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title in SECTIONS)
    body = [f'<nav class="toc" id="toc"><strong>Contents</strong><ol>{toc}</ol></nav>']
    for key, title in SECTIONS:
        cls = ' class="new-page"' if key in NEW_PAGE else ""
        body.append(f'<section id="{key}"{cls}><h2>{esc(title)}</h2>{BUILDERS[key](page)}</section>')
    scripts = f"<script>{SORT_JS}</script>"
    if any('class="chart"' in part for part in body):
        scripts += f"<script>{vega_bundle()}</script><script>{LOADER_JS}</script>"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>TellCo user analytics - run {esc(data.manifest.get('run_id', ''))}</title>"
            f"<style>{CSS}</style></head><body>{_header(data)}<main>{''.join(body)}</main>"
            f"{scripts}</body></html>\n")
