"""Assumption sweeps: how the liquidation map near the price moves when one assumption moves.

Metrics (all at one candle, by default the last):

* USD at risk within X % of the price: long USD between ``price * (1 - X/100)`` and the price,
  short USD between the price and ``price * (1 + X/100)``; a band that straddles a window edge
  counts pro rata to its overlap (``near_price_usd``);
* imbalance within X %: ``(long - short) / (long + short)``, in [-1, 1], 0 when both are 0;
  positive means more is at risk below the price (a fall would liquidate more than a rise);
* the nearest major cluster above and below the price: among the ``n`` largest clusters of
  ``core.grid.key_levels`` (default 10), the nearest one priced above / below, as a distance in
  percent of the price (positive both ways), with its price and USD; and the USD-weighted mean
  distance of those major clusters (``cluster_mean_distance_pct``).

``sweep`` computes only the last column of the map for each value (``core.grid.compute_profile``)
on one fixed price axis, reusing the market's crossing index; a ``long_share`` sweep computes the
map once and rescales each side, since the long share only scales notional.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from core.data.market import MarketData
from core.format import format_usd
from core.grid import CrossingIndex, Heatmap, Profile, compute_profile, find_clusters, make_profile
from core.model import ModelParams

DEFAULT_WITHIN_PCT: tuple[float, ...] = (2, 5, 10)
SWEEP_RANGE_PCT = 30.0  # default price axis of a sweep: the last price +-30 %
MAJOR_CLUSTERS = 10


def _as_profile(view: Heatmap | Profile, at: int = -1) -> Profile:
    """A ``Profile`` from a heatmap (at candle ``at``) or a profile (returned as is)."""
    return view.profile(at) if isinstance(view, Heatmap) else view


def _pct_label(pct: float) -> str:
    """2 -> '2pct', 2.5 -> '2.5pct'."""
    return f"{float(pct):g}pct"


def _overlap(edges: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Share (0..1) of each band that lies inside [lo, hi]."""
    left = np.maximum(edges[:-1], lo)
    right = np.minimum(edges[1:], hi)
    width = np.diff(edges)
    return np.clip((right - left) / np.where(width > 0, width, 1.0), 0.0, 1.0)


def near_price_usd(view: Heatmap | Profile, pcts: Iterable[float] = DEFAULT_WITHIN_PCT, at: int = -1) -> pd.DataFrame:
    """USD at risk near the price: longs within X % below it, shorts within X % above it.

    Parameters
    ----------
    view
        A ``Heatmap`` (its column ``at``) or a ``Profile``.
    pcts
        Window half-widths in percent of the price.
    at
        Candle index for a heatmap.

    Returns
    -------
    pd.DataFrame
        Indexed by pct, columns long_usd, short_usd, total_usd, imbalance (see module docstring).
    """
    rows = _near_rows(_as_profile(view, at), pcts)
    frame = pd.DataFrame(rows, columns=["pct", "long_usd", "short_usd", "total_usd", "imbalance"])
    return frame.set_index("pct")


def _near_rows(prof: Profile, pcts: Iterable[float]) -> list[tuple[float, float, float, float, float]]:
    """(pct, long, short, total, imbalance) for each window: ``near_price_usd`` without pandas."""
    rows = []
    for pct in pcts:
        x = float(pct) / 100.0
        if x < 0:
            raise ValueError("window widths must be non-negative percentages")
        long = float(np.dot(prof.long, _overlap(prof.price_edges, prof.price * (1 - x), prof.price)))
        short = float(np.dot(prof.short, _overlap(prof.price_edges, prof.price, prof.price * (1 + x))))
        total = long + short
        rows.append((float(pct), long, short, total, (long - short) / total if total > 0 else 0.0))
    return rows


def _top_clusters(prof: Profile, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Price, USD and signed distance (%) of the ``n`` largest clusters (``key_levels``'s rows,
    without building a DataFrame: the sweep calls this once per value)."""
    centers = (prof.price_edges[:-1] + prof.price_edges[1:]) / 2
    found = [(usd[lo : hi + 1], centers[lo : hi + 1], total) for usd in (prof.long, prof.short)
             for lo, hi, total in find_clusters(usd)]
    if not found:
        return np.empty(0), np.empty(0), np.empty(0)
    price = np.array([float(np.average(c, weights=w)) if t > 0 else float(c[0]) for w, c, t in found])
    usd = np.array([t for _, _, t in found])
    order = np.argsort(-usd, kind="stable")[:n]
    price, usd = price[order], usd[order]
    return price, usd, (price / prof.price - 1.0) * 100.0


def nearest_clusters(view: Heatmap | Profile, n: int = MAJOR_CLUSTERS, at: int = -1) -> dict[str, float]:
    """Distance (%, positive), price and USD of the nearest major cluster above and below the price.

    Major clusters are the ``n`` largest of ``key_levels``. NaN where there is none on a side.
    Also ``cluster_mean_distance_pct``: the USD-weighted mean distance of the major clusters.
    """
    price, usd, distance = _top_clusters(_as_profile(view, at), n)
    spread = float(np.average(np.abs(distance), weights=usd)) if usd.sum() > 0 else np.nan
    out: dict[str, float] = {"cluster_mean_distance_pct": spread}
    for name, pick in (("above", distance > 0), ("below", distance < 0)):
        if not pick.any():
            out.update({f"cluster_{name}_pct": np.nan, f"cluster_{name}_price": np.nan, f"cluster_{name}_usd": np.nan})
            continue
        i = np.flatnonzero(pick)[np.argmin(np.abs(distance[pick]))]
        out.update({f"cluster_{name}_pct": float(abs(distance[i])), f"cluster_{name}_price": float(price[i]),
                    f"cluster_{name}_usd": float(usd[i])})
    return out


def summarize(
    view: Heatmap | Profile, within_pct: Iterable[float] = DEFAULT_WITHIN_PCT, at: int = -1
) -> dict[str, float]:
    """All metrics of the module docstring as one flat dict (keys like ``long_usd_2pct``)."""
    prof = _as_profile(view, at)
    out: dict[str, float] = {}
    for pct, long, short, total, imbalance in _near_rows(prof, within_pct):
        label = _pct_label(pct)
        out.update({f"long_usd_{label}": long, f"short_usd_{label}": short, f"total_usd_{label}": total,
                    f"imbalance_{label}": imbalance})
    out.update(nearest_clusters(prof))
    return out


def summary_deltas(
    heatmap_a: Heatmap | Profile,
    heatmap_b: Heatmap | Profile,
    within_pct: Iterable[float] = DEFAULT_WITHIN_PCT,
    at: int = -1,
) -> pd.DataFrame:
    """Metrics of two maps side by side: index metric, columns a, b, delta (b - a), delta_pct.

    ``delta_pct`` is ``(b / a - 1) * 100`` (NaN where a is 0 or a metric is missing).
    """
    pcts = tuple(within_pct)
    a = summarize(heatmap_a, pcts, at)
    b = summarize(heatmap_b, pcts, at)
    frame = pd.DataFrame({"a": pd.Series(a), "b": pd.Series(b)})
    frame["delta"] = frame["b"] - frame["a"]
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["delta_pct"] = np.where(frame["a"] != 0, (frame["b"] / frame["a"] - 1.0) * 100.0, np.nan)
    frame.index.name = "metric"
    return frame


def with_value(params: ModelParams, field: str, value: Any) -> ModelParams:
    """``params`` with one assumption changed.

    ``field`` is a ``ModelParams`` field name, or ``"weight_<L>x"`` (e.g. ``"weight_100x"``): the
    normalised weight of leverage tier L set to ``value`` (0..1), the other tiers keeping their
    proportions and sharing the rest (a tier missing from the weights is added).
    """
    if field.startswith("weight_") and field.endswith("x"):
        lev = float(field[len("weight_") : -1])
        share = float(value)
        if not 0.0 <= share <= 1.0:
            raise ValueError("a tier weight must lie in [0, 1]")
        others = {k: w for k, w in params.leverage_weights if float(k) != lev}
        rest = sum(others.values())
        if rest <= 0 and share < 1.0:
            raise ValueError(f"no other tier to take the remaining {1 - share:.0%}")
        weights = {k: (w / rest) * (1.0 - share) for k, w in others.items()} if rest > 0 else {}
        weights[lev] = share
        return replace(params, leverage_weights=weights)
    if field not in {f.name for f in fields(ModelParams)}:
        raise ValueError(f"unknown assumption {field!r}")
    return replace(params, **{field: value})


def _scaled(profile: Profile, long_factor: float, short_factor: float) -> Profile:
    """The same profile with each side's USD multiplied (the long share only scales notional)."""
    return make_profile(
        profile.time, profile.price, profile.price_edges, profile.long * long_factor, profile.short * short_factor
    )


def sweep(
    market: MarketData,
    params: ModelParams,
    field: str,
    values: Sequence[Any],
    within_pct: Iterable[float] = DEFAULT_WITHIN_PCT,
    price_bins: int = 500,
    price_range: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Metrics of the last candle's liquidation map for each value of one assumption.

    Parameters
    ----------
    market
        The market (any source).
    params
        The other assumptions.
    field
        A ``ModelParams`` field or ``"weight_<L>x"`` (see ``with_value``).
    values
        Values to try.
    within_pct
        Windows (percent of the last price) for the USD-at-risk metrics.
    price_bins, price_range
        Price axis shared by every value, so clusters compare: default the last price +-30 %.

    Returns
    -------
    pd.DataFrame
        One row per value: ``value`` then the metrics of ``summarize``.
    """
    pcts = tuple(within_pct)
    last = float(market.candles["close"].iloc[-1])
    axis = price_range or (last * (1 - SWEEP_RANGE_PCT / 100), last * (1 + SWEEP_RANGE_PCT / 100))
    c = market.candles
    index = CrossingIndex(c["low"].to_numpy(dtype="float64"), c["high"].to_numpy(dtype="float64"))

    def profile_of(p: ModelParams) -> Profile:
        return compute_profile(market, p, price_bins=price_bins, price_range=axis, index=index)

    rows = []
    if field.startswith("weight_") and field.endswith("x"):
        # The map is linear in the (normalised) leverage weights: levels, their deaths, closing and
        # decay do not depend on them. So one map per tier, then a weighted sum for each value.
        tiers = {float(k) for k, _ in params.leverage_weights} | {float(field[len("weight_") : -1])}
        unit = {k: profile_of(replace(params, leverage_weights={k: 1.0})) for k in sorted(tiers)}
        first = next(iter(unit.values()))
        for v in values:
            weights = with_value(params, field, v).leverage_weights
            long = sum(w * unit[float(k)].long for k, w in weights)
            short = sum(w * unit[float(k)].short for k, w in weights)
            rows.append({"value": v, **summarize(make_profile(first.time, first.price, first.price_edges, long, short), pcts)})
    elif field == "long_share" and not params.long_share_from_ratio:
        base = profile_of(replace(params, long_share=0.5))
        for v in values:
            s = float(v)
            with_value(params, field, s)  # validates the value
            rows.append({"value": v, **summarize(_scaled(base, s / 0.5, (1 - s) / 0.5), pcts)})
    else:
        for v in values:
            rows.append({"value": v, **summarize(profile_of(with_value(params, field, v)), pcts)})
    return pd.DataFrame(rows)


def comparison_axis(
    markets: Sequence[MarketData], margin: float = 0.06, around_pct: float = SWEEP_RANGE_PCT
) -> tuple[float, float]:
    """One price axis for comparing maps of ``markets``: the last price +-``around_pct`` (the
    sweep's axis, so its curves and the compared maps agree) widened to every market's trading
    range plus ``margin`` (so the whole window can be drawn)."""
    if not markets:
        raise ValueError("no markets")
    last = float(markets[0].candles["close"].iloc[-1])
    low = min(float(m.candles["low"].min()) for m in markets) * (1 - margin)
    high = max(float(m.candles["high"].max()) for m in markets) * (1 + margin)
    return min(low, last * (1 - around_pct / 100)), max(high, last * (1 + around_pct / 100))


def _pct_or_none(value: float) -> str:
    return "none" if not np.isfinite(value) else f"{value:.1f}%"


def describe_change(deltas: pd.DataFrame, within_pct: float = 5.0) -> str:
    """Two plain sentences comparing the maps of ``summary_deltas`` (a: default, b: chosen)."""
    label = _pct_label(within_pct)
    a, b = deltas["a"], deltas["b"]
    if np.allclose(a.fillna(0).to_numpy(), b.fillna(0).to_numpy()) and a.isna().equals(b.isna()):
        return "Your assumptions give the same picture as the default model."
    before, after = a[f"total_usd_{label}"], b[f"total_usd_{label}"]
    change = f" ({(after / before - 1):+.0%})" if before > 0 else ""
    text = (
        f"With your assumptions, {format_usd(after)} of positions would be liquidated by a "
        f"{within_pct:g}% move either way, against {format_usd(before)} in the default model{change}."
    )
    parts = []
    for side, word in (("above", "above"), ("below", "below")):
        now, was = b[f"cluster_{side}_pct"], a[f"cluster_{side}_pct"]
        if np.isfinite(now) or np.isfinite(was):
            parts.append(f"{word} at {_pct_or_none(now)} from the price (default {_pct_or_none(was)})")
    if parts:
        text += " The nearest big cluster is " + " and ".join(parts) + "."
    return text


def comparison_bins(n_candles: int, cells: int = 4_000_000, lo: int = 400, hi: int = 800) -> int:
    """Price bands for a compared map: fine (up to ``hi``) while one side's grid stays within
    ``cells`` cells (bands x candles), never fewer than ``lo``."""
    return int(min(hi, max(lo, cells // max(int(n_candles), 1))))
