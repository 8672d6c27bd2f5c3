"""Crypto liquidation heatmap: entry point and navigation.

Run with ``streamlit run app.py``. Pages live in app_pages/, their sections in ui/sections/, the
Streamlit plumbing in ui/ and the logic in core/ (pure Python).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.badges import fallback_notice, source_badge
from ui.context import publish
from ui.data import load_view
from ui.guard import run_page
from ui.layout import fit_charts
from ui.sections import assumptions
from ui.sidebar import market_sidebar
from ui.state import MODEL, VIEW

# A local icon: an emoji or material icon would be fetched from a CDN / font host by the browser.
FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"
st.set_page_config(page_title="Liquidation heatmap", page_icon=str(FAVICON), layout="wide")

# The pages folder is app_pages/, not pages/: Streamlit treats an app with a pages/ folder as an
# old-style multipage app on a server's first run and on AppTest reruns, and then runs the linked
# page file on its own, without this entry script (no sidebar, no data).
PAGES = [
    st.Page("app_pages/heatmap.py", title="Heatmap", icon=":material/grid_on:", default=True),
    st.Page("app_pages/replay.py", title="Cascade replay", icon=":material/replay:", url_path="replay"),
    st.Page("app_pages/sensitivity.py", title="Leverage sensitivity", icon=":material/tune:", url_path="sensitivity"),
    st.Page("app_pages/accuracy.py", title="Import & accuracy", icon=":material/fact_check:", url_path="accuracy"),
    st.Page("app_pages/how_it_works.py", title="How it works", icon=":material/menu_book:", url_path="how_it_works"),
]

fit_charts()  # on a phone, charts wider than the screen shrink to fit it (every page)
VIEW.seed_from_url()
VIEW.restore()
market_sidebar()
navigation = st.navigation(PAGES)
view = VIEW.current()
loaded = load_view(view)
publish(loaded)
with st.sidebar:
    source_badge(loaded)
    assumptions.editor(loaded.primary, expanded=navigation.url_path == "sensitivity")
fallback_notice(view, loaded)
VIEW.sync_url(view)
MODEL.sync_url(MODEL.current())
VIEW.show_notices()
MODEL.show_notices()
run_page(navigation)
