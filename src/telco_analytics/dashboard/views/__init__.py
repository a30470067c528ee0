"""The dashboard's pages, one function per page, each taking the run folder.

Named `views` rather than `pages`: Streamlit treats a `pages/` folder next to the main script
as its legacy multipage app and would list these modules in the sidebar.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .engagement import engagement_page
from .experience import experience_page
from .lookup import lookup_page
from .model import model_page
from .network import network_page
from .overview import overview_page
from .satisfaction import satisfaction_page
from .tables import tables_page

# url slug -> (menu label, page); the order is the menu's
PAGES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "overview": ("Overview", overview_page),
    "engagement": ("Engagement", engagement_page),
    "experience": ("Experience", experience_page),
    "network": ("Network", network_page),
    "satisfaction": ("Satisfaction", satisfaction_page),
    "model": ("Model", model_page),
    "lookup": ("Customer lookup", lookup_page),
    "tables": ("Tables", tables_page),
}
