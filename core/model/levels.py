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

Volume proxy (``ModelParams.oi_proxy``), for markets without open-interest history: in every candle
``proxy_share * volume_t * close_t`` USD of new positions is opened at E_t; nothing is closed by
open-interest falls (there are none to see), but levels decay with ``proxy_half_life`` (unless
``decay_half_life`` is set) so they do not pile up forever. The default share 0.1 and half-life of
12 hours make the steady-state notional alive (0.1 x volume per hour x 12 h / ln 2, about 1.7 hours
of volume) the same order as open interest on a major perpetual, where a day trades two to four
times the open interest. It is a rough proxy: the heatmap says so (``Heatmap.oi_proxy``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Union

import numpy as np
import pandas as pd

from core.constants import DEFAULT_LEVERAGE_WEIGHTS, DEFAULT_LONG_SHARE, DEFAULT_MMR
from core.data.market import MarketData, align_open_interest

BRACKETS_DIR = Path(__file__).resolve().parents[1] / "data" / "brackets"
BRACKETS_FILE = BRACKETS_DIR / "binance_usdm_2024-08-01.json"

ENTRY_RULES: tuple[str, ...] = ("hlc3", "close", "open", "ohlc4")
OI_PROXY_MODES: tuple[str, ...] = ("auto", "always", "never")
EXCHANGE_BRACKETS = "exchange"

ArrayLike = Union[float, np.ndarray]


# --------------------------------------------------------------------------------------------
# Maintenance brackets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BracketTable:
    """An exchange's maintenance-margin brackets for one symbol (hashable, immutable).

    Bracket n holds positions with ``floors[n] < notional <= caps[n]`` (USD; the cap is the
    largest notional the bracket allows, so a position at a bracket's cap may use its leverage);
    the first bracket also holds 0 and the last anything above its cap. ``amounts`` is Binance's
    ``cum`` (maintenance amount),
    which makes the maintenance margin ``notional * rate - amount`` continuous across brackets.
    """

    symbol: str
    floors: tuple[float, ...]
    caps: tuple[float, ...]
    rates: tuple[float, ...]
    max_leverage: tuple[float, ...]
    amounts: tuple[float, ...]
    exchange: str = "binanceusdm"
    as_of: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.floors)
        if n == 0 or any(len(x) != n for x in (self.caps, self.rates, self.max_leverage, self.amounts)):
            raise ValueError("a bracket table needs at least one bracket and equally long columns")
        if list(self.floors) != sorted(self.floors) or self.floors[0] != 0:
            raise ValueError("bracket floors must start at 0 and ascend")

    def bracket_index(self, notional: ArrayLike) -> np.ndarray:
        """Index (0-based) of the bracket holding each position ``notional`` (USD, absolute)."""
        q = np.abs(np.asarray(notional, dtype="float64"))
        return np.clip(np.searchsorted(np.asarray(self.floors), q, side="left") - 1, 0, len(self.floors) - 1)

    def maintenance(self, notional: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Maintenance rate and maintenance amount (``cum``) of the bracket holding ``notional``."""
        idx = self.bracket_index(notional)
        return np.asarray(self.rates)[idx], np.asarray(self.amounts)[idx]

    def max_notional(self, leverage: ArrayLike) -> np.ndarray:
        """Largest position notional allowed at ``leverage`` (cap of the last bracket allowing it).

        Leverage above the first bracket's maximum is capped by the first bracket.
        """
        lev = np.asarray(leverage, dtype="float64")
        max_lev = np.asarray(self.max_leverage)  # descending
        allowed = (max_lev[None, :] >= lev.reshape(-1, 1)).sum(axis=1)  # brackets 0..allowed-1 allow it
        out = np.asarray(self.caps)[np.clip(allowed - 1, 0, None)]
        return out.reshape(lev.shape)


@lru_cache(maxsize=4)
def _bracket_file(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _symbol_key(symbol: str) -> str:
    """'BTCUSDT', 'BTC/USDT' or 'BTC/USDT:USDT' -> 'BTC/USDT:USDT' (linear USDT perpetuals)."""
    s = symbol.strip().upper()
    if "/" in s:
        base, _, rest = s.partition("/")
        quote = rest.split(":")[0]
        return f"{base}/{quote}:{quote}"
    if s.endswith("USDT"):
        return f"{s[:-4]}/USDT:USDT"
    return s


def brackets_for(symbol: str) -> BracketTable | None:
    """Binance USD-M maintenance brackets for ``symbol`` (2024-08-01 table), or None if not shipped.

    Shipped: BTC/USDT:USDT and ETH/USDT:USDT (``data/brackets/binance_usdm_2024-08-01.json``,
    transcribed from MODEL.md). Other symbols get None: the model then falls back to the flat
    maintenance rate ``ModelParams.mmr`` with no maintenance amount, and ``describe_margin`` says so.
    """
    doc = _bracket_file(str(BRACKETS_FILE))
    rows = doc["symbols"].get(_symbol_key(symbol))
    if rows is None:
        return None
    return BracketTable(
        symbol=_symbol_key(symbol),
        floors=tuple(float(r["notional_floor"]) for r in rows),
        caps=tuple(float(r["notional_cap"]) for r in rows),
        rates=tuple(float(r["maintenance_rate"]) for r in rows),
        max_leverage=tuple(float(r["max_leverage"]) for r in rows),
        amounts=tuple(float(r["maintenance_amount"]) for r in rows),
        exchange=doc["exchange"],
        as_of=doc["as_of"],
        source=doc["source"],
    )


# --------------------------------------------------------------------------------------------
# Liquidation price
# --------------------------------------------------------------------------------------------


def _side_sign(side: str | int | np.ndarray) -> np.ndarray | int:
    """+1 for a long, -1 for a short ("long"/"short", 1/-1, or an array of +-1)."""
    if isinstance(side, str):
        s = side.lower()
        if s not in ("long", "short"):
            raise ValueError(f"side must be 'long' or 'short', not {side!r}")
        return 1 if s == "long" else -1
    sign = np.asarray(side)
    if not np.isin(sign, (1, -1)).all():
        raise ValueError("a numeric side must be 1 (long) or -1 (short)")
    return sign if sign.ndim else int(sign)


def liquidation_price(
    side: str | int | np.ndarray,
    entry: ArrayLike,
    leverage: ArrayLike,
    mmr: ArrayLike = DEFAULT_MMR,
    maintenance_amount: ArrayLike = 0.0,
    notional: ArrayLike | None = None,
    brackets: BracketTable | None = None,
) -> ArrayLike:
    """Liquidation price of a Binance USD-M position in isolated margin.

    Binance's liquidation-price FAQ ("How to Calculate Liquidation Price of USDⓈ-M Contracts"),
    one position in isolated mode, written once with ``side = 1`` for a long, ``-1`` for a short
    (MODEL.md, reference model v1, step 4)::

        LP = (E * (1 - side / L) - side * cum / Q) / (1 - side * m),   Q = notional / E

    that is ``(E(1 - 1/L) - cum/Q) / (1 - m)`` for a long and ``(E(1 + 1/L) + cum/Q) / (1 + m)``
    for a short. The isolated margin is ``notional / L``: Binance's wallet balance WB of an isolated
    position. For a cross-margin position, pass ``leverage = notional / (WB - TMM1 + UPNL1)``
    (the margin that backs the position; see tests/test_model.py).

    Parameters
    ----------
    side
        "long" or "short" (or +1 / -1, possibly an array).
    entry
        Entry price E (> 0); float or array.
    leverage
        Leverage L (> 0); float or array, broadcast with ``entry``.
    mmr
        Maintenance margin rate m (flat; ignored when ``brackets`` is given).
    maintenance_amount
        Maintenance amount ``cum`` in USD (ignored when ``brackets`` is given).
    notional
        Position notional in USD at entry (E * Q). Needed when ``cum`` is not 0 or with
        ``brackets``; float or array.
    brackets
        A ``BracketTable``: m and cum come from the bracket that holds ``notional``.

    Returns
    -------
    float or ndarray
        The liquidation price (a float when every input is a scalar). It can be <= 0 for a low
        leverage long: such a position is never liquidated.
    """
    sign = _side_sign(side)
    e = np.asarray(entry, dtype="float64")
    lev = np.asarray(leverage, dtype="float64")
    if np.any(e <= 0) or np.any(lev <= 0):
        raise ValueError("entry and leverage must be positive")
    if brackets is not None:
        if notional is None:
            raise ValueError("with brackets, the position notional is needed to find its bracket")
        m, cum = brackets.maintenance(notional)
    else:
        m = np.asarray(mmr, dtype="float64")
        cum = np.asarray(maintenance_amount, dtype="float64")
    if np.any(m < 0) or np.any(m >= 1):
        raise ValueError("the maintenance rate must lie in [0, 1)")
    if notional is None:
        if np.any(cum != 0):
            raise ValueError("a maintenance amount needs the position notional")
        cum_per_unit = 0.0
    else:
        q_usd = np.abs(np.asarray(notional, dtype="float64"))
        if np.any(q_usd <= 0):
            raise ValueError("the position notional must be positive")
        cum_per_unit = cum * e / q_usd  # cum / Q with Q = notional / E
    price = (e * (1.0 - sign / lev) - sign * cum_per_unit) / (1.0 - sign * m)
    return float(price) if np.ndim(price) == 0 else price


# --------------------------------------------------------------------------------------------
# Model parameters
# --------------------------------------------------------------------------------------------


def _number(value: float) -> float | int:
    """An int when the value is integral (so 25 and 25.0 print alike), else a float."""
    x = float(value)
    return int(x) if x.is_integer() else x


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
        Entry price of what opened in a candle: "hlc3" (v1), "close", "open" or "ohlc4".
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
        if self.entry not in ENTRY_RULES:
            raise ValueError(f"entry must be one of {ENTRY_RULES}")
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
            return f"Liquidation prices use {flat} (reference model v1)."
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


# --------------------------------------------------------------------------------------------
# Per-candle inputs of the model
# --------------------------------------------------------------------------------------------


def entry_prices(candles: pd.DataFrame, rule: str = "hlc3") -> np.ndarray:
    """Entry price of what opened in each candle: "hlc3", "close", "open" or "ohlc4"."""
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
    """
    if uses_oi_proxy(market, params):
        c = market.candles
        return params.proxy_share * c["volume"].to_numpy(dtype="float64") * c["close"].to_numpy(dtype="float64")
    oi = _open_interest(market)
    d = np.zeros(len(oi))
    if len(oi) > 1:
        d[1:] = oi[1:] - oi[:-1]
    return np.where(np.isfinite(d) & (d > 0), d, 0.0)


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
        USD notional at birth (``new_notional_t * share * weight``).
    """

    side: int
    birth: np.ndarray
    leverage: np.ndarray
    price: np.ndarray
    notional: np.ndarray

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
    times: pd.DatetimeIndex, factors: np.ndarray, half_life: pd.Timedelta | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative log scale, per-candle step factor and zero mask (see ``Levels``)."""
    zero = factors <= 0
    logf = np.log(np.where(zero, 1.0, factors))
    if half_life is not None and len(times) > 1:
        secs = (times.asi8 - times.asi8[0]) / 1e9
        logd = -np.diff(secs, prepend=secs[0]) * math.log(2.0) / half_life.total_seconds()
        logf = logf + logd
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
    entry = entry_prices(candles, params.entry)
    share = long_shares(market, params)
    lev, w, ratio_long, ratio_short = tier_price_ratios(params, market.symbol)
    half_life = decay_half_life(market, params)
    log_scale, step, zero = _log_scale(times, closing_factors(market, params), half_life)

    births = np.flatnonzero(opened > 0)
    k = len(lev)

    def side_levels(sign: int, side_share: np.ndarray, ratio: np.ndarray) -> SideLevels:
        amount = opened[births] * side_share[births]
        keep = amount > 0
        b = births[keep]
        return SideLevels(
            side=sign,
            birth=np.repeat(b, k).astype("int64"),
            leverage=np.tile(lev, len(b)),
            price=(entry[b][:, None] * ratio[None, :]).ravel(),
            notional=(amount[keep][:, None] * w[None, :]).ravel(),
        )

    notes: list[str] = []
    if proxy:
        notes.append(
            f"No open-interest history: new positions are estimated as {params.proxy_share:.0%} of each "
            f"candle's traded USD (volume x close), decaying with a half-life of {_hours(half_life)} "
            "(volume proxy; a rough estimate)."
        )
    elif market.open_interest.isna().any() and market.has_open_interest:
        n_nan = int(market.open_interest.isna().sum())
        notes.append(f"Open interest unknown for {n_nan} candle(s): no positions opened or closed there.")
    if params.decay_half_life is not None:
        notes.append(f"Levels decay with a half-life of {_hours(params.decay_half_life)}.")
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
