"""Assumption sweeps: how the liquidation map near the price moves when one assumption moves.

Metrics (all at one candle, by default the last): those of ``core.grid.figures`` (USD near the
price, ``long_short_imbalance``, the nearest major clusters), flattened by ``summarize``.

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
from core.grid.crossing import CrossingIndex
from core.grid.engine import compute_profile, compute_tier_profiles
from core.grid.figures import DEFAULT_WITHIN_PCT, as_profile, near_rows, nearest_clusters
from core.grid.types import Heatmap, Profile, make_profile
from core.model.params import ModelParams, lognormal_leverage_weights

SWEEP_RANGE_PCT = 30.0  # default price axis of a sweep: the last price +-30 %


def _pct_label(pct: float) -> str:
    """2 -> '2pct', 2.5 -> '2.5pct'."""
    return f"{float(pct):g}pct"


def summarize(
    view: Heatmap | Profile, within_pct: Iterable[float] = DEFAULT_WITHIN_PCT, at: int = -1
) -> dict[str, float]:
    """All metrics of the module docstring as one flat dict (keys like ``long_usd_2pct``)."""
    prof = as_profile(view, at)
    out: dict[str, float] = {}
    for pct, long, short, total, imbalance in near_rows(prof, within_pct):
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


LADDER_FIELDS: tuple[str, ...] = ("ladder_median", "ladder_sigma")  # model v2's lognormal ladder


def ladder_shape(params: ModelParams) -> tuple[float, float, float, float, int] | None:
    """``(median, sigma, min, max, count)`` of a lognormal ladder (``lognormal_leverage_weights``)
    read back from ``params``' leverage weights, or None when they are not one.

    The rungs must be evenly spaced in log leverage and ln w a downward parabola in ln L:
    ln w = c - 0.5 ((ln L - ln median) / sigma)^2, so sigma = sqrt(-1 / 2a) and ln median = b sigma^2
    for the fit a (ln L)^2 + b ln L + c. Median and sigma are rounded to 9 places (the fit's error
    is ~1e-12), so a preset's ladder comes back exactly.
    """
    lev = np.array([float(k) for k, _ in params.leverage_weights])
    w = np.array([float(v) for _, v in params.leverage_weights])
    if len(lev) < 3 or np.any(w <= 0):
        return None
    x, y = np.log(lev), np.log(w)
    steps = np.diff(x)
    if not np.allclose(steps, steps[0], rtol=1e-9, atol=1e-12):
        return None
    a, b, c = np.polyfit(x, y, 2)
    if a >= 0 or np.max(np.abs(np.polyval((a, b, c), x) - y)) > 1e-6:
        return None
    sigma = float(np.sqrt(-1.0 / (2.0 * a)))
    return round(float(np.exp(b * sigma**2)), 9), round(sigma, 9), float(lev[0]), float(lev[-1]), len(lev)


def with_value(params: ModelParams, field: str, value: Any) -> ModelParams:
    """``params`` with one assumption changed.

    ``field`` is a ``ModelParams`` field name, or ``"weight_<L>x"`` (e.g. ``"weight_100x"``): the
    normalised weight of leverage tier L set to ``value`` (0..1), the other tiers keeping their
    proportions and sharing the rest (a tier missing from the weights is added); or
    ``"ladder_median"`` / ``"ladder_sigma"``: the median or spread of a lognormal ladder (model v2),
    its rungs and the other shape parameter kept (``ladder_shape``).
    """
    if field in LADDER_FIELDS:
        shape = ladder_shape(params)
        if shape is None:
            raise ValueError("the leverage weights are not a lognormal ladder")
        median, sigma, lo, hi, count = shape
        median, sigma = (float(value), sigma) if field == "ladder_median" else (median, float(value))
        return replace(params, leverage_weights=lognormal_leverage_weights(median, sigma, lo, hi, count))
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
    if (field.startswith("weight_") and field.endswith("x")) or field in LADDER_FIELDS:
        # The map is linear in the (normalised) leverage weights: levels, their deaths, closing,
        # turnover and decay do not depend on them. So one map per tier, then a weighted sum for each value.
        tiers = {float(k) for k, _ in params.leverage_weights}
        if field.startswith("weight_"):
            tiers |= {float(field[len("weight_") : -1])}
        unit = compute_tier_profiles(market, params, sorted(tiers), price_bins, axis, index)
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


def _cluster_words(side: str, now: float, was: float) -> str:
    """"above at 3.2% from the price (default 4.1%)", in words when one of the maps has no big cluster there."""
    if not np.isfinite(now):
        return f"gone {side} (the default model has one at {was:.1f}%)"
    default = f"default {was:.1f}%" if np.isfinite(was) else "the default model has none there"
    return f"{side} at {now:.1f}% from the price ({default})"


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
    for side in ("above", "below"):
        now, was = b[f"cluster_{side}_pct"], a[f"cluster_{side}_pct"]
        if np.isfinite(now) or np.isfinite(was):
            parts.append(_cluster_words(side, now, was))
    if parts:
        text += " The nearest big cluster: " + "; ".join(parts) + "."
    return text


def comparison_bins(n_candles: int, cells: int = 4_000_000, lo: int = 400, hi: int = 800) -> int:
    """Price bands for a compared map: fine (up to ``hi``) while one side's grid stays within
    ``cells`` cells (bands x candles), never fewer than ``lo``."""
    return int(min(hi, max(lo, cells // max(int(n_candles), 1))))
