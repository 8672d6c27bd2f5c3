"""The selection shared by every page (data source, exchange, coin, timeframe, lookback) and the
source/age badge, in the sidebar."""

from __future__ import annotations

import streamlit as st

from core.constants import LOOKBACKS, SYMBOLS, TIMEFRAMES
from core.data.bundled import BUNDLED
from core.viewstate import EXCHANGE_CHOICES, LIVE, SOURCE_CHOICES, UPLOAD
from ui.data import exchange_label
from ui.state import KEYS, limit_window


def source_label(src: str) -> str:
    """What the data-source box shows for each choice."""
    if src == LIVE:
        return "Live exchange data"
    if src == UPLOAD:
        return "Uploaded files"
    return f"Sample: {BUNDLED[src].title}"


def market_sidebar() -> None:
    """The shared market selection (its widgets are bound to ``ui.state.VIEW``)."""
    with st.sidebar:
        st.markdown("### Market")
        st.selectbox("Data source", SOURCE_CHOICES, key=KEYS["src"], format_func=source_label,
                     help="Live data comes from the exchange's public API; if it fails, the app shows the last "
                          "good data (with its age) or the bundled sample. Samples are real recorded data.")
        bundled = st.session_state[KEYS["src"]] in BUNDLED
        st.selectbox("Exchange", EXCHANGE_CHOICES, key=KEYS["ex"], format_func=exchange_label,
                     disabled=bundled, help="'All exchanges' sums Binance, Bybit and OKX on one price axis.")
        st.selectbox("Coin", SYMBOLS, key=KEYS["sym"], format_func=lambda s: s.split("/")[0] + " perpetual (USDT)",
                     disabled=bundled)
        left, right = st.columns(2)
        left.selectbox("Timeframe", tuple(TIMEFRAMES), key=KEYS["tf"], on_change=limit_window)
        right.selectbox("Lookback", tuple(LOOKBACKS), key=KEYS["lb"], on_change=limit_window)
        st.slider("Model memory (days before the window)", 0, 30, key=KEYS["mem"],
                  help="The model also runs on this much history before the window, so positions opened earlier "
                       "are on the map and its left edge is not empty; only the window is drawn. Live data fetches "
                       "it at 1h for finer timeframes; samples use what they hold and say so. 0: no memory.")
