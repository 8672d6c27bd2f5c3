"""Numbers and times in a trader's words: $1.2B, 84,213, "14 min ago"."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # only for the annotations: importing this module stays cheap (no pandas)
    import pandas as pd


def format_usd(value: float) -> str:
    """USD in trader's short form: $1.2B, $412M, $3.0M, $850K, $12 (negative amounts get a sign)."""
    v = abs(float(value))
    sign = "-" if value < 0 else ""
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= div:
            scaled = v / div
            text = f"{scaled:.1f}" if scaled < 10 else f"{scaled:.0f}"
            return f"{sign}${text}{unit}"
    return f"{sign}${v:.0f}"


def article(number_text: str) -> str:
    """"a" or "an" before a number as it is read aloud: an 8% / an 11% / an 18.2% / an 80%, a 1.5%."""
    whole = number_text.lstrip("+-$").split(".")[0].replace(",", "")
    eleven = len(whole) % 3 == 2 and whole[:2] in ("11", "18")
    return "an" if whole.startswith("8") or eleven else "a"


def format_price(value: float) -> str:
    """A price with precision suited to its size (84,213 / 3,412.50 / 0.5123)."""
    v = float(value)
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:,.2f}"
    return f"{v:,.4f}"


def format_price_bands(lows: Iterable[float], highs: Iterable[float]) -> list[str]:
    """Price bands in words, one per (low, high) pair: "62,000 – 62,150"."""
    return [f"{format_price(lo)} – {format_price(hi)}" for lo, hi in zip(lows, highs)]


def format_age(then: pd.Timestamp, now: pd.Timestamp | None = None) -> str:
    """How long ago ``then`` was, in plain words ("just now", "14 min ago", "3 h ago", "2 days ago")."""
    now = now if now is not None else datetime.now(timezone.utc)
    seconds = max((now - then).total_seconds(), 0.0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"
