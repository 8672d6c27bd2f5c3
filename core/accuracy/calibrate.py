"""Calibration: fit the model's free parameters to realized liquidations per candle, honestly.

``calibrate`` fits, on the first part of a period only, the parameters of model v2 that nothing
else pins down: the leverage ladder's median and spread (``lognormal_leverage_weights``), the hourly
turnover and the same-candle share. It then scores the fitted model on the rest of the period,
which the search never looked at (time split, no look-ahead: the engine is causal, so the model's
value in a fit candle depends only on candles up to it, and only fit candles enter the objective).

Objective on the fit part: mean Spearman rho of the two sides + 0.5 x mean top-5% capture
(``core.accuracy.per_candle``): ranks for "when", capture for "the biggest hours".

Search: a small grid over the two strongest parameters (median leverage x turnover), then
coordinate descent over all four with steps that halve each round; a move is taken only when it
gains more than ``MIN_GAIN`` (so noise does not move the fit). About 30 model runs; each
needs only the per-candle liquidated totals (``core.grid.compute_liquidated``), so ~2,000
hourly candles take a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core.accuracy.per_candle import (
    DEFAULT_FIT_SHARE,
    DEFAULT_WARMUP,
    PerCandleScorecard,
    score_per_candle,
    scored_mask,
    time_split,
)
from core.data.market import MarketData
from core.grid.crossing import CrossingIndex
from core.grid.engine import compute_liquidated
from core.model.params import BINANCE_MAX_LEVERAGE, ModelParams, lognormal_leverage_weights
from core.model.presets import CALIBRATED_V2, model_params

# The free parameters and where each may go.
BOUNDS: dict[str, tuple[float, float]] = {
    "median": (2.0, 100.0),
    "sigma": (0.25, 2.5),
    "turnover": (0.002, 0.5),
    "same_candle": (0.0, 0.9),
}
START: dict[str, float] = {"median": 10.0, "sigma": 1.0, "turnover": 0.1, "same_candle": 0.25}
GRID: dict[str, tuple[float, ...]] = {"median": (5.0, 10.0, 20.0), "turnover": (0.03, 0.1, 0.3)}
# A move must raise the fit objective by more than this to be taken: smaller gains are noise on
# ~1,000 hours, and chasing them makes the fit wander along flat ridges (median 5 vs 10 differ by
# 0.002 on the three-month set).
MIN_GAIN = 0.002
# Coordinate steps in round 1 (x: multiplicative, +: additive); they halve each round.
STEPS: dict[str, tuple[str, float]] = {
    "median": ("x", 1.5), "sigma": ("+", 0.25), "turnover": ("x", 2.0), "same_candle": ("+", 0.1),
}


@dataclass(frozen=True)
class CalibrationResult:
    """What ``calibrate`` found: the fitted values, the model they make, and both scorecards."""

    values: dict[str, float]
    params: ModelParams
    objective_fit: float
    fit: PerCandleScorecard
    held_out: PerCandleScorecard
    start_fit: PerCandleScorecard
    start_held_out: PerCandleScorecard
    evaluations: int

    @property
    def improved_held_out(self) -> bool:
        """True when the fitted model scores higher than the starting model on the held-out part."""
        return objective(self.held_out) > objective(self.start_held_out)


def objective(card: PerCandleScorecard) -> float:
    """Mean Spearman rho of both sides + 0.5 x mean top-5% capture (NaN counts as 0)."""
    m = card.model
    parts = [np.nan_to_num(v) for v in (m.rho_long, m.rho_short, m.capture_long, m.capture_short)]
    return float((parts[0] + parts[1]) / 2 + 0.5 * (parts[2] + parts[3]) / 2)


def params_for(values: dict[str, float], base: ModelParams) -> ModelParams:
    """``base`` with the four free parameters set to ``values``."""
    return replace(
        base,
        leverage_weights=lognormal_leverage_weights(values["median"], values["sigma"], 2.0, BINANCE_MAX_LEVERAGE, 24),
        turnover_per_hour=values["turnover"],
        same_candle_share=values["same_candle"],
    )


def _clip(name: str, value: float) -> float:
    lo, hi = BOUNDS[name]
    return float(min(max(value, lo), hi))


def calibrate(
    market: MarketData,
    realized: pd.DataFrame,
    base: ModelParams | None = None,
    fit_share: float = DEFAULT_FIT_SHARE,
    warmup: pd.Timedelta = DEFAULT_WARMUP,
    rounds: int = 2,
) -> CalibrationResult:
    """Fit the ladder median/sigma, turnover and same-candle share on the first part of a period.

    Parameters
    ----------
    market
        Candles with open interest (the realized liquidations' exchange(s) need not match).
    realized
        ``long_usd`` and ``short_usd`` per candle (``core.accuracy.realized_candles``); candles
        missing from it count as nothing realized.
    base
        The model whose other options are kept (default: the calibrated v2 preset).
    fit_share
        Share of the scored candles, in time order, used to fit; the rest is held out.
    warmup
        Span at the start that is not scored (the model starts empty).
    rounds
        Rounds of coordinate descent after the grid.

    Raises ValueError when the fit or the held-out part has fewer than 20 scored candles.
    """
    base = model_params(CALIBRATED_V2) if base is None else base
    times = pd.DatetimeIndex(market.candles.index)
    per = realized.reindex(times)
    rl = per["long_usd"].to_numpy(dtype="float64", na_value=0.0)
    rs = per["short_usd"].to_numpy(dtype="float64", na_value=0.0)
    fit_mask, held_mask = time_split(scored_mask(times, rl, rs, warmup), fit_share)
    if fit_mask.sum() < 20 or held_mask.sum() < 20:
        raise ValueError(
            f"too few candles with realized liquidations to fit and check: {int(fit_mask.sum())} to fit, "
            f"{int(held_mask.sum())} held out (at least 20 each, after a warm-up of {pd.Timedelta(warmup)})"
        )
    c = market.candles
    close, high, low = (c[k].to_numpy(dtype="float64") for k in ("close", "high", "low"))
    oi = market.open_interest.to_numpy(dtype="float64", na_value=np.nan)
    index = CrossingIndex(low, high)

    def card(params: ModelParams, mask: np.ndarray) -> PerCandleScorecard:
        ml, ms = compute_liquidated(market, params, index)
        return score_per_candle(times, ml, ms, rl, rs, close, high, low, oi, warmup=warmup, mask=mask)

    seen: dict[tuple, float] = {}

    def fit_score(values: dict[str, float]) -> float:
        key = tuple(round(values[k], 9) for k in sorted(values))
        if key not in seen:
            seen[key] = objective(card(params_for(values, base), fit_mask))
        return seen[key]

    best = dict(START)
    best_score = fit_score(best)
    for median in GRID["median"]:
        for turnover in GRID["turnover"]:
            trial = {**best, "median": median, "turnover": turnover}
            if fit_score(trial) > best_score + MIN_GAIN:
                best, best_score = trial, fit_score(trial)
    for r in range(rounds):
        for name, (kind, step) in STEPS.items():
            step = step ** (0.5**r) if kind == "x" else step * 0.5**r
            moves = (best[name] * step, best[name] / step) if kind == "x" else (best[name] + step, best[name] - step)
            for value in moves:
                trial = {**best, name: _clip(name, value)}
                if fit_score(trial) > best_score + MIN_GAIN:
                    best, best_score = trial, fit_score(trial)
    fitted = params_for(best, base)
    return CalibrationResult(
        values=best,
        params=fitted,
        objective_fit=best_score,
        fit=card(fitted, fit_mask),
        held_out=card(fitted, held_mask),
        start_fit=card(base, fit_mask),
        start_held_out=card(base, held_mask),
        evaluations=len(seen),
    )
