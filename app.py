"""Crypto liquidation heatmap: entry point, navigation and the shared sidebar.

Run with ``streamlit run app.py``. Pages live in app_pages/; the logic lives in core/ (pure Python).
"""

from __future__ import annotations

import streamlit as st

from core.constants import LOOKBACKS, SYMBOLS, TIMEFRAMES
from core.data.bundled import BUNDLED
from core.viewstate import EXCHANGE_CHOICES, LIVE, SOURCE_CHOICES, UPLOAD
from ui import state
from ui.badges import fallback_notice, source_badge
from ui.data import exchange_label, load_view
from ui.guard import run_page

st.set_page_config(page_title="Liquidation heatmap", page_icon=":material/local_fire_department:", layout="wide")

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


def source_label(src: str) -> str:
    """What the data-source box shows for each choice."""
    if src == LIVE:
        return "Live exchange data"
    if src == UPLOAD:
        return "Uploaded files"
    return f"Sample: {BUNDLED[src].title}"


def sidebar() -> None:
    """The selection shared by every page: data source, exchange, symbol, timeframe, lookback."""
    with st.sidebar:
        st.markdown("### Market")
        st.selectbox("Data source", SOURCE_CHOICES, key=state.KEYS["src"], format_func=source_label,
                     help="Live data comes from the exchange's public API; if it fails, the app shows the last "
                          "good data (with its age) or the bundled sample. Samples are real recorded data.")
        bundled = st.session_state[state.KEYS["src"]] in BUNDLED
        st.selectbox("Exchange", EXCHANGE_CHOICES, key=state.KEYS["ex"], format_func=exchange_label,
                      disabled=bundled, help="'All exchanges' sums Binance, Bybit and OKX on one price axis.")
        st.selectbox("Coin", SYMBOLS, key=state.KEYS["sym"], format_func=lambda s: s.split("/")[0] + " perpetual (USDT)",
                     disabled=bundled)
        left, right = st.columns(2)
        left.selectbox("Timeframe", tuple(TIMEFRAMES), key=state.KEYS["tf"], on_change=state.limit_window)
        right.selectbox("Lookback", tuple(LOOKBACKS), key=state.KEYS["lb"], on_change=state.limit_window)


state.init_from_url()
state.restore_widgets()
sidebar()
navigation = st.navigation(PAGES)
view = state.current_view()
loaded = load_view(view)
st.session_state["_loaded"] = loaded
with st.sidebar:
    source_badge(loaded)
fallback_notice(view, loaded)
state.sync_url(view)
state.show_url_notices()
run_page(navigation)
