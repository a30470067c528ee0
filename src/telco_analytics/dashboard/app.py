"""The Streamlit dashboard over one run folder (read-only: it never recomputes the pipeline).

Run it with `telco dashboard DIR`, or `streamlit run app.py -- --run DIR`, or with the run
folder in the environment variable TELCO_RUN_DIR. The page is chosen in the menu at the top and
kept in the URL (`?page=engagement`), so a page can be bookmarked or opened directly.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import streamlit as st

from telco_analytics.dashboard import data
from telco_analytics.dashboard.views import PAGES

log = logging.getLogger("telco_analytics.dashboard")
PAGE_PARAM = "page"


def _chosen_page() -> str:
    """The page slug from the menu; the URL's ?page= seeds it when a session starts.

    The menu is a row at the top rather than the sidebar: the report's charts are drawn at a
    fixed width (640 px and more) and a sidebar would leave too little room for them.
    """
    slugs = list(PAGES)
    if PAGE_PARAM not in st.session_state:
        wanted = st.query_params.get(PAGE_PARAM, slugs[0])
        st.session_state[PAGE_PARAM] = wanted if wanted in PAGES else slugs[0]
    slug = st.radio("Page", slugs, key=PAGE_PARAM, horizontal=True,
                    label_visibility="collapsed", format_func=lambda s: PAGES[s][0])
    st.query_params[PAGE_PARAM] = slug
    return slug


def _run_summary(run_dir: Path) -> None:
    """Which run is shown, one line under the menu."""
    manifest = data.manifest(run_dir)
    started = str(manifest.get("started_at", "?"))[:19].replace("T", " ")
    parts = [f"Run `{run_dir}`", f"started {started} UTC"]
    users = manifest.get("rows", {}).get("users")
    if users is not None:
        parts.append(f"{users:,} users")
    if data.is_pseudonymized(run_dir):
        parts.append("MSISDNs pseudonymized (keyed HMAC)")
    st.caption(" · ".join(parts))


def main() -> None:
    st.set_page_config(page_title="telco-analytics dashboard", page_icon=":material/insights:",
                       layout="wide", initial_sidebar_state="collapsed")
    run_dir = data.run_dir_from(sys.argv[1:], os.environ)
    problem = data.run_problem(run_dir)
    if problem is not None:
        st.title("telco-analytics dashboard")
        st.error(f"{problem} {data.HOW_TO_RUN}")
        return
    assert run_dir is not None  # run_problem returned None: the folder is a run
    run_dir = run_dir.resolve()
    slug = _chosen_page()
    _run_summary(run_dir)
    log.debug("page %s of %s", slug, run_dir)
    PAGES[slug][1](run_dir)


main()
