"""Downloads: the grid and the key levels as CSV (formula-safe). (The heatmap page's PNG is drawn by
its canvas component in the browser, from the picture the user sees: ui/components/heatmap.js.)

CSV cells that a spreadsheet would read as a formula (text starting with = + - @, tab or carriage
return) are prefixed with a single quote (OWASP, "CSV Injection"). Numbers stay numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.charts.raster import visible_rows
from core.grid.types import Heatmap

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) formula-escaped."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].map(escape_cell)
    out.columns = [escape_cell(str(c)) for c in out.columns]
    return out


def price_decimals(prices: pd.Series) -> int:
    """Decimals that keep about six significant digits of the typical price (BTC 84,213.4: 1, the
    exchanges' 0.1 tick; ETH 3,412.57: 2; DOGE 0.162345: 6)."""
    typical = float(np.nanmedian(np.abs(prices.to_numpy(dtype="float64")))) if len(prices) else 0.0
    if not np.isfinite(typical) or typical <= 0:
        return 2
    return int(min(max(5 - np.floor(np.log10(typical)), 0), 8))


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with readable numbers: USD columns to the dollar, price columns to about the tick,
    other floats to 4 decimals (a CSV of 10-decimal floats helps nobody)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_float_dtype(out[column]):
            continue
        name = str(column).lower()
        if "usd" in name:
            out[column] = out[column].round(0)
        elif "price" in name:
            out[column] = out[column].round(price_decimals(out[column]))
        else:
            out[column] = out[column].round(4)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Formula-safe CSV bytes (UTF-8, no index), numbers rounded (``rounded``)."""
    return csv_safe(rounded(frame)).to_csv(index=False).encode("utf-8")


def grid_frame(hm: Heatmap, price_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """The grid in long form (one row per non-empty cell): time, band, long and short USD."""
    rows = visible_rows(hm, price_range)
    longs, shorts = hm.long[rows], hm.short[rows]
    band, col = np.nonzero((longs > 0) | (shorts > 0))
    edges = hm.price_edges[rows.start : rows.stop + 1]
    return pd.DataFrame(
        {
            "time_utc": hm.times[col],
            "price_low": edges[band],
            "price_high": edges[band + 1],
            "long_usd": longs[band, col],
            "short_usd": shorts[band, col],
        }
    )
