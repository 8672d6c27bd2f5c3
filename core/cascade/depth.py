"""Book depth for the what-if: an offline estimate from traded volume (``depth_from_volume``) and the
choice between the live order book, that estimate, an open-interest floor and a placeholder
(``estimate_depth``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.constants import candle_length
from core.format import format_usd

DEFAULT_DEPTH_FACTOR = 0.1


def _candles_of(source) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, pd.Timedelta]:
    if hasattr(source, "liquidated_long") or (hasattr(source, "times") and hasattr(source, "volume")):
        times, close, volume = pd.DatetimeIndex(source.times), source.close, source.volume
        timeframe = getattr(source, "timeframe", "")
    else:
        candles = getattr(source, "candles", source)
        if not isinstance(candles, pd.DataFrame):
            raise TypeError("depth_from_volume needs a Heatmap, a MarketData or a candles DataFrame")
        times, close, volume = pd.DatetimeIndex(candles.index), candles["close"], candles["volume"]
        timeframe = getattr(source, "timeframe", "")
    step = candle_length(timeframe, times)
    return times, np.asarray(close, dtype=float), np.asarray(volume, dtype=float), step


def depth_from_volume(source, factor: float = DEFAULT_DEPTH_FACTOR) -> float:
    """Rough book depth (USD that moves the price 1%) from the window's traded volume; offline only.

    Heuristic: ``factor`` x the median hourly quote volume. Quote volume per candle is
    ``volume * close`` (volume in base units); candles are summed into clock hours, and an hour
    covered only in part (gaps, the window's edges) is scaled up to a full hour; candles longer than
    an hour count at their hourly rate. The default ``factor`` (0.1) assumes that the resting
    orders within 1% of the price are worth about a tenth of what trades in a typical hour. It is a
    rule of thumb for when no order book is at hand, not a measurement; the live order-book depth
    from the data layer replaces it.

    Parameters
    ----------
    source
        A ``Heatmap``, a ``MarketData`` or a candles DataFrame (UTC index; close, volume).
    factor
        Depth as a share of the median hourly quote volume (> 0).

    Returns
    -------
    float
        USD per 1% move; NaN when there is no volume.
    """
    if not factor > 0:
        raise ValueError("factor must be positive")
    times, close, volume, step = _candles_of(source)
    quote = close * volume
    ok = np.isfinite(quote)
    if not ok.any() or len(times) == 0:
        return float("nan")
    hours = step / pd.Timedelta(hours=1)
    if hours >= 1:
        rates = quote[ok] / hours
    else:
        frame = pd.DataFrame({"quote": quote[ok], "cover": hours}, index=times[ok])
        per_hour = frame.groupby(frame.index.floor("h")).sum()
        rates = (per_hour["quote"] / per_hour["cover"].clip(upper=1.0)).to_numpy()
    rates = rates[rates > 0]
    return float(np.median(rates) * factor) if len(rates) else float("nan")


#: Floor of the offline depth estimate: USD that moves the price 1%, as a share of the open
#: interest. Where volume and open interest come from one market (the bundled Binance Feb 2026
#: crash), ``depth_from_volume`` is about 1.6% of the median open interest; forced orders on one
#: venue are also absorbed by other venues' books through arbitrage, so 2% is used. The floor
#: matters where the window's volume comes from a small market (the bundled Sep 2026 sample's
#: price and volume are bitFlyer's, its open interest OKX's: the volume rule gives $0.4M per 1%
#: against $3.4B of open interest, and any shock would cascade to zero).
DEPTH_OI_SHARE = 0.02
#: Last resort when there is neither volume nor open interest to go by (USD per 1%).
PLACEHOLDER_DEPTH_USD = 10e6


@dataclass(frozen=True)
class DepthEstimate:
    """The book depth the what-if starts from, and where it came from in plain words.

    ``source`` is "order book", "volume", "open interest" or "placeholder".
    """

    usd_per_pct: float
    source: str
    explanation: str


def typical_open_interest(series) -> float:
    """Sum over markets of each one's median open interest (USD); NaN when none is known.

    ``series``: an iterable of open-interest Series (NaN where unknown), one per market.
    """
    medians = [float(s.median()) for s in series if s is not None and s.notna().any()]
    return float(sum(medians)) if medians else float("nan")


def _positive(value) -> bool:
    return value is not None and bool(np.isfinite(value)) and value > 0


def estimate_depth(
    volume_depth: float,
    open_interest_usd: float,
    book_depth: float | None = None,
    oi_share: float = DEPTH_OI_SHARE,
    oi_is_model: bool = False,
) -> DepthEstimate:
    """Choose the depth (USD per 1% move) for the what-if.

    1. The live order book (``book_depth``), when there is one.
    2. Otherwise the larger of ``volume_depth`` (``depth_from_volume``) and the floor
       ``oi_share * open_interest_usd`` (``DEPTH_OI_SHARE``: see there why).
    3. ``PLACEHOLDER_DEPTH_USD`` when neither is known.

    ``oi_is_model``: the open interest is the model's own open positions (no open-interest
    history; the volume proxy), which the explanation says.
    """
    if _positive(book_depth):
        return DepthEstimate(float(book_depth), "order book",
                             "live order book: bids within 1% below the price and asks within 1% above, averaged")
    oi_words = "the model's open positions (no open-interest history)" if oi_is_model else "the median open interest"
    floor = oi_share * open_interest_usd if _positive(open_interest_usd) else float("nan")
    if _positive(volume_depth) and not (_positive(floor) and floor > volume_depth):
        return DepthEstimate(float(volume_depth), "volume",
                             "estimated from traded volume: a tenth of a typical hour's volume rests within 1% of the price")
    if _positive(floor):
        return DepthEstimate(float(floor), "open interest",
                             f"{oi_share:.0%} of {oi_words} ({format_usd(open_interest_usd)}), a floor: the "
                             f"window's volume alone suggests only {format_usd(volume_depth) if _positive(volume_depth) else 'nothing'}")
    return DepthEstimate(PLACEHOLDER_DEPTH_USD, "placeholder",
                         "no volume or open interest to estimate it from: a placeholder, set it yourself")
