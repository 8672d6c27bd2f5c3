"""Liquidation price of one isolated position (Binance USD-M formula)."""

from __future__ import annotations

import numpy as np

from core.constants import DEFAULT_MMR
from core.model.brackets import ArrayLike, BracketTable


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
    (the margin that backs the position; see tests/core/model/test_model.py).

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
