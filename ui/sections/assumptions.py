"""The model's assumptions: ONE set for every page (heatmap, replay and its what-if, accuracy,
sensitivity), bound to the shared link by ``ui.state.MODEL`` in app.py and edited in the sidebar."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.data.market import MarketData
from core.format import format_usd
from core.model import ALL_ENTRY_RULES, EXCHANGE_BRACKETS, PRESET_PROVENANCE, PRESETS, describe_margin, uses_oi_proxy
from core.charts import value_text
from core.sensitivity_state import (
    CUSTOM, DECAY_CHOICES, ENTRY_LABELS, LADDER_MAX, LADDER_MIN, MARGIN_CHOICES, MARGIN_LABELS, MODEL_LABELS,
    POSITION_CHOICES, PROXY_CHOICES, PROXY_HALF_LIVES, RANGES, WEIGHT_KEYS, SensitivityState, matching_preset,
    model_label, model_state, preset_state,
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
    _put(model_state(now.model, now))


def _on_model() -> None:
    """The model picker moved: start from that model's own settings (v1: exactly ``ModelParams()``)."""
    now = MODEL.current()
    _put(replace(model_state(now.model), sx=now.sx))


def use_values(values: dict[str, float]) -> None:
    """Callback: the calibrated model with fitted ladder median and spread, turnover and same-candle
    share (``core.accuracy.calibrate`` names), for every page and the link."""
    now = MODEL.current()
    base = now if now.model == "v2" else replace(model_state("v2", now), sls=now.sls)
    clip = {k: min(max(float(v), RANGES[k][0]), RANGES[k][1]) for k, v in
            {"lmed": values["median"], "lsig": values["sigma"], "turn": values["turnover"],
             "same": values["same_candle"]}.items()}
    _put(replace(base, model="v2", **clip))


def _tiers(chosen: SensitivityState) -> None:
    """v1: a preset of the five tiers, and their weights."""
    st.selectbox("Start from a preset", (*PRESETS, CUSTOM), key=PRESET_KEY, on_change=_on_preset,
                 format_func=lambda n: "Custom (your own settings)" if n == CUSTOM
                 else "Reference v1 (MODEL.md)" if n == "Default" else n)
    st.markdown("**Leverage mix**: how much of each new position uses each leverage",
                help="Relative weights: only their proportions matter. The shares below always add up to 100%.")
    for tier, name in WEIGHT_KEYS.items():
        st.slider(f"{tier}x leverage (weight)", 0, 100, key=MODEL.widget_keys[name], on_change=_on_assumption)
    shares = chosen.shares
    st.caption("Share of new positions: " + (" · ".join(f"**{t}x {v:.0%}**" for t, v in shares.items()) if shares
               else "all weights are 0, so the default mix is used"))


def _ladder(chosen: SensitivityState) -> None:
    """v2: the lognormal leverage ladder (median, spread), turnover and same-candle share."""
    st.markdown(f"**Leverage ladder**: new positions spread over {LADDER_MIN:g}x to {LADDER_MAX:g}x",
                help="24 leverages evenly spaced (in log) from 2x to 125x, Binance's BTC maximum, weighted by a "
                     "lognormal curve: half of new positions use less than the median leverage.")
    st.slider("Median leverage (x)", *RANGES["lmed"], step=0.5, key=MODEL.widget_keys["lmed"], on_change=_on_assumption)
    st.slider("Spread (sigma, in log leverage)", *RANGES["lsig"], step=0.05, key=MODEL.widget_keys["lsig"],
              on_change=_on_assumption, help="Larger: leverages further from the median are more common.")
    low, high = chosen.lmed / 2.718281828 ** chosen.lsig, chosen.lmed * 2.718281828 ** chosen.lsig
    st.caption(f"About two thirds of new positions use **{max(low, LADDER_MIN):.3g}x – {min(high, LADDER_MAX):.3g}x**.")
    st.slider("Turnover per hour (share of open interest)", *RANGES["turn"], step=0.01, key=MODEL.widget_keys["turn"],
              on_change=_on_assumption, help="0.10: each hour 10% of the open positions are closed and opened again "
                                             "at that hour's prices, so old levels fade out.")
    st.slider("Same-candle share", *RANGES["same"], step=0.05, key=MODEL.widget_keys["same"], on_change=_on_assumption,
              help="Of the positions whose liquidation price lies inside the candle they were opened in, the share "
                   "liquidated in that same candle.")


def controls(market: MarketData, chosen: SensitivityState) -> None:
    """Every assumption: model, reset, leverage (v2 ladder or v1 tiers), long share, margin, entry, decay, more."""
    st.button(f"Reset to {chosen.preset}", key="sensitivity_reset", on_click=_on_reset, icon=":material/restart_alt:")
    if chosen.model == "v2":
        _ladder(chosen)
    else:
        _tiers(chosen)
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
    st.selectbox("Entry price of new positions", ALL_ENTRY_RULES, key=MODEL.widget_keys["entry"], format_func=ENTRY_LABELS.get,
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


def editor_key(expanded: bool) -> str:
    """Session key of the "Edit the assumptions" box's open state: one for the pages where it starts
    closed, one for the sensitivity page where it starts open (so each keeps its own default)."""
    return "sensitivity_editor_open" if expanded else "sidebar_editor_open"


def editor(market: MarketData, expanded: bool) -> None:
    """The sidebar block on every page: the assumptions' name, and every control in an expander.

    The controls are drawn only while their box is open (opening it reruns the page): otherwise the
    browser builds a dozen hidden sliders on every page before the picture (issue 15; each slider
    measures its layout as it mounts). Closed, their values stay in ``MODEL`` (``bind`` puts back
    what Streamlit dropped), so the map and the link keep every assumption."""
    chosen = bind()
    st.markdown("### Model")
    st.radio("Model", tuple(MODEL_LABELS), key=MODEL.widget_keys["model"], format_func=MODEL_LABELS.get,
             on_change=_on_model, label_visibility="collapsed")
    with st.expander("Where these assumptions come from", icon=":material/info:"):
        st.caption(PRESET_PROVENANCE[chosen.preset])
    st.caption(f"**{model_label(chosen)}**: used by every page.")
    box = st.expander("Edit the assumptions", expanded=expanded, icon=":material/tune:", key=editor_key(expanded),
                      on_change="rerun")
    if box.open:
        with box:
            controls(market, chosen)
