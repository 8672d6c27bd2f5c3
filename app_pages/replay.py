"""Cascade replay page: watch the liquidation map build candle by candle, jump to the cascades the
rule finds, and ask what a price shock would set off from any moment."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.cascade import depth_from_volume, estimate_depth, typical_open_interest
from core.charts import default_view_range
from core.format import format_price
from core.viewstate import LIVE
from ui.cache import book_depth, heatmap, replay_setup
from ui.context import page_context
from ui.layout import compact_top
from ui.sections import replay as section
from ui.state import REPLAY

REPLAY.seed_from_url()
REPLAY.restore()
ctx = page_context()
loaded, market, view = ctx.loaded, ctx.market, ctx.view

compact_top()
st.title(f"{ctx.coin} cascade replay")
st.caption(f"{ctx.where} · {market.timeframe} candles · {ctx.span} · **a model estimate**, not exchange data · "
           f"model: {ctx.model_label}")
REPLAY.show_notices()

params = ctx.params
hm = heatmap(loaded.markets, params)
if len(hm.times) < 2:
    st.warning("Not enough candles in this window to replay.")
    st.stop()

price_range = default_view_range(hm, margin=view.zoom / 100)
cascades, layout, template = replay_setup(loaded.ids, params, price_range, view.hl, hm)
section.reset_when_data_changes(hm.times, (view.src, view.ex, view.sym, view.tf, view.lb, params))
moment = section.moment(hm.times)
playing = bool(st.session_state.get("replay_playing", False))

advance = section.transport(hm, cascades, playing)
REPLAY.sync_url(REPLAY.current())
st.fragment(section.replay_player, run_every=1 / section.FPS if playing else None)(
    hm, layout, template, advance, playing, moment)
if not section.is_crash(market):
    section.crash_offer()
if hm.oi_proxy:
    section.proxy_notice(hm)
section.cascade_list(hm, cascades, advance)

st.subheader("What if the price were pushed?")
live = view.src == LIVE and all(m.source == "live" for m in loaded.markets)
book = book_depth(tuple(m.exchange for m in loaded.markets), market.symbol) if live else None
oi = typical_open_interest(m.open_interest for m in loaded.markets)
oi_is_model = not np.isfinite(oi)
if oi_is_model:
    oi = float(np.median(hm.long_total + hm.short_total))
estimate = estimate_depth(depth_from_volume(hm), oi, book.usd if book else None, oi_is_model=oi_is_model)
st.caption(f"From the liquidation map at the close of the {hm.times[moment]:%a %d %b %H:%M} UTC candle (the replay "
           f"time; while playing it waits for a pause), price {format_price(hm.close[moment])}.")
st.fragment(section.whatif)(hm, moment, estimate, book.note if book else "")
section.margin_caption(params, loaded.markets)
