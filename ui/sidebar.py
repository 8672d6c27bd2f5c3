"""The selection shared by every page (data source, exchange, coin, timeframe, lookback) and the
source/age badge, in the sidebar."""

from __future__ import annotations

import streamlit as st

from core.constants import EXCHANGES, LOOKBACKS, TIMEFRAMES
from core.data.bundled import BUNDLED
from core.data.coins import coin_name
from core.viewstate import EXCHANGE_CHOICES, LIVE, SOURCE_CHOICES, UPLOAD, View
from ui.cache import coin_list
from ui.data import exchange_label
from ui.state import KEYS, VIEW, limit_window

COIN_LIST_EXCHANGE = "binanceusdm"  # whose coins the all-exchanges view offers


def source_label(src: str) -> str:
    """What the data-source box shows for each choice."""
    if src == LIVE:
        return "Live exchange data"
    if src == UPLOAD:
        return "Uploaded files"
    return f"Sample: {BUNDLED[src].title}"


def _keep_listed(coins: tuple[str, ...], exchange: str) -> None:
    """Before the coin box is drawn: a coin the exchange does not list becomes BTC (or its busiest)."""
    sym = st.session_state[KEYS["sym"]]
    if sym in coins:
        return
    fallback = View().sym if View().sym in coins else coins[0]
    st.session_state[KEYS["sym"]] = fallback
    VIEW.add_notice(f"{exchange_label(exchange)} does not list {coin_name(sym)}: showing {coin_name(fallback)}.")


def _live_market() -> None:
    """Exchange and coin boxes (live data only: the coins are the exchange's, busiest first)."""
    st.selectbox("Exchange", EXCHANGE_CHOICES, key=KEYS["ex"], format_func=exchange_label,
                 help="'All exchanges' sums Binance, Bybit and OKX on one price axis.")
    exchange = st.session_state[KEYS["ex"]]
    listing = exchange if exchange in EXCHANGES else COIN_LIST_EXCHANGE
    coins, note = coin_list(listing)
    _keep_listed(coins, listing)
    where = exchange_label(listing)
    st.selectbox("Coin", coins, key=KEYS["sym"], format_func=lambda s: f"{coin_name(s)} perpetual (USDT)",
                 help=(f"Only the app's usual coins: {note}." if note else
                       f"Every USDT perpetual {where} lists, busiest (24 h traded value) first; type to search."))


def market_sidebar() -> None:
    """The shared market selection (its widgets are bound to ``ui.state.VIEW``)."""
    with st.sidebar:
        st.markdown("### Market")
        st.selectbox("Data source", SOURCE_CHOICES, key=KEYS["src"], format_func=source_label,
                     help="Live data comes from the exchange's public API; if it fails, the app shows the last "
                          "good data (with its age) or a recorded sample. Samples are real recorded data.")
        src = st.session_state[KEYS["src"]]
        if src == LIVE:
            _live_market()
        elif src in BUNDLED:
            st.caption(f"Recorded data: {BUNDLED[src].recorded}.")
        else:
            st.caption("The exchange and coin of your files (see *Import & accuracy*).")
        left, right = st.columns(2)
        left.selectbox("Timeframe", tuple(TIMEFRAMES), key=KEYS["tf"], on_change=limit_window)
        right.selectbox("Lookback", tuple(LOOKBACKS), key=KEYS["lb"], on_change=limit_window)
        st.slider("Model memory (days before the window)", 0, 30, key=KEYS["mem"],
                  help="The model also runs on this much history before the window, so positions opened earlier "
                       "are on the map and its left edge is not empty; only the window is drawn. Live data fetches "
                       "it at 1h for finer timeframes; samples use what they hold and say so. 0: no memory.")
