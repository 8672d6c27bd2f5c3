"""The data's source and age, always visible, and its notes in plain words."""

from __future__ import annotations

import streamlit as st

from core.format import format_age
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
    if market.source == "bundled":
        age = f"recorded to {market.fetched_at:%d %b %Y %H:%M} UTC"
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
