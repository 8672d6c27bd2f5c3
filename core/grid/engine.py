"""Levels -> time x price grid: ``compute_heatmap`` (every candle) and ``compute_profile`` (one candle).

A level dies at the first candle whose range reaches its price (``core.grid.crossing``); the grid holds,
per candle, the USD of the levels still alive at its close (MODEL.md, "heatmap value").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pandas as pd

from core.data.market import MarketData
from core.grid.crossing import CrossingIndex, Fate, crossing_index, side_fates
from core.grid.types import Heatmap, Profile, column_index, make_profile
from core.model.levels import Levels, SideLevels, build_levels
from core.model.params import ModelParams


# --------------------------------------------------------------------------------------------
# Levels -> grid
# --------------------------------------------------------------------------------------------


def _band_of(price: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Band index of each price and whether it lies inside [edges[0], edges[-1]]."""
    inside = (price >= edges[0]) & (price <= edges[-1])
    band = np.clip(np.searchsorted(edges, price, side="right") - 1, 0, len(edges) - 2)
    return band, inside


def _weighted_counts(index: np.ndarray, weights: np.ndarray, length: int) -> np.ndarray:
    """``np.bincount`` with weights, always float64 (bincount of nothing returns integers)."""
    return np.bincount(index, weights=weights, minlength=length).astype("float64", copy=False)


def _liquidated(side_levels: SideLevels, fate: Fate, n: int) -> np.ndarray:
    """USD of one side liquidated in each candle: each level's death value in its death candle."""
    liquidated = _weighted_counts(fate.end[fate.liquidated], fate.death_value[fate.liquidated], n)[:n]
    if side_levels.born_liquidated is not None:  # same-candle share (v2 option): dies in its birth candle
        liquidated = liquidated + _weighted_counts(side_levels.birth, side_levels.born_liquidated, n)[:n]
    return liquidated


def _block_length(n: int) -> int:
    """Rows per block of the time scan: about sqrt(N), at most 256."""
    return int(min(256, max(1, math.ceil(math.sqrt(max(n, 1))))))


def _scan_side(
    n: int, bands: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, levels: Levels
) -> np.ndarray:
    """Time-major grid (N_pad, P) of USD alive at each close, from +/- entries (a difference array).

    Solves V_c = step_c * V_{c-1} + D_c (step_c: closing and decay factor of candle c) in blocks
    of B candles: the value carried into each block is found first from the sparse entries alone
    (a loop over blocks, not candles), then one pass over the block rows finishes every block at
    once. No factor is ever inverted, so nothing overflows however long the window or short the
    half-life, and open interest falling to 0 is an ordinary step of 0.
    """
    blk = _block_length(n)
    nb = -(-n // blk)
    n_pad = nb * blk
    step = np.ones(n_pad)
    step[:n] = levels.step_factor
    log_scale = np.full(n_pad, levels.log_scale[-1] if n else 0.0)
    log_scale[:n] = levels.log_scale
    zeros = np.zeros(n_pad, dtype="int64")
    zeros[:n] = np.cumsum(levels.zero)
    zeros[n:] = zeros[n - 1] if n else 0

    grid = _weighted_counts(rows * bands + cols, values, n_pad * bands).reshape(n_pad, bands)

    # Value at the end of each block carried from the entries inside it (zero start).
    block = rows // blk
    block_end = (block + 1) * blk - 1
    carry_factor = np.where(
        zeros[block_end] == zeros[rows], np.exp(log_scale[block_end] - log_scale[rows]), 0.0
    )
    inside = _weighted_counts(block * bands + cols, values * carry_factor, nb * bands).reshape(nb, bands)
    ends = np.arange(nb) * blk + blk - 1
    starts = ends - blk + 1
    # Growth over each block: step product over its rows.
    block_growth = np.where(
        zeros[ends] == np.concatenate(([0], zeros[ends[:-1]])),
        np.exp(log_scale[ends] - np.concatenate(([0.0], log_scale[ends[:-1]]))),
        0.0,
    )
    block_growth[0] = 1.0  # unused: nothing is carried into the first block
    carried = np.zeros((nb, bands))  # value at the end of block j-1, carried into block j
    for j in range(1, nb):  # a loop over blocks (about sqrt(N)), each a vector of P bands
        carried[j] = inside[j - 1] + block_growth[j - 1] * carried[j - 1]
    if len(cols) == 0:
        return grid
    # Only the bands holding this side's levels can be non-zero (longs sit low, shorts high).
    lo, hi = int(cols.min()), int(cols.max()) + 1
    x = grid.reshape(nb, blk, bands)[:, :, lo:hi]
    x[:, 0, :] += step[starts][:, None] * carried[:, lo:hi]
    plain = bool(np.all(step == 1.0))
    steps = step.reshape(nb, blk)
    tmp = np.empty((nb, hi - lo))
    for k in range(1, blk):  # one pass over the rows of every block at once
        if plain:
            np.add(x[:, k, :], x[:, k - 1, :], out=x[:, k, :])
        else:
            np.multiply(x[:, k - 1, :], steps[:, k, None], out=tmp)
            np.add(x[:, k, :], tmp, out=x[:, k, :])
    # Rounding residue of cancelled levels (+-1e-9 USD where a $100M level died) is zeroed, so an
    # empty band is exactly 0: anything below 1e-12 of the largest level is residue.
    x[x < 1e-12 * float(np.abs(values).max())] = 0.0
    return grid


def _side_grid(
    levels: Levels, side_levels: SideLevels, fate: Fate, edges: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """(P, T) grid view, liquidated USD per candle, and USD at birth left outside the price axis."""
    bands = len(edges) - 1
    band, inside = _band_of(side_levels.price, edges)
    dies_inside = inside & (fate.end < n) & fate.liquidated
    # Levels closed by open interest falling to 0 need no entry: the step of 0 already zeroes them.
    rows = np.concatenate((side_levels.birth[inside], fate.end[dies_inside]))
    cols = np.concatenate((band[inside], band[dies_inside]))
    values = np.concatenate((side_levels.notional[inside], -fate.death_value[dies_inside]))
    grid = _scan_side(n, bands, rows, cols, values, levels)
    liquidated = _liquidated(side_levels, fate, n)
    outside = float(side_levels.notional[~inside].sum())
    return grid[:n].T, liquidated, outside


def _price_edges(
    prices: list[np.ndarray], low: float, high: float, bins: int, price_range: tuple[float, float] | None
) -> np.ndarray:
    """Band edges: ``price_range`` if given, else every level and every candle's low..high."""
    if bins < 1:
        raise ValueError("price_bins must be at least 1")
    if price_range is not None:
        lo, hi = float(price_range[0]), float(price_range[1])
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ValueError("price_range must be (low, high) with high > low")
    else:
        finite = [p[np.isfinite(p)] for p in prices if len(p)]
        lo = min([low] + [float(p.min()) for p in finite if len(p)])
        hi = max([high] + [float(p.max()) for p in finite if len(p)])
        if hi <= lo:
            pad = max(abs(lo) * 0.005, 1e-9)
            lo, hi = lo - pad, hi + pad
        margin = (hi - lo) * 1e-9  # so rounding never puts the outermost level off the axis
        lo, hi = lo - margin, hi + margin
    return np.linspace(lo, hi, bins + 1)


def _run_sides(jobs: list, cells: int) -> list:
    """Run the two sides' scans, in two threads when the grid is large (numpy frees the GIL)."""
    if cells < 2_000_000:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: job(), jobs))


def window_index(market: MarketData) -> int:
    """Index of the first candle to draw: the first at or after ``market.window_start`` (0 without)."""
    n = len(market.candles)
    if market.window_start is None or n == 0:
        return 0
    return int(min(np.searchsorted(market.candles.index, pd.Timestamp(market.window_start), side="left"), n - 1))


def _memory_note(market: MarketData, k: int) -> str:
    """Plain sentence saying how much history before the window the model ran on."""
    if k == 0:
        return ""
    span = market.candles.index[k] - market.candles.index[0]
    hours = span.total_seconds() / 3600.0
    text = f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"
    return (f"Model memory: the model ran on {text} of history before the window "
            "(positions opened then are on the map), so the left edge is not empty.")


def _heatmap_from_levels(
    market: MarketData,
    params: ModelParams,
    lv: Levels,
    fates: dict[str, Fate],
    edges: np.ndarray,
    range_given: bool,
    k: int = 0,
) -> Heatmap:
    """Build the ``Heatmap`` of one market from its levels on the given price axis, drawing the
    candles from ``k`` on (the ones before are the model's memory)."""
    n = len(market.candles)
    jobs = [lambda s=s: _side_grid(lv, getattr(lv, s), fates[s], edges, n) for s in ("long", "short")]
    (long_grid, liq_long, out_long), (short_grid, liq_short, out_short) = _run_sides(jobs, n * (len(edges) - 1))
    notes = list(market.notes) + list(lv.notes) + [_memory_note(market, k)]
    if range_given:
        total = float(lv.long.notional.sum() + lv.short.notional.sum())
        outside = out_long + out_short
        if outside > 0:
            notes.append(
                f"Price range {edges[0]:,.2f}-{edges[-1]:,.2f}: levels outside it ({outside / total:.1%} of the "
                "notional opened) are not drawn; the liquidated totals still count them."
            )
    c = market.candles.iloc[k:]
    return Heatmap(
        times=pd.DatetimeIndex(c.index),
        price_edges=edges,
        long=long_grid[:, k:],
        short=short_grid[:, k:],
        liquidated_long=liq_long[k:].copy(),
        liquidated_short=liq_short[k:].copy(),
        open=c["open"].to_numpy(dtype="float64").copy(),
        high=c["high"].to_numpy(dtype="float64").copy(),
        low=c["low"].to_numpy(dtype="float64").copy(),
        close=c["close"].to_numpy(dtype="float64").copy(),
        volume=c["volume"].to_numpy(dtype="float64").copy(),
        exchange=market.exchange,
        symbol=market.symbol,
        timeframe=market.timeframe,
        source=market.source,
        notes=tuple(dict.fromkeys(n for n in notes if n)),
        oi_proxy=lv.oi_proxy,
        params=params,
        memory=market.candles.index[k] - market.candles.index[0],
    )


def _window_edges(
    market: MarketData, lv: Levels, fates: dict[str, Fate], k: int, bins: int, price_range: tuple[float, float] | None
) -> np.ndarray:
    """Price axis of the drawn window: the window's candles and every level alive in it."""
    c = market.candles.iloc[k:]
    prices = [getattr(lv, s).price[fates[s].end > k] for s in ("long", "short")]
    return _price_edges(prices, float(c["low"].min()), float(c["high"].max()), bins, price_range)


def compute_heatmap(
    market: MarketData,
    params: ModelParams = ModelParams(),
    price_bins: int = 500,
    price_range: tuple[float, float] | None = None,
) -> Heatmap:
    """The liquidation heatmap of ``market`` under ``params`` (MODEL.md, reference model v1).

    A level born in candle t (dOI_t > 0, at E_t) is alive at the close of every candle c >= t
    until the first u > t whose low <= price (long) / high >= price (short); it is not alive at
    the close of u. Where dOI_t < 0 every level alive at the close of t-1 shrinks by
    OI_t / OI_{t-1}; unknown (NaN) open interest changes nothing. Optional decay multiplies a
    level by 0.5 ** (age / half-life).

    Parameters
    ----------
    market
        Candles and open interest (or none: the volume proxy, see ``core.model``).
    params
        Model assumptions (defaults: reference model v1).
    price_bins
        Number of price bands P.
    price_range
        (low, high) of the price axis. None: the axis covers every level and every candle. Levels
        outside a given range are left out of the grid (a note says how much).

    Returns
    -------
    Heatmap
        ``long``/``short`` (P, T): USD alive at each close per band (views of time-major arrays);
        ``liquidated_long``/``liquidated_short`` (T,): USD that died in each candle, after the
        shrink and decay factors, counted for every level whether drawn or not.

    Memory: when ``market.window_start`` is set, the model runs on every candle (the ones before
    it are its memory: positions opened then are alive in the window) and only the candles from
    ``window_start`` on are drawn; ``Heatmap.memory`` says how much history that was.

    Notes
    -----
    No Python loop runs over levels or candles: first crossings for all levels at once
    (``CrossingIndex``, O(M log N)), a difference array over (time, band) and one blocked scan
    along time (``_scan_side``), O(M + P*T).
    """
    if len(market.candles) == 0:
        raise ValueError("the market has no candles")
    lv = build_levels(market, params)
    index = crossing_index(market)
    fates = {s: side_fates(lv, getattr(lv, s), index) for s in ("long", "short")}
    k = window_index(market)
    edges = _window_edges(market, lv, fates, k, price_bins, price_range)
    return _heatmap_from_levels(market, params, lv, fates, edges, price_range is not None, k)


def _one_column(
    market: MarketData, lv: Levels, index: CrossingIndex | None, price_bins: int,
    price_range: tuple[float, float] | None, at: int,
) -> tuple[int, dict[str, Fate], np.ndarray]:
    """The grid column of candle ``at``, both sides' fates and the price axis, for a map at one candle."""
    n = len(market.candles)
    k = window_index(market)
    index = index if index is not None else crossing_index(market)
    fates = {s: side_fates(lv, getattr(lv, s), index) for s in ("long", "short")}
    return k + column_index(at, n - k), fates, _window_edges(market, lv, fates, k, price_bins, price_range)


def _alive_at(lv: Levels, side: str, fate: Fate, col: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which of a side's levels are alive at the close of ``col`` inside the axis, their bands and USD."""
    side_levels = getattr(lv, side)
    band, inside = _band_of(side_levels.price, edges)
    keep = (side_levels.birth <= col) & (fate.end > col) & inside
    return keep, band[keep], side_levels.notional[keep] * np.exp(lv.log_scale[col] - lv.log_scale[side_levels.birth[keep]])


def compute_profile(
    market: MarketData,
    params: ModelParams = ModelParams(),
    price_bins: int = 500,
    price_range: tuple[float, float] | None = None,
    at: int = -1,
    index: CrossingIndex | None = None,
) -> Profile:
    """The liquidation map at one candle without building the whole grid (same numbers as
    ``compute_heatmap(...).profile(at)`` on the same price axis).

    ``index`` (a ``CrossingIndex`` of this market) can be passed to reuse it across calls.
    """
    lv = build_levels(market, params)
    col, fates, edges = _one_column(market, lv, index, price_bins, price_range, at)
    cols = []
    for name in ("long", "short"):
        _, band, value = _alive_at(lv, name, fates[name], col, edges)
        cols.append(_weighted_counts(band, value, len(edges) - 1))
    c = market.candles
    return make_profile(c.index[col], float(c["close"].iloc[col]), edges, cols[0], cols[1])


def compute_tier_profiles(
    market: MarketData,
    params: ModelParams,
    tiers: Sequence[float],
    price_bins: int,
    price_range: tuple[float, float],
    index: CrossingIndex | None = None,
) -> dict[float, Profile]:
    """For each leverage tier, the map at the last candle with ALL new positions at that tier:
    ``compute_profile(market, replace(params, leverage_weights={tier: 1.0}), ...)`` for each one,
    from one set of levels.

    Levels, their deaths, closing, turnover and decay do not depend on the leverage weights, so the
    levels of every tier are built once at equal weights (1/N each) and each tier's bands are summed
    and scaled by N: the same numbers up to rounding, at the cost of about one map instead of N.
    The price axis is fixed (``price_range``): a fitted axis would depend on the tiers.
    """
    order = np.array(sorted({float(t) for t in tiers}))
    lv = build_levels(market, replace(params, leverage_weights={t: 1.0 for t in order}))
    col, fates, edges = _one_column(market, lv, index, price_bins, price_range, -1)
    bands = len(edges) - 1
    per_side = {}
    for name in ("long", "short"):
        keep, band, value = _alive_at(lv, name, fates[name], col, edges)
        tier = np.searchsorted(order, getattr(lv, name).leverage[keep])
        sums = _weighted_counts(tier * bands + band, value * len(order), len(order) * bands)
        per_side[name] = sums.reshape(len(order), bands)
    c = market.candles
    time, price = c.index[col], float(c["close"].iloc[col])
    return {float(t): make_profile(time, price, edges, per_side["long"][i], per_side["short"][i])
            for i, t in enumerate(order)}


def compute_liquidated(
    market: MarketData, params: ModelParams = ModelParams(), index: CrossingIndex | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The model's liquidated USD per candle, (long, short), without building the grid.

    The same numbers as ``compute_heatmap(...).liquidated_long/short`` (which count every level,
    drawn or not), for scoring and calibration where only the per-candle totals matter.
    ``index`` (a ``CrossingIndex`` of this market) can be passed to reuse it across calls.
    """
    n = len(market.candles)
    if n == 0:
        raise ValueError("the market has no candles")
    lv = build_levels(market, params)
    index = index if index is not None else crossing_index(market)
    out = []
    for side_levels in (lv.long, lv.short):
        out.append(_liquidated(side_levels, side_fates(lv, side_levels, index), n))
    return out[0], out[1]
