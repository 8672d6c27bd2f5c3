"""The data's source and age, always visible, and its notes in plain words."""

from __future__ import annotations

import re

import streamlit as st

from core.data.bundled import BUNDLED
from core.data.market import MarketData
from core.format import format_age
from core.viewstate import LIVE, View
from ui.data import Loaded, exchange_label

BADGES = {
    "live": ("green", "Live"),
    "snapshot": ("orange", "Last good data"),
    "bundled": ("blue", "Recorded data"),
    "upload": ("violet", "Uploaded files"),
}
_SHOWING = re.compile(r"[.;]\s*showing (the bundled sample instead|the last good data from .*)\.?$", re.IGNORECASE)


def recorded_words(market: MarketData) -> str | None:
    """"Binance BTCUSDT perpetual, 4-7 Feb 2026" for a bundled sample (None for other data)."""
    if market.source != "bundled":
        return None
    key = market.data_id.split(":")[1] if market.data_id.startswith("bundled:") else ""
    return BUNDLED[key].recorded if key in BUNDLED else None


def why_not_live(note: str) -> str:
    """The reason of a fallback note without what is shown instead: "Could not reach Binance (no network)"."""
    return _SHOWING.sub("", note).rstrip(". ")


def source_badge(loaded: Loaded) -> None:
    """Source, age and notes of the loaded data (in the sidebar)."""
    market = loaded.primary
    colour, label = BADGES.get(market.source, ("gray", market.source))
    if market.source in ("bundled", "upload"):
        age = f"covers {market.candles.index[0]:%d %b %Y} to {market.candles.index[-1]:%d %b %Y %H:%M} UTC"
    else:
        age = f"fetched {format_age(market.fetched_at)}"
    names = ", ".join(exchange_label(m.exchange) for m in loaded.markets)
    st.markdown(f":{colour}-badge[{label}] &nbsp; {age}", help=f"Markets: {names}")
    if market.provenance:
        st.caption(market.provenance)
    fallback = [n for m in loaded.markets for n in m.notes if n != m.provenance]
    if fallback:
        with st.expander("Data notes", expanded=market.source in ("snapshot",)):
            for note in dict.fromkeys(fallback):
                st.caption(note)


def missing_words(missing: tuple[str, ...]) -> str:
    """The reasons an all-exchanges view left exchanges out, in one line ("OKX is not answering
    properly (HTTP 503); Bybit took too long to answer"); each reason names its exchange."""
    parts = [m.split(" left out: ", 1)[-1].rstrip(".") for m in missing
             if not m.startswith("No exchange could be reached")]
    return "; ".join(parts)


def fallback_notice(view: View, loaded: Loaded) -> None:
    """When live data was asked for but could not be had, say what is shown instead, in plain words
    and neutral colours (one notice, never a traceback): the recorded sample with a badge, the last
    good data with its age, or which exchanges an all-exchanges view left out."""
    if view.src != LIVE:
        return
    market = loaded.primary
    said = [n for n in market.notes if n != market.provenance]
    left_out = missing_words(loaded.missing)
    if (recorded := recorded_words(market)) is not None:
        reason = left_out or (why_not_live(said[0]) if said else "") or "the exchange could not be reached"
        st.markdown(f":blue-badge[:material/history: Recorded data] &nbsp; **{recorded}** · no live data: {reason}.")
        return
    lines = []
    if market.source == "snapshot" and said:
        lines.append(said[0] if said[0].endswith(".") else said[0] + ".")
    if left_out:
        lines.append(f"Left out of this view: {left_out}.")
    if lines:
        st.info(" ".join(lines), icon=":material/cloud_off:")
