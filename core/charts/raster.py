"""The heatmap drawn at the screen's resolution: the (bands x candles) grid averaged down to at most
``max_cols`` x ``max_rows`` cells, coloured into one PNG (``Raster``) for an image mark.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from PIL import Image

from core.charts.colours import ember_rgba
from core.constants import candle_length
from core.grid.bands import HIGHLIGHT_DEFAULT, highlight_top
from core.grid.types import Heatmap

SIDES = ("both", "long", "short")


def group_edges(n: int, max_groups: int) -> np.ndarray:
    """Boundaries that split ``n`` items into at most ``max_groups`` near-equal consecutive groups."""
    groups = max(1, min(n, max_groups))
    return np.round(np.linspace(0, n, groups + 1)).astype(int)


def block_mean(grid: np.ndarray, row_edges: np.ndarray, col_edges: np.ndarray) -> np.ndarray:
    """Mean of ``grid`` over blocks given by row and column group edges (no Python loop over cells)."""
    col_sums = np.add.reduceat(grid, col_edges[:-1], axis=1) if grid.shape[1] else grid
    sums = np.add.reduceat(col_sums, row_edges[:-1], axis=0) if grid.shape[0] else col_sums
    counts = np.outer(np.diff(row_edges), np.diff(col_edges))
    return sums / np.maximum(counts, 1)


def side_grid(hm: Heatmap, side: str) -> np.ndarray:
    """The (P, T) grid for "long", "short" or "both" (their sum)."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    if side == "long":
        return hm.long
    if side == "short":
        return hm.short
    return hm.long + hm.short


def visible_rows(hm: Heatmap, price_range: tuple[float, float] | None) -> slice:
    """Rows of ``hm`` whose bands overlap ``price_range`` (all rows when None)."""
    if price_range is None:
        return slice(0, len(hm.price_edges) - 1)
    lo, hi = price_range
    first = int(np.searchsorted(hm.price_edges, lo, side="right")) - 1
    last = int(np.searchsorted(hm.price_edges, hi, side="left"))
    return slice(max(first, 0), min(max(last, first + 1), len(hm.price_edges) - 1))


def default_view_range(hm: Heatmap, margin: float = 0.06) -> tuple[float, float]:
    """Price range that frames the window's trading range plus ``margin`` on each side."""
    lo = float(np.nanmin(hm.low)) * (1 - margin)
    hi = float(np.nanmax(hm.high)) * (1 + margin)
    return max(lo, float(hm.price_edges[0])), min(hi, float(hm.price_edges[-1]))


@dataclass(frozen=True)
class Raster:
    """A heatmap rendered to pixels: the PNG, where it goes, and the colour scale's top value."""

    png: bytes
    x0: pd.Timestamp
    x1: pd.Timestamp
    y0: float
    y1: float
    vmax: float
    shape: tuple[int, int]

    @property
    def data_url(self) -> str:
        """The PNG as a data: URL for an image mark."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def cells_of(grid: np.ndarray, max_rows: int, max_cols: int) -> np.ndarray:
    """``grid`` averaged down to at most ``max_rows`` x ``max_cols`` cells (``block_mean``)."""
    return block_mean(grid, group_edges(grid.shape[0], max_rows), group_edges(grid.shape[1], max_cols))


def colour_top(grids: Sequence[np.ndarray], highlight: float, max_rows: int, max_cols: int) -> float:
    """Top of a raster's colour scale at ``highlight`` (``core.grid.bands.highlight_tops``, the
    heatmap page's mapping) from the cells of the WHOLE ``grids`` (every band and candle, averaged
    to the raster's resolution): the price range on screen never changes what a colour means."""
    return highlight_top(np.concatenate([cells_of(g, max_rows, max_cols).ravel() for g in grids]), highlight)


def render_raster(
    hm: Heatmap,
    side: str = "both",
    price_range: tuple[float, float] | None = None,
    *,
    highlight: float = HIGHLIGHT_DEFAULT,
    max_cols: int = 1200,
    max_rows: int = 400,
) -> Raster:
    """Colour the (visible part of the) grid into a PNG at most ``max_cols`` x ``max_rows``.

    Cells are block means of the grid; colours are the ember map over [0, top], where top is the
    ``colour_top`` of the whole window at ``highlight`` (0..100, right = brighter: more cells reach
    full brightness). Empty cells are fully transparent.
    """
    rows = visible_rows(hm, price_range)
    grid = side_grid(hm, side)
    vmax = colour_top([grid], highlight, max_rows, max_cols)
    return raster_of(hm, rows, ember_rgba(cells_of(grid[rows], max_rows, max_cols), vmax), vmax)


def raster_of(hm: Heatmap, rows: slice, rgba: np.ndarray, vmax: float, upto: int | None = None) -> Raster:
    """Wrap an RGBA image of ``hm``'s ``rows`` (row 0 = lowest band) as a PNG ``Raster``.

    It spans the candles up to ``upto`` (default: all of them) and the rows' price bands.
    """
    buf = io.BytesIO()
    # Row 0 is the lowest band: flip for the screen. Fast compression: this runs on every redraw.
    Image.fromarray(rgba[::-1], mode="RGBA").save(buf, format="PNG", optimize=False, compress_level=1)
    edges = hm.price_edges[rows.start : rows.stop + 1]
    step = candle_length(hm.timeframe, hm.times)
    return Raster(
        png=buf.getvalue(),
        x0=hm.times[0],
        x1=hm.times[-1 if upto is None else upto] + step,
        y0=float(edges[0]),
        y1=float(edges[-1]),
        vmax=float(vmax),
        shape=rgba.shape[:2],
    )
