"""The assumptions the Leverage sensitivity page can sweep (``SWEEPS``), and the values a sweep runs over.

Each ``SweepSpec`` names a ``core.grid.sweeps`` field, its grid of values and how a value reads.
``core.sensitivity_state`` holds the page's state (its ``sw`` key is one of ``SWEEPS``) and where a
sweep starts from (``sweep_base``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.constants import LEVERAGE_TIERS
from core.grid.sweeps import LADDER_FIELDS, ladder_shape
from core.model import ENTRY_RULES, ModelParams

WEIGHT_KEYS: dict[int, str] = {tier: f"w{tier}" for tier in LEVERAGE_TIERS}


@dataclass(frozen=True)
class SweepSpec:
    """One assumption the page can sweep: its label, ``core.sensitivity`` field, values and unit.

    ``unit`` says how a value reads: "share" (0..1 as %), "rate" (0..1 as %), "hours", "leverage"
    (10x), "number",
    "usd" or "choice" (a name).
    """

    label: str
    field: str
    values: tuple[Any, ...]
    unit: str


def _grid(lo: float, hi: float, n: int = 21) -> tuple[float, ...]:
    return tuple(round(lo + (hi - lo) * i / (n - 1), 10) for i in range(n))


SWEEPS: dict[str, SweepSpec] = {
    **{
        key: SweepSpec(f"Share of {tier}x positions", f"weight_{tier}x", _grid(0.0, 1.0), "share")
        for tier, key in WEIGHT_KEYS.items()
    },
    "sls": SweepSpec("Long share of new positions", "long_share", _grid(0.0, 1.0), "share"),
    "mmr": SweepSpec("Maintenance margin rate (flat)", "mmr", _grid(0.0, 0.05), "rate"),
    "decay": SweepSpec(
        "Decay half-life",
        "decay_half_life",
        (None, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 24.0, 30.0, 36.0, 48.0, 60.0, 72.0, 96.0, 120.0, 144.0, 168.0),
        "hours",
    ),
    "entry": SweepSpec("Entry price rule", "entry", ENTRY_RULES, "choice"),
    "pos": SweepSpec(
        "Position size (exchange brackets)",
        "position_notional",
        tuple(float(10 ** (3 + i / 4)) for i in range(21)),
        "usd",
    ),
    "lmed": SweepSpec("Median leverage (v2 ladder)", "ladder_median",
                      tuple(round(2.0 * 50.0 ** (i / 20), 4) for i in range(21)), "leverage"),
    "lsig": SweepSpec("Leverage spread (v2 ladder)", "ladder_sigma", _grid(0.25, 2.5, 10), "number"),
    "turn": SweepSpec("Turnover per hour", "turnover_per_hour", _grid(0.0, 0.5, 11), "share"),
    "same": SweepSpec("Same-candle share", "same_candle_share", _grid(0.0, 1.0, 11), "share"),
}


def current_value(key: str, params: ModelParams) -> Any:
    """The value of swept assumption ``key`` under ``params`` (a tier's normalised share to 9
    places, the half-life in hours or None, ...)."""
    spec = SWEEPS[key]
    if spec.field.startswith("weight_"):
        tier = int(spec.field[len("weight_") : -1])
        return round(float(params.weights.get(tier, 0.0)), 9)  # 9 places: what the sweep can tell apart
    if spec.field in LADDER_FIELDS:
        shape = ladder_shape(params)
        return None if shape is None else shape[LADDER_FIELDS.index(spec.field)]
    value = getattr(params, spec.field)
    if isinstance(value, pd.Timedelta):
        return value.total_seconds() / 3600.0
    return value


def sweep_values(key: str, params: ModelParams) -> tuple[Any, ...]:
    """The values to sweep for ``key``: the spec's grid plus the current value (so it lies on the curve)."""
    spec = SWEEPS[key]
    current = current_value(key, params)
    if spec.unit == "choice" or current is None or current in spec.values:
        return spec.values
    numbers = sorted({float(v) for v in spec.values if v is not None} | {float(current)})
    head: tuple[Any, ...] = (None,) if None in spec.values else ()
    return head + tuple(numbers)
