"""Import & accuracy, section 4: the per-candle score (does the model say *when* liquidations
happen?), its chart, the biggest misses and "fit on this period". Streamlit-side; the logic is in
core.accuracy (per_candle, calibrate, realized_candles)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.accuracy import realized_per_candle
from core.accuracy.per_candle import (
    DEFAULT_WARMUP,
    PerCandleScorecard,
    biggest_misses,
    candle_table,
    move_oi_baseline,
    score_heatmap,
    scored_mask,
    time_split,
)
from core.accuracy.realized_candles import to_timeframe
from core.charts import per_candle_chart, per_candle_frame
from core.data.market import MarketData
from core.format import format_usd
from ui import cache
from ui.charts import show
from ui.context import page_context
from ui.sections.assumptions import use_values

FITTED = "per_candle_fitted"  # session key: the inputs the last fit ran on (its result stays shown)
APPLIED = "per_candle_applied"  # session key: fitted values just put into the model

CANDLE_FILE = "accuracy_candle_file"
COLUMNS = {"rho_long": "ρ longs", "rho_short": "ρ shorts", "rho_pooled": "ρ pooled",
           "capture_long": "top 5% longs", "capture_short": "top 5% shorts"}
METHOD = (
    "For every candle the model says how much of each side it liquidated (the levels price traded through). "
    "**ρ** (Spearman rank correlation) says whether it orders the candles as reality did: 1 = the same order, "
    "0 = no relation; ranks make the dollar scale irrelevant (realized totals cover several exchanges). "
    "**Top 5%** is the share of the realized USD that fell in the model's 5% biggest candles (a blind guess "
    "gets 5%). Two baselines keep the model honest: **move x OI** (how far price moved against each side, "
    "times open interest: no positions, no leverage) and **uniform** (the same value for every candle). "
    "The first days are skipped (the model needs time to fill up) and candles where nothing was liquidated "
    "(usually recording gaps) are left out. **Fit / held-out**: the scored candles in time order, first 60% "
    "and last 40%; a fit may only look at the first part."
)


def _warmup(times: pd.DatetimeIndex) -> pd.Timedelta:
    """7 days, or a quarter of a shorter period (so a few days of data still get scored)."""
    span = times[-1] - times[0] if len(times) else pd.Timedelta(0)
    return min(DEFAULT_WARMUP, span / 4)


def scorecard_table(card: PerCandleScorecard) -> pd.DataFrame:
    """The card as a small table with readable column names."""
    return card.table().rename(columns=COLUMNS).rename(index={"model": "model (this map)"})


def _show_card(title: str, card: PerCandleScorecard) -> None:
    st.markdown(f"**{title}** · {card.n_scored:,} candles, {card.first:%d %b %Y %H:%M} – {card.last:%d %b %Y %H:%M} UTC"
                if card.n_scored else f"**{title}** · nothing to score")
    if card.n_scored:
        st.dataframe(scorecard_table(card), column_config={c: st.column_config.NumberColumn(format="%.3f")
                                                           for c in COLUMNS.values()})


def _inputs(record: dict | None) -> tuple[MarketData, pd.DataFrame, str, str] | None:
    """(market, realized per candle on its candles, realized key, what was used), or None."""
    ctx = page_context()
    upload = st.session_state.get(CANDLE_FILE)
    if upload is not None:
        data = upload.getvalue()
        key = cache.digest(data)
        realized, own_market, error = cache.read_candle_upload(key, upload.name, data)
        if realized is None:
            st.error(f"This file could not be used: {error}", icon=":material/error:")
            return None
        if own_market is not None:
            return own_market, realized, key, f"{upload.name}: its own {own_market.timeframe} candles and open interest"
        market = ctx.market
        per = to_timeframe(realized, market.timeframe).reindex(market.candles.index)
        return market, per, key, f"{upload.name}, on the loaded {market.timeframe} candles"
    if record is not None and record.get("frame") is not None:
        market = ctx.market
        orders = cache.realized_for(record["key"], market.symbol, record["frame"])
        per = realized_per_candle(orders, market.candles.index, market.timeframe)
        return market, per, record["key"] + market.symbol, f"{record['label']} (single orders, summed per candle)"
    return None


def per_candle_section(record: dict | None) -> None:
    """Upload per-candle liquidations (or reuse section 2's orders), then score, chart, misses, fit."""
    st.header("4. Candle by candle: does the model say when?", divider="gray")
    ctx = page_context()
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.file_uploader("Liquidations per candle (CSV: timestamp, long USD, short USD)", type=["csv", "zip"],
                         key=CANDLE_FILE,
                         help="CoinGlass-style history: timestamp (ms, s or ISO), liquidation_long_usd, "
                              "liquidation_short_usd. With price_open/high/low/close and oi_close columns the "
                              "file is also the market the model runs on.")
    with right:
        st.caption("Or use section 2's single liquidation orders: they are summed per candle of the loaded market.")
    used = _inputs(record)
    if used is None:
        st.info("Add a per-candle liquidation file (or liquidation orders in section 2) to score the model candle by "
                "candle.", icon=":material/info:")
        return
    market, realized, key, what = used
    params = ctx.params
    hm = cache.heatmap([market], params) if market is not ctx.market else cache.heatmap(ctx.loaded.markets, params)
    realized = realized.reindex(hm.times)
    warmup = _warmup(hm.times)
    oi = market.open_interest.reindex(hm.times).to_numpy(dtype="float64")
    card = score_heatmap(hm, realized, oi, warmup=warmup)
    st.caption(f"Model: **{ctx.model_label}** · liquidations: {what} · warm-up {warmup} skipped.")
    if card.n_scored < 10:
        st.warning(f"Only {card.n_scored} candle(s) can be scored (after the warm-up, with some liquidation): load "
                   "market data and liquidations for the same, longer period.", icon=":material/warning:")
        return
    _show_card("All scored candles", card)
    per = realized.fillna(0.0)
    mask = scored_mask(hm.times, per["long_usd"].to_numpy(), per["short_usd"].to_numpy(), warmup)
    fit_mask, held_mask = time_split(mask)
    with st.expander("Time split: first 60% and last 40% of the scored candles"):
        _show_card("Fit part", score_heatmap(hm, realized, oi, warmup=warmup, mask=fit_mask))
        _show_card("Held-out part", score_heatmap(hm, realized, oi, warmup=warmup, mask=held_mask))
    baseline = move_oi_baseline(hm.close, hm.high, hm.low, oi)
    st.subheader("Per candle: realized, the model and the move x OI baseline")
    frame = per_candle_frame(hm, per, baseline=baseline)
    show(per_candle_chart(frame, (hm.times[0], hm.times[-1])), key="per_candle_bars", width="content")
    st.caption("Longs liquidated point down, shorts up; each panel has its own scale (compare timing, not size).")
    st.subheader("Biggest misses")
    table = candle_table(hm.times, hm.liquidated_long, hm.liquidated_short, per["long_usd"].to_numpy(),
                         per["short_usd"].to_numpy(), hm.close, hm.high, hm.low, oi)
    misses = biggest_misses(table, mask, n=10)
    miss_help = "Realized rank minus model rank, as a share of the candles: 1 = the biggest real candle, rated quietest"
    st.dataframe(misses.assign(realized_usd=[format_usd(v) for v in misses["realized_usd"]],
                               model_usd=[format_usd(v) for v in misses["model_usd"]]),
                 hide_index=True, column_config={"time": "Candle (UTC)", "side": "Side", "realized_usd": "Realized",
                                                 "model_usd": "Model",
                                                 "miss": st.column_config.NumberColumn("Miss", format="%.2f",
                                                                                       help=miss_help)})
    with st.expander("How the per-candle score works"):
        st.markdown(METHOD)
    fit_section(market, realized, key, params, warmup)


def fit_section(market: MarketData, realized: pd.DataFrame, key: str, params, warmup: pd.Timedelta) -> None:
    """"Fit on this period": the calibration on the first 60%, checked on the last 40%."""
    st.subheader("Fit the model to this period")
    st.caption("Fits the leverage ladder (median and spread), the hourly turnover and the same-candle share on the "
               "first 60% of the scored candles only, then checks the result on the last 40%, which the fit never saw.")
    if st.session_state.pop(APPLIED, False):
        st.success("The fitted values are now the model's assumptions on every page (sidebar and link).",
                   icon=":material/check_circle:")
    if not st.button("Fit on this period", key="per_candle_fit", icon=":material/tune:"):
        if st.session_state.get(FITTED) != key:
            return
    st.session_state[FITTED] = key
    try:
        result = cache.calibration((market.data_id,), params, key, warmup, market, realized)
    except ValueError as err:
        st.warning(str(err), icon=":material/warning:")
        return
    v = result.values
    st.markdown(f"**Fitted** ({result.evaluations} model runs): leverage median **{v['median']:.3g}x**, spread "
                f"**{v['sigma']:.2g}**, turnover **{v['turnover']:.1%} per hour**, same-candle share "
                f"**{v['same_candle']:.0%}**.")
    left, right = st.columns(2)
    with left:
        _show_card("Fitted model, held-out part", result.held_out)
    with right:
        _show_card("Model before the fit, held-out part", result.start_held_out)
    better = "better" if result.improved_held_out else "not better"
    st.caption(f"On the held-out part the fitted values are {better} than the model you started from. They are "
               "not applied until you choose to: the calibrated preset ships values fitted on three months of data.")
    st.button("Use these values", key="per_candle_use", on_click=_use, args=(dict(v),), icon=":material/done:",
              help="Puts the fitted median, spread, turnover and same-candle share into the model assumptions "
                   "(Calibrated v2, edited): every page and the link use them.")


def _use(values: dict[str, float]) -> None:
    """Callback: the fitted values into the shared model; the fit's result is put away (it was for
    the model before)."""
    use_values(values)
    st.session_state.pop(FITTED, None)
    st.session_state[APPLIED] = True
