"""The app's bound states (``ui.binder.Binding``): the shared view, the model's assumptions, the replay."""

from __future__ import annotations

from functools import partial

import streamlit as st

from core.sensitivity_state import SensitivityState, parse_sensitivity
from core.viewstate import MAX_CANDLES, ReplayView, View, candle_count, parse_replay, parse_view, too_many_candles
from ui.binder import Binding
from ui.cache import listed_coins

# The shared sidebar selection and the heatmap's display controls (widget keys by where they live).
VIEW: Binding[View] = Binding(
    "view", View(), partial(parse_view, coins=listed_coins), prefix="sidebar",
    keys={"side": "heatmap_side", "zoom": "heatmap_zoom", "hl": "heatmap_hl"}, extra_keys=("clip",))
# ``clip`` is older links' colour percentile: read as a highlight (core.viewstate), then dropped from the link.
# Every assumption of the model (and the sensitivity sweep's choices): ONE set for every page, bound
# in app.py, edited in the sidebar (ui/sections/assumptions.py). ``mix`` and ``ls`` are older links' keys.
MODEL: Binding[SensitivityState] = Binding(
    "sensitivity", SensitivityState(), parse_sensitivity, prefix="sensitivity", extra_keys=("preset", "mix", "ls"))
# The cascade replay's controls.
REPLAY: Binding[ReplayView] = Binding("replay", ReplayView(), parse_replay, prefix="replay")

KEYS: dict[str, str] = VIEW.widget_keys


def limit_window() -> None:
    """Widget callback: a timeframe/lookback pair with too many candles falls back to 7 days."""
    tf, lb = st.session_state[KEYS["tf"]], st.session_state[KEYS["lb"]]
    if candle_count(tf, lb) > MAX_CANDLES:
        VIEW.set(lb="7d")
        VIEW.add_notice(too_many_candles(tf, lb))
