"""Shareable view state: what the URL's query parameters may say, validated against allowed sets.

Every value read from a URL is checked against a closed set or a numeric range; anything else falls
back to the default and produces a plain notice (which never echoes more than a short, escaped
excerpt of the bad value). Nothing from the URL is used as a cache key before it is validated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from typing import Mapping, Sequence

from core.constants import ALL_EXCHANGES, EXCHANGES, LOOKBACKS, SYMBOLS, TIMEFRAMES
from core.data.bundled import BUNDLED
from core.model.presets import LEVERAGE_MIXES

LIVE = "live"
UPLOAD = "upload"
SOURCE_CHOICES: tuple[str, ...] = (LIVE, *BUNDLED, UPLOAD)
EXCHANGE_CHOICES: tuple[str, ...] = (*EXCHANGES, ALL_EXCHANGES)
SIDE_CHOICES: tuple[str, ...] = ("both", "long", "short")
MAX_PARAM_LENGTH = 64
MAX_CANDLES = 10_080  # 7 days of 1m candles: longer windows need a coarser timeframe


@dataclass(frozen=True)
class View:
    """The shared sidebar selection plus the heatmap page's display controls."""

    src: str = LIVE
    ex: str = "binanceusdm"
    sym: str = "BTC/USDT:USDT"
    tf: str = "5m"
    lb: str = "3d"
    side: str = "both"
    clip: float = 99.0
    zoom: float = 6.0
    ls: float = 0.5
    mix: str = "v1"

    def to_params(self) -> dict[str, str]:
        """Query parameters for this view (only what differs from the default, to keep links short)."""
        default = View()
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value != getattr(default, f.name):
                out[f.name] = _format(value)
        return out


CHOICES: dict[str, tuple[str, ...]] = {
    "src": SOURCE_CHOICES,
    "ex": EXCHANGE_CHOICES,
    "sym": SYMBOLS,
    "tf": tuple(TIMEFRAMES),
    "lb": tuple(LOOKBACKS),
    "side": SIDE_CHOICES,
    "mix": tuple(LEVERAGE_MIXES),
}
RANGES: dict[str, tuple[float, float]] = {"clip": (50.0, 100.0), "zoom": (1.0, 25.0), "ls": (0.0, 1.0)}


def _format(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def excerpt(value: str, limit: int = 24) -> str:
    """A short excerpt of an untrusted value for a notice: letters, digits, ``.`` and ``-`` only.

    Notices are shown with ``st.warning``, which renders Markdown: any other character is
    replaced by ``?`` so a link cannot inject a Markdown link or image (``[x](javascript:…)``,
    ``![](//host/pixel)``), a colour directive, LaTeX, or bidi/NUL control characters.
    """
    text = re.sub(r"[^A-Za-z0-9.-]", "?", value[:limit])
    return f"'{text}{'…' if len(value) > limit else ''}'"


def last_value(value: str | Sequence[str]) -> str:
    """The last value of a query parameter (a repeated key counts by its last value)."""
    if isinstance(value, str):
        return value
    return value[-1] if len(value) else ""


def parse_view(params: Mapping[str, str | Sequence[str]], default: View = View()) -> tuple[View, tuple[str, ...]]:
    """Validate query parameters into a ``View``; bad values fall back to defaults with notices.

    Repeated keys: the last value counts. Unknown keys are ignored (they never reach a cache key).
    """
    values: dict[str, object] = {}
    notices: list[str] = []
    for name, allowed in CHOICES.items():
        if name not in params:
            continue
        raw = last_value(params[name])
        if raw in allowed:
            values[name] = raw
        else:
            notices.append(f"Ignored {name}={excerpt(raw)} from the link: not one of the allowed values.")
    for name, (lo, hi) in RANGES.items():
        if name not in params:
            continue
        raw = last_value(params[name])
        try:
            number = float(raw) if len(raw) <= MAX_PARAM_LENGTH else math.nan
        except ValueError:
            number = math.nan
        if math.isfinite(number) and lo <= number <= hi:
            values[name] = number
        else:
            notices.append(f"Ignored {name}={excerpt(raw)} from the link: expected a number from {lo:g} to {hi:g}.")
    view = replace(default, **values)
    if candle_count(view.tf, view.lb) > MAX_CANDLES:
        notices.append(f"{view.lb} of {view.tf} candles is too many to draw: showing 7d instead.")
        view = replace(view, lb="7d")
    return view, tuple(notices)


def candle_count(timeframe: str, lookback: str) -> int:
    """How many candles a lookback holds at a timeframe."""
    return int(LOOKBACKS[lookback] / TIMEFRAMES[timeframe])
