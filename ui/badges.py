"""The data's source and age, always visible, and its notes in plain words."""

from __future__ import annotations

import streamlit as st

from core.format import format_age
from core.viewstate import LIVE, View
from ui.data import Loaded, exchange_label

BADGES = {
    "live": ("green", "Live"),
    "snapshot": ("orange", "Last good data"),
    "bundled": ("blue", "Bundled sample"),
    "upload": ("violet", "Uploaded files"),
}


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
    for message in loaded.missing:
        st.warning(message, icon=":material/cloud_off:")
    fallback = [n for m in loaded.markets for n in m.notes if n != m.provenance]
    if fallback:
        with st.expander("Data notes", expanded=market.source in ("snapshot",)):
            for note in dict.fromkeys(fallback):
                st.caption(note)


def fallback_notice(view: View, loaded: Loaded) -> None:
    """When live data was asked for but could not be had, say so in plain words at the top."""
    market = loaded.primary
    if view.src != LIVE or market.source == "live":
        return
    # The first note says why (and, for a snapshot, its age); a second one may add what differs.
    said = [n for n in market.notes if n != market.provenance][: 1 if market.source == "snapshot" else 2]
    message = " ".join(n if n.endswith((".", ")")) else n + "." for n in said) or "Live data is unavailable: showing other data."
    st.warning(message, icon=":material/cloud_off:")
