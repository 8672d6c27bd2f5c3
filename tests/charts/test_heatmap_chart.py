"""Chart builders: what they send to the browser (through chart.to_dict()), and the raster."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.charts import (
    TOOLTIP_FIELDS,
    block_mean,
    group_edges,
    heatmap_chart,
    market_chart,
    profile_chart,
    cells_of,
    default_view_range,
    render_raster,
    tooltip_cells,
)
from core.data.bundled import load_bundled
from core.charts import grid_frame
from core.grid import Heatmap, compute_heatmap, key_levels
from core.grid.bands import highlight_top


@pytest.fixture(scope="module")
def heatmap() -> Heatmap:
    return compute_heatmap(load_bundled("btc_2026-09", "5m"))


def synthetic(columns: int, bands: int = 500, seed: int = 1) -> Heatmap:
    """A heatmap of ``columns`` candles with random cells (to test rendering limits)."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-01-01", periods=columns, freq="1min", tz="UTC")
    close = 100 + np.cumsum(rng.normal(0, 0.05, columns))
    grid = rng.exponential(1.0, (bands, columns)) * (rng.random((bands, columns)) < 0.3)
    return Heatmap(
        times=times, price_edges=np.linspace(80, 120, bands + 1), long=grid, short=grid[::-1].copy(),
        liquidated_long=np.zeros(columns), liquidated_short=np.zeros(columns), open=close, high=close + 0.1,
        low=close - 0.1, close=close, volume=np.ones(columns), timeframe="1m", symbol="BTC/USDT:USDT",
    )


def test_group_edges_and_block_mean_match_a_plain_loop():
    grid = np.arange(7 * 5, dtype=float).reshape(7, 5)
    r, c = group_edges(7, 3), group_edges(5, 2)
    out = block_mean(grid, r, c)
    for i in range(len(r) - 1):
        for j in range(len(c) - 1):
            assert out[i, j] == pytest.approx(grid[r[i]:r[i + 1], c[j]:c[j + 1]].mean())


def test_a_30_day_1m_window_is_drawn_at_screen_resolution_not_data_resolution():
    """43,200 candles become one image of at most 1200 x 400 pixels, and at most 72 x 48 hover cells."""
    hm = synthetic(43_200, bands=200)
    raster = render_raster(hm, max_cols=1200, max_rows=400)
    image = Image.open(io.BytesIO(raster.png))
    assert image.size[0] <= 1200 and image.size[1] <= 400
    spec = heatmap_chart(hm).to_dict()
    datasets = spec["datasets"]
    assert max(len(rows) for rows in datasets.values()) <= 72 * 48
    assert len(json.dumps(spec)) < 3_000_000


def test_heatmap_chart_layers_image_hover_price_and_levels(heatmap):
    spec = heatmap_chart(heatmap, levels=key_levels(heatmap, 3)).to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks[:3] == ["image", "rect", "line"] and "rule" in marks
    hover = spec["layer"][1]
    assert [t["field"] for t in hover["encoding"]["tooltip"]] == list(TOOLTIP_FIELDS)
    assert all("." not in f for f in TOOLTIP_FIELDS)  # Vega reads a dot as a nested path
    assert spec["layer"][0]["data"] != spec["layer"][1]["data"]


def test_raster_brightest_pixels_are_the_biggest_cells(heatmap):
    raster = render_raster(heatmap, side="long", highlight=0.0, max_cols=10_000, max_rows=10_000)
    pixels = np.asarray(Image.open(io.BytesIO(raster.png)))
    grid = heatmap.long[::-1]  # image rows run from the top (highest price)
    assert pixels.shape[:2] == grid.shape
    assert (pixels[..., 3] > 0).sum() == (grid > 0).sum()  # empty cells are transparent
    top = np.unravel_index(np.argmax(grid), grid.shape)
    assert pixels[top][:3].astype(int).sum() >= pixels[..., :3][pixels[..., 3] > 0].astype(int).sum(axis=-1).max() - 3


def test_raster_colour_top_is_the_highlight_of_the_whole_window(heatmap):
    """The accuracy and replay pictures top their scale like the heatmap page: ``highlight_top`` of
    every cell of the window (at the raster's resolution), the same at every price range shown."""
    cells = cells_of(heatmap.long + heatmap.short, 400, 1200)
    for highlight in (0.0, 20.0, 100.0):
        tops = [render_raster(heatmap, "both", default_view_range(heatmap, m), highlight=highlight).vmax
                for m in (0.01, 0.06, 0.3)]
        assert tops == [pytest.approx(highlight_top(cells, highlight))] * 3
    assert render_raster(heatmap, highlight=100.0).vmax < render_raster(heatmap, highlight=0.0).vmax


def test_tooltip_cells_sum_usd_over_bands():
    """One candle per cell: the cells' USD is the grid's USD, whatever the number of bands per cell."""
    hm = synthetic(150, bands=120)
    for n_price in (120, 40, 7):
        cells = tooltip_cells(hm, None, n_time=len(hm.times), n_price=n_price)
        assert cells["long_usd"].sum() == pytest.approx(hm.long.sum())
        assert cells["short_usd"].sum() == pytest.approx(hm.short.sum())


def test_profile_chart_shows_longs_below_and_shorts_above(heatmap):
    profile = heatmap.profile()
    spec = profile_chart(profile).to_dict()
    rows = next(iter(spec["datasets"].values()))
    longs = [r for r in rows if r.get("side") == "Longs"]
    shorts = [r for r in rows if r.get("side") == "Shorts"]
    assert longs and shorts
    assert max(r["p0"] for r in longs) <= profile.price
    assert min(r["p1"] for r in shorts) >= profile.price


def test_market_chart_has_price_and_open_interest():
    spec = market_chart(load_bundled("btc_2026-09", "15m")).to_dict()
    assert len(spec["vconcat"]) == 2


def test_grid_frame_keeps_every_usd(heatmap):
    frame = grid_frame(heatmap)
    assert frame["long_usd"].sum() == pytest.approx(heatmap.long.sum())
