"""The model's assumptions: ONE set for every page (heatmap, replay and its what-if, accuracy,
sensitivity), bound to the shared link by ``ui.state.MODEL`` in app.py and edited in the sidebar."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.data.market import MarketData
from core.format import format_usd
from core.model import ENTRY_RULES, EXCHANGE_BRACKETS, describe_margin, uses_oi_proxy
from core.model import PRESETS
from core.charts import value_text
from core.sensitivity_state import (
    CUSTOM, DECAY_CHOICES, ENTRY_LABELS, MARGIN_CHOICES, MARGIN_LABELS, POSITION_CHOICES, PROXY_CHOICES,
    PROXY_HALF_LIVES, WEIGHT_KEYS, SensitivityState, matching_preset, model_label, preset_state,
)
from ui.state import MODEL

PRESET_KEY = "sensitivity_preset"
PROXY_LABELS = {"auto": "Open interest (volume only if none)", "always": "Traded volume (rough proxy)"}


def bind() -> SensitivityState:
    """app.py, every page: seed the assumptions from the link (once per session), put back what
    Streamlit dropped, and keep the preset box in step; returns the state before the controls are drawn."""
    MODEL.seed_from_url()
    MODEL.restore()
    st.session_state.setdefault(PRESET_KEY, matching_preset(MODEL.kept()))
    return MODEL.current()


def _put(state: SensitivityState) -> None:
    MODEL.put(state)
    st.session_state[PRESET_KEY] = matching_preset(state)


def _on_assumption() -> None:
    """A control moved: the preset box now says which preset (if any) this is."""
    st.session_state[PRESET_KEY] = matching_preset(MODEL.current())


def _on_preset() -> None:
    name = st.session_state[PRESET_KEY]
    if name != CUSTOM:
        _put(preset_state(name, MODEL.current()))


def _on_reset() -> None:
    now = MODEL.current()
    _put(replace(SensitivityState(), sw=now.sw, sx=now.sx))


def controls(market: MarketData, chosen: SensitivityState) -> None:
    """Every assumption: preset, reset, leverage mix, long share, margin, entry, decay, more."""
    st.selectbox("Start from a preset", (*PRESETS, CUSTOM), key=PRESET_KEY, on_change=_on_preset,
                 format_func=lambda n: "Custom (your own settings)" if n == CUSTOM else n)
    st.button("Reset to the default model", key="sensitivity_reset", on_click=_on_reset, icon=":material/restart_alt:")
    st.markdown("**Leverage mix**: how much of each new position uses each leverage",
                help="Relative weights: only their proportions matter. The shares below always add up to 100%.")
    for tier, name in WEIGHT_KEYS.items():
        st.slider(f"{tier}x leverage (weight)", 0, 100, key=MODEL.widget_keys[name], on_change=_on_assumption)
    shares = chosen.shares
    st.caption("Share of new positions: " + (" · ".join(f"**{t}x {v:.0%}**" for t, v in shares.items()) if shares
               else "all weights are 0, so the default mix is used"))
    st.slider("Long share of new positions", 0.0, 1.0, step=0.05, key=MODEL.widget_keys["sls"], on_change=_on_assumption,
              help="0.5: half of every new position is long, half short. 1.0: only longs.")
    st.radio("Maintenance margin", MARGIN_CHOICES, key=MODEL.widget_keys["br"], format_func=MARGIN_LABELS.get, horizontal=True,
             on_change=_on_assumption, help="The margin an exchange keeps back: the higher it is, the sooner a position is closed.")
    st.slider("Flat maintenance rate (%)", 0.0, 5.0, step=0.05, format="%.2f%%", key=MODEL.widget_keys["mmr"],
              on_change=_on_assumption, disabled=chosen.br == EXCHANGE_BRACKETS)
    if chosen.br == EXCHANGE_BRACKETS:
        st.select_slider("Typical position size", POSITION_CHOICES, key=MODEL.widget_keys["pos"], format_func=format_usd,
                         on_change=_on_assumption, help="Bigger positions fall in brackets with a higher maintenance rate.")
    st.caption(describe_margin(chosen.to_model(), market.symbol, market.exchange))
    st.selectbox("Entry price of new positions", ENTRY_RULES, key=MODEL.widget_keys["entry"], format_func=ENTRY_LABELS.get,
                 on_change=_on_assumption)
    st.select_slider("Old positions fade out (half-life)", DECAY_CHOICES, key=MODEL.widget_keys["decay"], on_change=_on_assumption,
                     format_func=lambda h: value_text(h, "hours"),
                     help="Off: a position stays until price reaches it or open interest falls. "
                          "12 h: half of it is assumed closed after 12 hours.")
    with st.expander("More options"):
        ratio = market.long_short_ratio
        if ratio is not None and len(ratio):
            st.toggle("Long share from the exchange's long/short ratio", key=MODEL.widget_keys["lsr"], on_change=_on_assumption)
        else:
            st.caption("This market has no long/short ratio, so the long share slider is used.")
        if market.has_open_interest:
            st.radio("New positions estimated from", PROXY_CHOICES, key=MODEL.widget_keys["proxy"], format_func=PROXY_LABELS.get,
                     on_change=_on_assumption)
        if uses_oi_proxy(market, chosen.to_model()):
            st.slider("Share of traded volume that opens positions", 0.01, 0.5, step=0.01, key=MODEL.widget_keys["psh"],
                      on_change=_on_assumption)
            st.select_slider("Volume-proxy half-life", PROXY_HALF_LIVES, key=MODEL.widget_keys["phl"], on_change=_on_assumption,
                             format_func=lambda h: value_text(h, "hours"))


def editor(market: MarketData, expanded: bool) -> None:
    """The sidebar block on every page: the assumptions' name, and every control in an expander."""
    chosen = bind()
    st.markdown("### Model assumptions")
    st.caption(f"**{model_label(chosen)}**: used by every page.")
    with st.expander("Edit the assumptions", expanded=expanded, icon=":material/tune:"):
        controls(market, chosen)
