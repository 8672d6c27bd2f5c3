"""Exchange maintenance-margin brackets (the bracket table and its loader).

Binance USD-M publishes maintenance brackets per symbol; the shipped table is
``data/brackets/binance_usdm_2024-08-01.json`` (transcribed from ../shared/MODEL.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Union

import numpy as np

ArrayLike = Union[float, np.ndarray]

BRACKETS_DIR = Path(__file__).resolve().parents[2] / "data" / "brackets"
BRACKETS_FILE = BRACKETS_DIR / "binance_usdm_2024-08-01.json"
EXCHANGE_BRACKETS = "exchange"  # ModelParams.brackets value: use the exchange's table


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
