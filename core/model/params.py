"""``ModelParams``: every assumption of the liquidation model (defaults: reference model v1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from core.constants import DEFAULT_LEVERAGE_WEIGHTS, DEFAULT_LONG_SHARE, DEFAULT_MMR
from core.model.brackets import EXCHANGE_BRACKETS, BracketTable, brackets_for

ENTRY_RULES: tuple[str, ...] = ("hlc3", "close", "open", "ohlc4")  # one entry price per candle
RANGE_ENTRY = "range"  # model v2 option: ``entry_points`` entries spread over the candle's range
ALL_ENTRY_RULES: tuple[str, ...] = ENTRY_RULES + (RANGE_ENTRY,)
BINANCE_MAX_LEVERAGE = 125  # BTCUSDT's first bracket (MODEL.md, Binance USD-M risk limits)
OI_PROXY_MODES: tuple[str, ...] = ("auto", "always", "never")


def _number(value: float) -> float | int:
    """An int when the value is integral (so 25 and 25.0 print alike), else a float."""
    x = float(value)
    return int(x) if x.is_integer() else x


def lognormal_leverage_weights(
    median: float = 10.0,
    sigma: float = 1.0,
    min_leverage: float = 2.0,
    max_leverage: float = BINANCE_MAX_LEVERAGE,
    count: int = 24,
) -> tuple[tuple[float, float], ...]:
    """A leverage ladder with lognormal weights (model v2 option), for ``ModelParams.leverage_weights``.

    ``count`` leverages evenly spaced in log from ``min_leverage`` to ``max_leverage``
    (L_i = exp(ln min + i/(count-1) x (ln max - ln min))), weighted
    w_i ~ exp(-0.5 x ((ln L_i - ln median) / sigma)^2) and normalised to sum 1. The default reaches
    Binance's maximum of 125x on BTCUSDT.
    """
    if count < 1 or sigma <= 0 or median <= 0 or not 1.0 <= min_leverage <= max_leverage:
        raise ValueError("a ladder needs count >= 1, sigma > 0, median > 0 and 1 <= min <= max leverage")
    if count == 1:
        lev = np.array([float(min_leverage)])
    else:
        lev = np.exp(np.linspace(math.log(min_leverage), math.log(max_leverage), count))
        lev[0], lev[-1] = min_leverage, max_leverage  # exactly, not exp(log(x))
    w = np.exp(-0.5 * ((np.log(lev) - math.log(median)) / sigma) ** 2)
    w = w / w.sum()
    return tuple((float(x), float(y)) for x, y in zip(lev, w))


def _as_timedelta(value: pd.Timedelta | float | int | None, name: str) -> pd.Timedelta | None:
    """None, a Timedelta, or a number of hours -> Timedelta (positive) or None."""
    if value is None:
        return None
    td = value if isinstance(value, pd.Timedelta) else pd.Timedelta(hours=float(value))
    if td <= pd.Timedelta(0):
        raise ValueError(f"{name} must be positive")
    return td


@dataclass(frozen=True)
class ModelParams:
    """Every assumption of the model; the defaults are the reference model v1 (MODEL.md).

    Hashable and immutable, so pages can cache on it.

    Parameters
    ----------
    leverage_weights
        Leverage -> weight (a mapping or pairs). Normalised to sum 1 on construction and stored as
        a tuple of ``(leverage, weight)`` pairs sorted by leverage. Default 5x .10, 10x .30,
        25x .30, 50x .20, 100x .10.
    long_share
        Share s of new notional that is long (1 - s short). Default 0.5.
    mmr
        Flat maintenance margin rate (v1: 0.005, no maintenance amount); used when ``brackets`` is
        None, and as the fallback for symbols without a table.
    brackets
        None (flat ``mmr``), a ``BracketTable``, or "exchange": the symbol's shipped table
        (``brackets_for``), falling back to the flat ``mmr`` for other symbols.
    position_notional
        With brackets only: the notional (USD) of one representative position, which picks the
        bracket. A tier with leverage L uses ``min(position_notional, largest notional allowed at
        L)``. Default 10,000 USD.
    entry
        Entry price of what opened in a candle: "hlc3" (v1), "close", "open", "ohlc4", or "range"
        (v2 option): ``entry_points`` entries spread evenly over the candle's range,
        E_j = low + (j + 0.5) / S x (high - low), j = 0..S-1, each 1/S of the new notional.
    entry_points
        S, the number of entries with ``entry="range"`` (default 9; ignored by the other rules).
    decay_half_life
        Off in v1 (None). A ``pd.Timedelta`` (or hours): after it, half of a level's notional has
        been closed.
    long_share_from_ratio
        Option (off): take s_t = r/(1+r) from the market's long/short account ratio r, as-of
        aligned to each candle's close (latest observation at or before it, at most a day old);
        candles without an observation use ``long_share``.
    oi_proxy
        "auto" (default): the volume proxy when the market has no open-interest history;
        "always": the proxy even when it has; "never": no proxy (no OI -> no levels).
    proxy_share
        Volume proxy: share of each candle's traded USD (volume * close) that opens positions.
    proxy_half_life
        Volume proxy: decay half-life when ``decay_half_life`` is None (default 12 hours).
    turnover_per_hour
        Off in v1 (0). Share r of open interest closed and reopened per hour (model v2 option):
        in a candle of D hours r_c = 1 - (1 - r)^D; every level alive at the previous close
        shrinks by (1 - r_c) and r_c x OI_{t-1} is opened again at the candle's entries (on top of
        max(dOI, 0); nothing where OI_{t-1} is unknown). Not used by the volume proxy.
    same_candle_share
        Off in v1 (0). Share q of a level born inside its own candle's range (long: LP >= low,
        short: LP <= high) counted as liquidated in that candle (model v2 option); the other
        1 - q lives on and dies at the first crossing after it, as usual.
    level_resolution
        0 (exact, default). With ``entry="range"``: the largest relative gap wanted between
        neighbouring entries; a candle narrower than ``entry_points`` gaps gets fewer entries
        (``core.model.levels.entry_counts``). On 1m candles, whose range is often near 0.1%,
        0.001 needs one or two entries per leverage instead of nine.
    """

    leverage_weights: tuple[tuple[float, float], ...] | Mapping[float, float] = tuple(DEFAULT_LEVERAGE_WEIGHTS.items())
    long_share: float = DEFAULT_LONG_SHARE
    mmr: float = DEFAULT_MMR
    brackets: BracketTable | str | None = None
    position_notional: float = 10_000.0
    entry: str = "hlc3"
    decay_half_life: pd.Timedelta | float | None = None
    long_share_from_ratio: bool = False
    oi_proxy: str = "auto"
    proxy_share: float = 0.1
    proxy_half_life: pd.Timedelta | float = field(default_factory=lambda: pd.Timedelta(hours=12))
    entry_points: int = 9
    turnover_per_hour: float = 0.0
    same_candle_share: float = 0.0
    level_resolution: float = 0.0

    def __post_init__(self) -> None:
        pairs = self.leverage_weights.items() if isinstance(self.leverage_weights, Mapping) else self.leverage_weights
        pairs = sorted((_number(lev), float(w)) for lev, w in pairs)
        if not pairs or any(lev < 1 for lev, _ in pairs) or any(w < 0 or not math.isfinite(w) for _, w in pairs):
            raise ValueError("leverage weights need leverage >= 1 and finite non-negative weights")
        if len({lev for lev, _ in pairs}) != len(pairs):
            raise ValueError("each leverage may appear once in leverage_weights")
        total = sum(w for _, w in pairs)
        if total <= 0:
            raise ValueError("leverage weights must not all be zero")
        if abs(total - 1.0) > 1e-12:
            pairs = [(lev, w / total) for lev, w in pairs]
        object.__setattr__(self, "leverage_weights", tuple(pairs))
        if not 0.0 <= self.long_share <= 1.0:
            raise ValueError("long_share must lie in [0, 1]")
        if not 0.0 <= self.mmr < 1.0:
            raise ValueError("mmr must lie in [0, 1)")
        if isinstance(self.brackets, str) and self.brackets != EXCHANGE_BRACKETS:
            raise ValueError(f"brackets must be None, a BracketTable or {EXCHANGE_BRACKETS!r}")
        if self.position_notional <= 0:
            raise ValueError("position_notional must be positive")
        if self.entry not in ALL_ENTRY_RULES:
            raise ValueError(f"entry must be one of {ALL_ENTRY_RULES}")
        if isinstance(self.entry_points, bool) or int(self.entry_points) != self.entry_points or self.entry_points < 1:
            raise ValueError("entry_points must be a whole number >= 1")
        object.__setattr__(self, "entry_points", int(self.entry_points))
        if not 0.0 <= self.turnover_per_hour < 1.0:
            raise ValueError("turnover_per_hour must lie in [0, 1)")
        if not 0.0 <= self.level_resolution < 1.0:
            raise ValueError("level_resolution must lie in [0, 1)")
        if not 0.0 <= self.same_candle_share <= 1.0:
            raise ValueError("same_candle_share must lie in [0, 1]")
        if self.oi_proxy not in OI_PROXY_MODES:
            raise ValueError(f"oi_proxy must be one of {OI_PROXY_MODES}")
        if self.proxy_share <= 0:
            raise ValueError("proxy_share must be positive")
        object.__setattr__(self, "decay_half_life", _as_timedelta(self.decay_half_life, "decay_half_life"))
        object.__setattr__(self, "proxy_half_life", _as_timedelta(self.proxy_half_life, "proxy_half_life"))

    @property
    def weights(self) -> dict[float, float]:
        """Normalised leverage weights as a dict (leverage -> weight)."""
        return dict(self.leverage_weights)

    def table_for(self, symbol: str) -> BracketTable | None:
        """The bracket table used for ``symbol`` (None: flat ``mmr``)."""
        if self.brackets is None:
            return None
        if isinstance(self.brackets, BracketTable):
            return self.brackets
        return brackets_for(symbol)


def describe_margin(params: ModelParams, symbol: str, exchange: str | None = None) -> str:
    """One plain sentence saying which maintenance table or rate the model used for ``symbol``."""
    table = params.table_for(symbol)
    if table is None:
        flat = f"a flat maintenance margin rate of {params.mmr:.2%} with no maintenance amount"
        if params.brackets is None:
            return f"Liquidation prices use {flat} (as in reference model v1)."
        return f"No maintenance bracket table is shipped for {symbol}: liquidation prices use {flat}."
    lev = np.array([lev for lev, _ in params.leverage_weights])
    size = np.minimum(params.position_notional, table.max_notional(lev))
    idx = sorted(set(int(i) + 1 for i in table.bracket_index(size)))
    which = f"bracket {idx[0]}" if len(idx) == 1 else "brackets " + ", ".join(map(str, idx[:-1])) + f" and {idx[-1]}"
    text = (
        f"Liquidation prices use {table.exchange} maintenance brackets for {table.symbol} as of "
        f"{table.as_of} (rate and maintenance amount of {which}, for a position of "
        f"{params.position_notional:,.0f} USD capped at each leverage's limit)."
    )
    if exchange is not None and exchange != table.exchange:
        text += f" {exchange} publishes its own tiers: the {table.exchange} table is an approximation here."
    return text


def describe_leverage(weights: Mapping[float, float] | tuple[tuple[float, float], ...]) -> str:
    """The leverage mix in a few words: "5x 10%, 10x 30%, ..." for up to five tiers, else its range and
    weighted median ("2x-125x, median 10x") so a 24-rung ladder does not fill a line."""
    weights = dict(weights)
    total = sum(weights.values())
    if len(weights) <= 5:
        return ", ".join(f"{_number(k)}x {v / total:.0%}" for k, v in sorted(weights.items()))
    ordered = sorted(weights.items())
    cumulative, median = 0.0, ordered[-1][0]
    for lev, w in ordered:
        cumulative += w / total
        if cumulative >= 0.5:
            median = lev
            break
    return f"{ordered[0][0]:.0f}x-{ordered[-1][0]:.0f}x, median {median:.0f}x"
