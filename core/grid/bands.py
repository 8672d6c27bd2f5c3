"""One unit for every figure of the heatmap page: USD per price band of a stated, round width.

The model computes USD per model band (``Heatmap.price_edges``: e.g. 500 bands of $77.33). A reader
cannot compare "$47M" with "$23M" unless both are per the same band, so the page re-bins the model
grid once to *display bands* of a round width ("USD per $100 band") and every figure is read from
that one grid: the colours and their legend, the crosshair, the liquidation-map bars, the key
levels and the CSV exports. The brightest cell at the last candle, its profile bar and its key
level are then literally the same number.

* Band width (``display_band_width``): the smallest round width (1, 2, 2.5, 5 x 10^k) that is at
  least the model band width and gives at most ``max_rows`` bands over the model's price range.
* Re-binning (``rebin``): each model band's USD is shared among the display bands it overlaps, in
  proportion to the overlap (USD is assumed spread evenly within a model band); totals are kept.
* Columns (``display_grid``): at most ``max_cols``; a column that groups several candles shows the
  USD alive at the close of its last candle (the heatmap's own definition, MODEL.md "heatmap
  value"), so the last column is exactly the last candle; its candle is the group's OHLC.
* Colour scale (``colour_tops``): the top of the scale is a percentile of the non-empty cells of
  the *whole* grid (every band, every column), never of the visible part, so colours compare
  across zooms. "Highlight" h in 0..100 picks the percentile ``100 - 30 (h/100)^2``: moving it
  right lowers the top, so more cells reach full brightness (``highlight_tops``: the one mapping
  every page's "Highlight" uses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from core.constants import candle_length
from core.grid.figures import find_clusters
from core.grid.types import Heatmap, Profile, _ReadOnlyArrays, make_profile

ROUND_STEPS: tuple[float, ...] = (1.0, 2.0, 2.5, 5.0)
SIDES: tuple[str, ...] = ("both", "long", "short")
HIGHLIGHT_DEFAULT = 20
MAX_ROWS = 400
MAX_COLS = 1200


def display_band_width(price_edges: np.ndarray, max_rows: int = MAX_ROWS) -> float:
    """The smallest round band width >= the model's widest band with <= ``max_rows`` bands overall.

    Round widths are 1, 2, 2.5 and 5 times a power of ten ($50, $100, $250, $0.01, ...).
    """
    edges = np.asarray(price_edges, dtype="float64")
    if edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError("price_edges must be ascending with at least two edges")
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    # +2: the display edges are rounded outwards, which can add one band at each end.
    need = max(float(np.diff(edges).max()), (edges[-1] - edges[0]) / max(max_rows - 2, 1))
    exponent = math.floor(math.log10(need))
    for k in (exponent, exponent + 1):
        for step in ROUND_STEPS:
            width = step * 10.0**k
            if width >= need * (1 - 1e-12):
                return width
    return 10.0 ** (exponent + 2)  # not reached: 1 x 10^(e+1) >= need always


def display_edges(price_edges: np.ndarray, width: float) -> np.ndarray:
    """Edges of ``width``-wide bands on multiples of ``width`` that cover ``price_edges``."""
    lo = math.floor(float(price_edges[0]) / width + 1e-9)
    hi = math.ceil(float(price_edges[-1]) / width - 1e-9)
    return np.arange(lo, max(hi, lo + 1) + 1) * width


def rebin_matrix(model_edges: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(R, P) matrix: the share of model band p that falls in display band r (columns sum to the
    share of p inside the display range, 1 when it is fully covered)."""
    m = np.asarray(model_edges, dtype="float64")
    d = np.asarray(edges, dtype="float64")
    left = np.maximum(d[:-1, None], m[None, :-1])
    right = np.minimum(d[1:, None], m[None, 1:])
    return np.clip(right - left, 0.0, None) / np.diff(m)[None, :]


def rebin(values: np.ndarray, model_edges: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """USD per model band (P,) or (P, T) -> USD per display band (R,) or (R, T), pro rata to overlap."""
    return rebin_matrix(model_edges, edges) @ np.asarray(values, dtype="float64")


@dataclass(frozen=True)
class DisplayGrid(_ReadOnlyArrays):
    """The heatmap in display units: USD per ``band_width`` band, at most MAX_COLS columns.

    ``long``/``short`` are (R, C); ``price_edges`` (R+1,); ``starts``/``ends`` each column's time
    span; ``open``/``high``/``low``/``close`` each column's candle; ``last`` the column index of
    each column's last candle in the model grid.
    """

    band_width: float
    price_edges: np.ndarray
    starts: pd.DatetimeIndex
    ends: pd.DatetimeIndex
    long: np.ndarray
    short: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    last: np.ndarray

    @property
    def unit(self) -> str:
        """The unit in words: "USD per $100 band"."""
        return f"USD per {band_label(self.band_width)} band"

    @property
    def centers(self) -> np.ndarray:
        """Middle price of each band."""
        return (self.price_edges[:-1] + self.price_edges[1:]) / 2

    def profile(self) -> Profile:
        """The liquidation map at the last candle, in display bands."""
        return make_profile(self.starts[-1], float(self.close[-1]), self.price_edges, self.long[:, -1],
                            self.short[:, -1])


def band_label(width: float) -> str:
    """A band width in words: "$100", "$2.5", "$0.05"."""
    return f"${width:,.0f}" if width >= 10 and float(width).is_integer() else f"${width:g}"


def column_groups(n: int, max_cols: int = MAX_COLS) -> np.ndarray:
    """Edges splitting ``n`` candles into at most ``max_cols`` near-equal consecutive columns."""
    groups = max(1, min(n, max_cols))
    return np.round(np.linspace(0, n, groups + 1)).astype(int)


def display_grid(hm: Heatmap, max_cols: int = MAX_COLS, max_rows: int = MAX_ROWS) -> DisplayGrid:
    """``hm`` re-binned to round display bands and at most ``max_cols`` columns (module docstring)."""
    if len(hm.times) == 0:
        raise ValueError("the heatmap has no candles")
    width = display_band_width(hm.price_edges, max_rows)
    edges = display_edges(hm.price_edges, width)
    cols = column_groups(len(hm.times), max_cols)
    first, last = cols[:-1], cols[1:] - 1
    matrix = rebin_matrix(hm.price_edges, edges)
    step = candle_length(hm.timeframe, hm.times)
    return DisplayGrid(
        band_width=width,
        price_edges=edges,
        starts=hm.times[first],
        ends=hm.times[last] + step,
        long=matrix @ hm.long[:, last],
        short=matrix @ hm.short[:, last],
        open=np.asarray(hm.open, dtype="float64")[first],
        high=np.maximum.reduceat(np.asarray(hm.high, dtype="float64"), first),
        low=np.minimum.reduceat(np.asarray(hm.low, dtype="float64"), first),
        close=np.asarray(hm.close, dtype="float64")[last],
        last=last,
    )


def band_levels(grid: DisplayGrid | Profile, n: int = 8) -> pd.DataFrame:
    """The ``n`` strongest key levels of the last candle, each one display band.

    Clusters are found as in ``core.grid.figures.find_clusters`` (a peak and its neighbours down
    to half its height); each cluster is reported by its peak band, so ``usd`` is that band's USD:
    the very number of its profile bar and of its crosshair at the last candle.

    Returns
    -------
    pd.DataFrame
        Columns price_low, price_high (the peak band), price (its middle), side ("long"/"short"),
        usd (USD in the peak band), cluster_usd, cluster_low, cluster_high (the whole cluster),
        distance_pct (signed, from the last close); strongest band first.
    """
    prof = grid.profile() if isinstance(grid, DisplayGrid) else grid
    edges = prof.price_edges
    rows = []
    for side, usd in (("long", prof.long), ("short", prof.short)):
        for lo, hi, total in find_clusters(usd):
            peak = lo + int(np.argmax(usd[lo : hi + 1]))
            rows.append((float(edges[peak]), float(edges[peak + 1]), float(edges[peak] + edges[peak + 1]) / 2, side,
                         float(usd[peak]), total, float(edges[lo]), float(edges[hi + 1])))
    cols = ["price_low", "price_high", "price", "side", "usd", "cluster_usd", "cluster_low", "cluster_high"]
    if not rows:
        frame = pd.DataFrame({c: pd.Series(dtype="object" if c == "side" else "float64") for c in cols})
    else:
        frame = pd.DataFrame(rows, columns=cols).sort_values("usd", ascending=False, kind="stable").head(n)
    frame["distance_pct"] = (frame["price"] / prof.price - 1.0) * 100.0
    return frame.reset_index(drop=True)


def grid_table(grid: DisplayGrid, price_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """The display grid as rows for a CSV: column start, band low/high, long and short USD per band
    (only bands inside ``price_range`` and cells with any USD)."""
    edges = grid.price_edges
    keep = np.ones(len(edges) - 1, dtype=bool)
    if price_range is not None:
        keep = (edges[1:] > price_range[0]) & (edges[:-1] < price_range[1])
    rows, cols = np.nonzero(keep[:, None] & ((grid.long > 0) | (grid.short > 0)))
    return pd.DataFrame({
        "time": grid.starts[cols],
        "price_low": edges[rows],
        "price_high": edges[rows + 1],
        "long_usd": grid.long[rows, cols],
        "short_usd": grid.short[rows, cols],
    })


def highlight_percentile(highlight: float) -> float:
    """The percentile of the non-empty cells that tops the colour scale at ``highlight`` (0..100).

    0 -> the largest cell (only the very top is bright), 20 (default) -> 98.8, 100 -> 70.
    """
    h = min(max(float(highlight), 0.0), 100.0)
    return 100.0 - 30.0 * (h / 100.0) ** 2


def highlight_for_percentile(percentile: float) -> int:
    """The whole highlight whose ``highlight_percentile`` is nearest ``percentile`` (the inverse,
    for links from before "Highlight": their ``clip`` was this percentile; below 70 -> 100)."""
    pct = min(max(float(percentile), 70.0), 100.0)
    return int(round(100.0 * math.sqrt((100.0 - pct) / 30.0)))


def highlight_tops(values: np.ndarray, highlights: Sequence[float]) -> np.ndarray:
    """Top of the colour scale at each of ``highlights``: the ``highlight_percentile`` percentile of
    the positive cells of ``values`` (any shape: pass the whole window, never only the part on
    screen, so a colour means the same at every zoom); 1.0 each when no cell is positive.

    Every picture with a "Highlight" control tops its scale here (heatmap, sensitivity, accuracy,
    replay), so one highlight means one thing on every page.
    """
    cells = np.asarray(values, dtype="float64")
    positive = cells[cells > 0]
    if positive.size == 0:
        return np.ones(len(highlights))
    return np.percentile(positive, [highlight_percentile(h) for h in highlights])


def highlight_top(values: np.ndarray, highlight: float) -> float:
    """Top of the colour scale of ``values`` at one ``highlight`` (``highlight_tops``)."""
    return float(highlight_tops(values, (highlight,))[0])


def side_values(grid: DisplayGrid, side: str) -> np.ndarray:
    """The (R, C) USD of "long", "short" or "both" (their sum)."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    return grid.long if side == "long" else grid.short if side == "short" else grid.long + grid.short


def colour_tops(grid: DisplayGrid, side: str) -> np.ndarray:
    """Top of the colour scale for highlight 0, 1, ..., 100 (101 values, never increasing), from the
    non-empty cells of the whole grid; 1.0 everywhere when the grid is empty."""
    return highlight_tops(side_values(grid, side), range(101))
