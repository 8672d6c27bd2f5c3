"""The liquidation model: liquidation prices, maintenance brackets, ``ModelParams`` and levels.

Everything here follows the reference model v1 (../shared/MODEL.md) unless an option that is off
by default is switched on. The pieces, in the order the model uses them:

* ``new_notional``: USD opened in each candle (dOI_t > 0, or the volume proxy when the market has
  no open-interest history) and ``closing_factors`` (OI_t / OI_{t-1} where open interest fell);
* ``entry_prices``: the entry price E_t of what was opened in candle t (hlc3 by default);
* ``long_shares``: the long share s_t (constant, or from the long/short account ratio);
* ``liquidation_price`` with ``tier_price_ratios``: where each leverage tier of each side is
  liquidated (a ratio to E_t, since the formula is linear in E for a fixed position notional);
* ``build_levels``: all of it together, one ``SideLevels`` per side, ready for ``core.grid``.

``liquidation_price`` lives in ``core.model.liquidation``, the brackets in ``core.model.brackets`` and
``ModelParams`` in ``core.model.params``.

Volume proxy (``ModelParams.oi_proxy``), for markets without open-interest history: in every candle
``proxy_share * volume_t * close_t`` USD of new positions is opened at E_t; nothing is closed by
open-interest falls (there are none to see), but levels decay with ``proxy_half_life`` (unless
``decay_half_life`` is set) so they do not pile up forever. The default share 0.1 and half-life of
12 hours make the steady-state notional alive (0.1 x volume per hour x 12 h / ln 2, about 1.7 hours
of volume) the same order as open interest on a major perpetual, where a day trades two to four
times the open interest. It is a rough proxy: the heatmap says so (``Heatmap.oi_proxy``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.market import MarketData, align_open_interest
from core.model.liquidation import liquidation_price
from core.model.params import ENTRY_RULES, ModelParams, describe_margin


# --------------------------------------------------------------------------------------------
# Per-candle inputs of the model
# --------------------------------------------------------------------------------------------


#: How the model's own note on the volume proxy starts (pages show that one note, once).
PROXY_NOTE_START = "No open-interest history:"

def entry_prices(candles: pd.DataFrame, rule: str = "hlc3") -> np.ndarray:
    """Entry price of what opened in each candle: "hlc3", "close", "open" or "ohlc4".

    (The "range" rule has several entries per candle: ``entry_grid``.)
    """
    h, lo, c, o = (candles[k].to_numpy(dtype="float64") for k in ("high", "low", "close", "open"))
    if rule == "hlc3":
        return (h + lo + c) / 3.0
    if rule == "ohlc4":
        return (o + h + lo + c) / 4.0
    if rule == "close":
        return c.copy()
    if rule == "open":
        return o.copy()
    raise ValueError(f"entry must be one of {ENTRY_RULES}")


def entry_grid(candles: pd.DataFrame, rule: str = "hlc3", points: int = 9) -> np.ndarray:
    """Entries of each candle as an (N, S) array, each carrying 1/S of the candle's new notional.

    "range" (model v2 option): S = ``points`` entries spread evenly over the candle's range,
    E_j = low + (j + 0.5) / S x (high - low), j = 0..S-1. Every other rule: one column,
    ``entry_prices``.
    """
    if rule != "range":
        return entry_prices(candles, rule)[:, None]
    h, lo = (candles[k].to_numpy(dtype="float64") for k in ("high", "low"))
    q = (np.arange(points) + 0.5) / points
    return lo[:, None] + q[None, :] * (h - lo)[:, None]


def entry_counts(candles: pd.DataFrame, params: ModelParams) -> np.ndarray:
    """Number S_t of entries of each candle: 1, or with ``entry="range"`` ``entry_points``.

    With ``level_resolution`` r > 0 a narrow candle gets fewer: S_t = min(entry_points,
    max(1, ceil((high - low) / low / r))), so neighbouring entries stay at most r apart (relative)
    while a 1m candle with a 0.1% range needs one or two levels per leverage instead of nine.
    """
    n = len(candles)
    if params.entry != "range":
        return np.ones(n, dtype="int64")
    if params.level_resolution <= 0:
        return np.full(n, params.entry_points, dtype="int64")
    h, lo = (candles[k].to_numpy(dtype="float64") for k in ("high", "low"))
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.ceil((h - lo) / lo / params.level_resolution)
    need = np.where(np.isfinite(need), need, params.entry_points)
    return np.clip(need, 1, params.entry_points).astype("int64")


def candle_hours(times: pd.DatetimeIndex) -> np.ndarray:
    """Hours since the previous candle's open, per candle (0 for the first): spacing may vary."""
    secs = np.asarray(times.as_unit("ns").asi8, dtype="float64") / 1e9
    return np.diff(secs, prepend=secs[:1]) / 3600.0 if len(secs) else np.zeros(0)


def turnover_shares(market: MarketData, params: ModelParams) -> np.ndarray:
    """Share r_c = 1 - (1 - r)^D of open interest turned over in each candle of D hours.

    0 everywhere when ``turnover_per_hour`` is 0 or under the volume proxy (no open interest to
    turn over); 0 for the first candle (nothing before it).
    """
    n = len(market.candles)
    if params.turnover_per_hour == 0.0 or uses_oi_proxy(market, params):
        return np.zeros(n)
    hours = candle_hours(pd.DatetimeIndex(market.candles.index))
    return -np.expm1(hours * math.log1p(-params.turnover_per_hour))


def uses_oi_proxy(market: MarketData, params: ModelParams) -> bool:
    """True when new notional comes from the volume proxy rather than open interest."""
    return params.oi_proxy == "always" or (params.oi_proxy == "auto" and not market.has_open_interest)


def _open_interest(market: MarketData) -> np.ndarray:
    """Open interest as float; negative values are treated as unknown (NaN)."""
    oi = market.open_interest.to_numpy(dtype="float64", na_value=np.nan).copy()
    oi[oi < 0] = np.nan
    return oi


def new_notional(market: MarketData, params: ModelParams) -> np.ndarray:
    """USD notional opened in each candle (MODEL.md step 1, or the volume proxy).

    Open interest: ``max(OI_t - OI_{t-1}, 0)``; 0 for the first candle and wherever either value
    is NaN (unknown open interest changes nothing). Proxy: ``proxy_share * volume_t * close_t``.
    With ``turnover_per_hour`` (v2 option) also ``r_c x OI_{t-1}`` where OI_{t-1} is known.
    """
    if uses_oi_proxy(market, params):
        c = market.candles
        return params.proxy_share * c["volume"].to_numpy(dtype="float64") * c["close"].to_numpy(dtype="float64")
    oi = _open_interest(market)
    d = np.zeros(len(oi))
    if len(oi) > 1:
        d[1:] = oi[1:] - oi[:-1]
    opened = np.where(np.isfinite(d) & (d > 0), d, 0.0)
    if params.turnover_per_hour > 0.0 and len(oi) > 1:
        prev = oi[:-1]
        opened[1:] += np.where(np.isfinite(prev), turnover_shares(market, params)[1:] * np.nan_to_num(prev), 0.0)
    return opened


def closing_factors(market: MarketData, params: ModelParams) -> np.ndarray:
    """Factor OI_t / OI_{t-1} by which alive levels shrink in each candle (MODEL.md step 6).

    1 where open interest did not fall, for the first candle, where either value is NaN, and
    everywhere under the volume proxy; 0 where open interest fell to 0.
    """
    oi = _open_interest(market)
    f = np.ones(len(oi))
    if len(oi) > 1 and not uses_oi_proxy(market, params):
        prev, cur = oi[:-1], oi[1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            falling = np.isfinite(prev) & np.isfinite(cur) & (cur < prev)
            f[1:] = np.where(falling, cur / np.where(falling, prev, 1.0), 1.0)
    return f


def decay_half_life(market: MarketData, params: ModelParams) -> pd.Timedelta | None:
    """Half-life actually applied: ``decay_half_life``, else ``proxy_half_life`` under the proxy."""
    if params.decay_half_life is not None:
        return params.decay_half_life
    return params.proxy_half_life if uses_oi_proxy(market, params) else None


def long_shares(market: MarketData, params: ModelParams) -> np.ndarray:
    """Long share s_t of each candle's new notional (constant, or from the long/short ratio)."""
    n = len(market.candles)
    s = np.full(n, params.long_share)
    ratio = market.long_short_ratio
    if params.long_share_from_ratio and ratio is not None and len(ratio):
        r = align_open_interest(ratio, market.candles.index, market.timeframe).to_numpy(dtype="float64")
        ok = np.isfinite(r) & (r > 0)
        s = np.where(ok, r / (1.0 + np.where(ok, r, 0.0)), s)
    return s


def tier_price_ratios(params: ModelParams, symbol: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Leverage tiers, their weights, and LP / E for a long and a short at each tier.

    For a fixed position notional the liquidation price is proportional to the entry price, so
    one ratio per tier and side gives every level's price. Tiers with weight 0 are dropped.
    """
    pairs = [(lev, w) for lev, w in params.leverage_weights if w > 0]
    lev = np.array([p[0] for p in pairs], dtype="float64")
    w = np.array([p[1] for p in pairs], dtype="float64")
    table = params.table_for(symbol)
    if table is None:
        ratio_long = liquidation_price("long", np.ones_like(lev), lev, mmr=params.mmr)
        ratio_short = liquidation_price("short", np.ones_like(lev), lev, mmr=params.mmr)
    else:
        size = np.minimum(params.position_notional, table.max_notional(lev))
        ratio_long = liquidation_price("long", np.ones_like(lev), lev, notional=size, brackets=table)
        ratio_short = liquidation_price("short", np.ones_like(lev), lev, notional=size, brackets=table)
    return lev, w, np.atleast_1d(ratio_long), np.atleast_1d(ratio_short)


# --------------------------------------------------------------------------------------------
# Levels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideLevels:
    """The levels of one side: one per (birth candle, leverage tier) with new notional.

    Attributes
    ----------
    side
        +1 long, -1 short.
    birth
        Candle index t where the level was opened (int64, ascending).
    leverage
        Leverage tier of each level.
    price
        Liquidation price of each level.
    notional
        USD notional at birth that enters the grid (``new_notional_t * share * weight / S``, less
        the same-candle share).
    born_liquidated
        USD liquidated in the birth candle itself (``same_candle_share`` option), or None (v1).
    """

    side: int
    birth: np.ndarray
    leverage: np.ndarray
    price: np.ndarray
    notional: np.ndarray
    born_liquidated: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.birth)


@dataclass(frozen=True)
class Levels:
    """Both sides' levels plus the per-candle factors that age them.

    ``log_scale[c]`` is the log of the product of every closing factor and decay factor up to
    candle c (closing factors of 0 excluded); ``zero`` marks candles whose closing factor is 0
    (open interest fell to 0: every older level is closed). A level born at t is worth
    ``notional * exp(log_scale[c] - log_scale[t])`` at the close of c if no ``zero`` lies in (t, c].
    """

    long: SideLevels
    short: SideLevels
    log_scale: np.ndarray
    step_factor: np.ndarray
    zero: np.ndarray
    oi_proxy: bool
    half_life: pd.Timedelta | None
    notes: tuple[str, ...] = ()


def _log_scale(
    times: pd.DatetimeIndex, factors: np.ndarray, half_life: pd.Timedelta | None, turnover: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative log scale, per-candle step factor and zero mask (see ``Levels``).

    ``turnover`` (per-candle share r_c closed and reopened) multiplies every older level by 1 - r_c.
    """
    zero = factors <= 0
    logf = np.log(np.where(zero, 1.0, factors))
    if half_life is not None and len(times) > 1:
        ns = times.as_unit("ns").asi8  # the index may hold s, ms or us
        secs = (ns - ns[0]) / 1e9
        logd = -np.diff(secs, prepend=secs[0]) * math.log(2.0) / half_life.total_seconds()
        logf = logf + logd
    if turnover is not None and np.any(turnover > 0):
        logf = logf + np.log1p(-turnover)
    step = np.where(zero, 0.0, np.exp(logf))
    return np.cumsum(logf), step, zero


def build_levels(market: MarketData, params: ModelParams = ModelParams()) -> Levels:
    """All liquidation levels of ``market`` under ``params`` (MODEL.md steps 1-4), both sides.

    Does not follow levels forward in time: ``core.grid`` finds when each dies.
    """
    candles = market.candles
    times = pd.DatetimeIndex(candles.index)
    proxy = uses_oi_proxy(market, params)
    opened = new_notional(market, params)
    entry = entry_prices(candles, params.entry) if params.entry != "range" else None
    counts = entry_counts(candles, params)
    share = long_shares(market, params)
    lev, w, ratio_long, ratio_short = tier_price_ratios(params, market.symbol)
    half_life = decay_half_life(market, params)
    turnover = turnover_shares(market, params)
    log_scale, step, zero = _log_scale(times, closing_factors(market, params), half_life, turnover)
    low, high = (candles[k].to_numpy(dtype="float64") for k in ("low", "high"))

    births = np.flatnonzero(opened > 0)
    k = len(lev)

    def side_levels(sign: int, side_share: np.ndarray, ratio: np.ndarray) -> SideLevels:
        amount = opened[births] * side_share[births]
        keep = amount > 0
        b = births[keep]
        # Layout (birth, tier, entry): S_t entries per tier, S_t * k levels per opening candle.
        cnt = counts[b]
        per_birth = k * cnt
        birth = np.repeat(b, per_birth).astype("int64")
        if entry is not None:  # one entry per candle (v1 rules)
            tier = np.tile(np.arange(k), len(b))
            price = entry[birth] * ratio[tier]
            notional = np.repeat(amount[keep], k) * w[tier]
        else:
            first = np.repeat(np.cumsum(per_birth) - per_birth, per_birth)
            where = np.arange(len(birth)) - first
            s_rep = np.repeat(cnt, per_birth)
            tier, j = where // s_rep, where % s_rep
            e = low[birth] + (j + 0.5) / s_rep * (high[birth] - low[birth])
            price = e * ratio[tier]
            notional = np.repeat(amount[keep], per_birth) * w[tier] / s_rep
        born = None
        if params.same_candle_share > 0:
            inside = price >= low[birth] if sign > 0 else price <= high[birth]
            born = np.where(inside, params.same_candle_share * notional, 0.0)
            notional = np.where(inside, (1.0 - params.same_candle_share) * notional, notional)
        return SideLevels(side=sign, birth=birth, leverage=lev[tier], price=price, notional=notional,
                          born_liquidated=born)

    notes: list[str] = []
    if proxy:
        notes.append(
            f"{PROXY_NOTE_START} new positions are estimated as {params.proxy_share:.0%} of each "
            f"candle's traded USD (volume x close), decaying with a half-life of {_hours(half_life)} "
            "(volume proxy; a rough estimate)."
        )
    elif market.open_interest.isna().any() and market.has_open_interest:
        n_nan = int(market.open_interest.isna().sum())
        notes.append(f"Open interest unknown for {n_nan} candle(s): no positions opened or closed there.")
    if params.decay_half_life is not None:
        notes.append(f"Levels decay with a half-life of {_hours(params.decay_half_life)}.")
    if params.entry == "range":
        notes.append(f"Entries spread over each candle's range ({params.entry_points} points).")
    if params.turnover_per_hour > 0 and not proxy:
        notes.append(f"Turnover: {params.turnover_per_hour:.0%} of open interest closed and reopened per hour.")
    if params.same_candle_share > 0:
        notes.append(f"{params.same_candle_share:.0%} of positions whose liquidation price lies inside their own "
                     "candle's range are liquidated in that candle.")
    if params.long_share_from_ratio:
        notes.append("Long share from the long/short account ratio where known.")
    notes.append(describe_margin(params, market.symbol, market.exchange))
    return Levels(
        long=side_levels(1, share, ratio_long),
        short=side_levels(-1, 1.0 - share, ratio_short),
        log_scale=log_scale,
        step_factor=step,
        zero=zero,
        oi_proxy=proxy,
        half_life=half_life,
        notes=tuple(notes),
    )


def _hours(td: pd.Timedelta | None) -> str:
    """'12 h' style text for a half-life."""
    if td is None:
        return "none"
    hours = td.total_seconds() / 3600.0
    return f"{hours:g} h"
