"""Sections of the cascade replay page (app_pages/replay.py): the player, the detected cascades and
the what-if simulator. The replay's controls (speed, shock, impact rule) are bound to the link by
``ui.state.REPLAY``; its moment and play state live in ``replay_*`` session keys.

The moment is ``replay_at`` (server-side), not the time slider's own key ``replay_time``: while
playing, the browser asks for each frame with the slider's value as *it* last saw it, which on a busy
machine is a frame or more behind; taken as the moment, it made the replay jump back or stop (it read
as "at the end"). So the slider follows ``replay_at`` and moves it only when the user drags it while
paused (it is disabled while playing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Sequence

import pandas as pd
import streamlit as st

from core.cascade import CASCADE_RULE, IMPACT_RULES, DepthEstimate, simulate_from_profile
from core.data.coins import margin_note
from core.data.market import MarketData
from core.format import format_price, format_usd
from core.grid import Heatmap
from core.model import ModelParams, describe_margin
from core.charts import (
    ReplayLayout,
    frame_step,
    moment_summary,
    replay_frame,
    replay_index,
    replay_spec,
    slider_time,
    whatif_chart,
)
from core.constants import candle_length
from ui.charts import show
from ui.controls import highlight_slider
from ui.state import REPLAY, VIEW

CRASH = "btc_2026-02_crash"
CRASHES = (CRASH, "btc_2024-03-05_crash")
# Frames per second while playing: the browser asks for a frame every 1/FPS s (requests that
# arrive while a frame is still being drawn are merged, so a slow machine shows fewer frames).
FPS = 5
SPEEDS = {"15min": "15 min / s", "1h": "1 h / s", "3h": "3 h / s", "6h": "6 h / s"}
IMPACT_LABELS = {"linear": "Linear (every $ moves it the same)",
                 "sqrt": "Square root (big orders move it less per $)"}
LEAD_SECONDS = 2  # a jump to a cascade starts this much play time before it


def _switch_to_crash() -> None:
    VIEW.set(src=CRASH, lb="3d")


def is_crash(market: MarketData) -> bool:
    """True when ``market`` is one of the recorded crashes (the page then offers no switch to one)."""
    return any(market.data_id.startswith(f"bundled:{key}:") for key in CRASHES)


def _move_to(times: pd.DatetimeIndex, t: int) -> None:
    """Set the replay's moment to candle ``t`` (and the time slider with it)."""
    st.session_state["replay_at"] = st.session_state["replay_time"] = slider_time(times, t)


def moment(times: pd.DatetimeIndex) -> int:
    """The candle the replay is at (``replay_at``)."""
    return replay_index(times, st.session_state["replay_at"])


def _scrubbed() -> None:
    """The user moved the time slider: while paused it sets the moment (a playing replay ignores the
    slider's value, which may be a frame behind)."""
    if not st.session_state.get("replay_playing", False):
        st.session_state["replay_at"] = st.session_state["replay_time"]


def _jump(times: pd.DatetimeIndex, first: int, lead: int) -> None:
    """Start playing ``lead`` candles before candle ``first`` (a cascade's first hot candle)."""
    _move_to(times, max(first - lead, 0))
    st.session_state["replay_playing"] = True


def _set_playing(times: pd.DatetimeIndex, playing: bool) -> None:
    """Play or pause, as the button said when it was drawn: setting (not toggling) the state makes a
    click that Streamlit delivers twice (a trigger replayed into a coalesced rerun) harmless."""
    was = st.session_state.get("replay_playing", False)
    if playing and not was and moment(times) >= len(times) - 1:
        _move_to(times, 0)  # at the end: play from the start
    st.session_state["replay_playing"] = playing


def _nudge(times: pd.DatetimeIndex, by: int) -> None:
    _move_to(times, min(max(moment(times) + by, 0), len(times) - 1))


def reset_when_data_changes(times: pd.DatetimeIndex, view_key: tuple) -> None:
    """A new window starts at its last candle, paused; a stale or missing time is put back in range."""
    if st.session_state.get("replay_for") != view_key:
        st.session_state["replay_for"] = view_key
        _move_to(times, len(times) - 1)
        st.session_state["replay_playing"] = False
        st.session_state.pop("replay_depth_m", None)
    when = st.session_state.get("replay_at")
    if when is None or not slider_time(times, 0) <= when <= slider_time(times, len(times) - 1):
        _move_to(times, len(times) - 1)


def replay_player(
    hm: Heatmap, layout: ReplayLayout, template: dict, advance: int, playing: bool, shown_t: int
) -> None:
    """The replay: time slider and chart (a fragment: while playing it redraws itself FPS times a second,
    advancing ``advance`` candles a frame; ``shown_t`` is the candle the rest of the page shows)."""
    times, last = hm.times, len(hm.times) - 1
    if playing:
        t = moment(times)
        if t >= last:
            st.session_state["replay_playing"] = False
            st.rerun()
        st.session_state["replay_at"] = slider_time(times, min(t + advance, last))
    st.session_state["replay_time"] = st.session_state["replay_at"]  # the slider shows the moment
    st.slider("Replay time (UTC, candle open)", label_visibility="collapsed", min_value=slider_time(times, 0),
              max_value=slider_time(times, last), step=timedelta(seconds=candle_length(hm.timeframe, hm.times).total_seconds()),
              format="ddd D MMM, HH:mm", key="replay_time", on_change=_scrubbed, disabled=playing)
    t = moment(times)
    st.caption(moment_summary(hm, t))
    st.vega_lite_chart(replay_spec(template, replay_frame(hm, t, layout)), width="content")
    if not playing and t != shown_t:
        st.rerun()  # the user moved the time: let the cascade list and the what-if follow


def whatif(hm: Heatmap, t: int, estimate: DepthEstimate, book_note: str = "") -> None:
    """The what-if simulator from the liquidation map at candle ``t`` (a fragment: its controls redraw
    only it); ``estimate`` is the default depth and where it came from, ``book_note`` what the live
    order book did not show ("" when it reached the band's edge, or was not used)."""
    profile = hm.profile(t)
    if "replay_depth_m" not in st.session_state:
        st.session_state["replay_depth_m"] = round(estimate.usd_per_pct / 1e6, 1)
    c1, c2, c3 = st.columns([1.3, 1.2, 1.3])
    c1.slider("Shock (% price move)", -15.0, 15.0, step=0.5, format="%+.1f%%", key=REPLAY.key("shock"),
              help="An initial move of the price, e.g. a large market sell. Negative = down (hits longs).")
    c2.radio("Impact rule", IMPACT_RULES, format_func=IMPACT_LABELS.get, key=REPLAY.key("impact"),
             help="How forced market orders move the price: linear, or the square-root law of market impact.")
    c3.number_input("Market depth: $M that move the price 1%", min_value=0.1, max_value=100_000.0, step=5.0,
                    format="%.1f", key="replay_depth_m",
                    help="Resting orders within 1% of the price. Thinner book = bigger cascades.")
    c3.caption(f"Default {format_usd(estimate.usd_per_pct)} per 1%: {estimate.explanation}."
               + (f" {book_note}" if book_note else ""))
    c3.button("Reset depth to the default", key="replay_depth_reset", icon=":material/restart_alt:",
              on_click=lambda: st.session_state.update(replay_depth_m=round(estimate.usd_per_pct / 1e6, 1)))
    controls = REPLAY.current()
    REPLAY.sync_url(controls)
    result = simulate_from_profile(profile, controls.shock, st.session_state["replay_depth_m"] * 1e6,
                                   impact=controls.impact)
    falling = result.initial_shock_pct <= 0
    st.info(result.story(), icon=":material/trending_down:" if falling else ":material/trending_up:")
    m = st.columns(5)
    m[0].metric("Cascade stops at", format_price(result.final_price))
    m[1].metric("Total move", f"{result.total_move_pct:+.1f}%",
                f"{result.total_move_pct - result.initial_shock_pct:+.1f}% beyond the shock", delta_color="off")
    m[2].metric("Amplification", f"{result.amplification:.2f}x", help="Total move / initial shock")
    m[3].metric("Longs liquidated", format_usd(result.liquidated_long_usd))
    m[4].metric("Shorts liquidated", format_usd(result.liquidated_short_usd))
    show(whatif_chart(profile, result), width="stretch")
    with st.expander("Step by step"):
        st.dataframe(step_table(result.steps), hide_index=True, width="stretch")
    st.caption("A model, not a forecast: the levels are estimates, and real order books refill.")


def step_table(steps: pd.DataFrame) -> pd.DataFrame:
    """The what-if's steps in a trader's words: prices to the dollar, USD as $1.2M, moves in %."""
    return pd.DataFrame({
        "Step": ["shock" if s == 0 else str(int(s)) for s in steps["step"]],
        "Price after": [format_price(p) for p in steps["price"]],
        "Longs liquidated": [format_usd(v) for v in steps["liquidated_long_usd"]],
        "Shorts liquidated": [format_usd(v) for v in steps["liquidated_short_usd"]],
        "Liquidated so far": [format_usd(v) for v in steps["cumulative_usd"]],
        "This step": [f"{v:+.2f}%" for v in steps["move_pct"]],
        "Move so far": [f"{v:+.2f}%" for v in steps["total_move_pct"]],
    })


def proxy_notice(hm: Heatmap) -> None:
    """The one notice that this market has no open-interest history (the model's volume proxy)."""
    proxy = next((n for n in hm.notes if "proxy" in n and "%" in n), "No open-interest history: the volume proxy is used.")
    st.info(f"**Volume proxy.** {proxy} The replay and the what-if run on this rougher estimate.", icon=":material/info:")


def margin_caption(params: ModelParams, markets: Sequence[MarketData]) -> None:
    """Which maintenance margin the model uses for this coin, in plain words."""
    market = markets[0]
    if params.brackets is None:
        text = describe_margin(params, market.symbol)
    else:
        text = f"Maintenance margin: {margin_note(market.exchange, market.symbol)}."
    st.caption(text)




def crash_offer() -> None:
    """A one-click switch to the recorded Feb 2026 crash."""
    with st.container(border=True):
        a, b = st.columns([3, 1], vertical_alignment="center")
        a.markdown("**See a real crash.** On 5 Feb 2026 BTC fell from about 73,000 to below 60,000 within a day; "
                   "the model puts hundreds of millions of dollars of long liquidations in each leg down. "
                   "Replay it with Binance's recorded data.")
        b.button("Replay the Feb 2026 crash", type="primary", icon=":material/replay:", on_click=_switch_to_crash,
                 key="replay_crash")


def transport(hm: Heatmap, cascades: pd.DataFrame, playing: bool) -> int:
    """Play/pause, one candle back/forward, speed, quick jumps; returns candles to advance per frame."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.button("Pause" if playing else "Play", key="replay_play", type="primary",
               icon=":material/pause:" if playing else ":material/play_arrow:", on_click=_set_playing,
               args=(hm.times, not playing),
               width=110)
    row.button("1 candle", key="replay_back", icon=":material/chevron_left:", on_click=_nudge, args=(hm.times, -1),
               disabled=playing, help="One candle back")
    row.button("1 candle", key="replay_forward", icon=":material/chevron_right:", on_click=_nudge, args=(hm.times, 1),
               disabled=playing, help="One candle forward")
    row.segmented_control("Speed (market time per second)", tuple(SPEEDS), format_func=SPEEDS.get,
                         key=REPLAY.key("speed"), required=True, label_visibility="collapsed",
                         help="Market time played per second")
    highlight_slider(row, width=230)
    advance = frame_step(candle_length(hm.timeframe, hm.times), pd.Timedelta(st.session_state.get(REPLAY.key("speed")) or "1h"), FPS)
    if not cascades.empty:
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.caption("Play a detected cascade:", width="content")
            for i, row in cascades.iterrows():
                st.button(f"#{i + 1} · {row['start']:%d %b %H:%M}", key=f"replay_quick_{i}", type="tertiary",
                          on_click=_jump, args=(hm.times, int(row["first_index"]), lead_candles(advance)),
                          help=row["summary"])
    return advance


def lead_candles(advance: int) -> int:
    """Candles a jump starts before a cascade: LEAD_SECONDS of play at the current speed (3 at least)."""
    return max(3, advance * FPS * LEAD_SECONDS)


def cascade_list(hm: Heatmap, cascades: pd.DataFrame, advance: int) -> None:
    """Every detected cascade, with a button to jump to it, and the rule that finds them."""
    st.subheader("Detected cascades")
    if cascades.empty:
        st.caption("No candle in this window had both a liquidation spike and a price-move spike.")
    for i, row in cascades.iterrows():
        with st.container(border=True):
            a, b = st.columns([6, 1], vertical_alignment="center")
            a.markdown(f"**#{i + 1}** &nbsp; {row['summary']}")
            b.button("Play it", key=f"replay_jump_{i}", icon=":material/play_arrow:", width="stretch",
                     on_click=_jump, args=(hm.times, int(row["first_index"]), lead_candles(advance)),
                     help="Play this cascade from a few candles before it starts.")
    with st.expander("How cascades are found"):
        st.markdown(CASCADE_RULE)
