"""One unit for the heatmap page: USD per round display band (core.grid.bands)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.load import load_market
from core.grid import compute_heatmap, key_levels
from core.grid.bands import (
    band_label,
    band_levels,
    colour_tops,
    display_band_width,
    display_edges,
    display_grid,
    grid_table,
    highlight_for_percentile,
    highlight_percentile,
    highlight_top,
    highlight_tops,
    rebin,
)
from core.grid.types import Heatmap
from core.model import mix_params


def synthetic(p: int = 40, t: int = 30, lo: float = 100.0, hi: float = 140.0, seed: int = 1) -> Heatmap:
    """A small heatmap with random USD, edges not on round numbers."""
    rng = np.random.default_rng(seed)
    edges = np.linspace(lo + 0.37, hi + 0.91, p + 1)
    long = rng.gamma(0.6, 1e5, (p, t)) * (rng.random((p, t)) < 0.7)
    short = rng.gamma(0.6, 1e5, (p, t)) * (rng.random((p, t)) < 0.7)
    close = np.linspace(115, 125, t)
    times = pd.date_range("2026-02-04", periods=t, freq="5min", tz="UTC")
    return Heatmap(times, edges, long, short, np.zeros(t), np.zeros(t), close - 0.5, close + 1, close - 1, close,
                   np.ones(t), timeframe="5m")


@pytest.fixture(scope="module")
def sample() -> Heatmap:
    market = load_market(symbol="BTC/USDT:USDT", timeframe="5m", lookback="3d", source="bundled", dataset="btc_2026-09")
    return compute_heatmap(market, mix_params("v1", long_share=0.5), price_bins=500)


def brute_rebin(values: np.ndarray, model: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Reference: loop over every (display band, model band) pair."""
    out = np.zeros((len(edges) - 1,) + values.shape[1:])
    for r in range(len(edges) - 1):
        for p in range(len(model) - 1):
            overlap = max(0.0, min(edges[r + 1], model[p + 1]) - max(edges[r], model[p]))
            out[r] += values[p] * overlap / (model[p + 1] - model[p])
    return out


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(0.01, 1e5), span=st.floats(1e-3, 10.0), bins=st.integers(1, 600), max_rows=st.integers(3, 500))
def test_band_width_is_round_wide_enough_and_fits(lo, span, bins, max_rows):
    """The band width is 1/2/2.5/5 x 10^k, never finer than the model, and gives <= max_rows bands."""
    edges = np.linspace(lo, lo * (1 + span), bins + 1)
    width = display_band_width(edges, max_rows)
    mantissa = width / 10 ** np.floor(np.log10(width) + 1e-12)
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    assert width >= np.diff(edges).max() * (1 - 1e-9)
    display = display_edges(edges, width)
    assert len(display) - 1 <= max_rows
    assert display[0] <= edges[0] + 1e-9 * abs(edges[0]) and display[-1] >= edges[-1] - 1e-9 * abs(edges[-1])
    # the next round width down would be too fine or too many rows
    assert width / 2.5 < np.diff(edges).max() or (edges[-1] - edges[0]) / (width / 2.5) > max_rows - 2


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 30), width=st.sampled_from([0.5, 1.0, 2.5, 5.0]))
def test_rebin_matches_brute_force_and_keeps_totals(seed, p, width):
    """Re-binning shares each model band pro rata to overlap (brute force) and keeps the total USD."""
    rng = np.random.default_rng(seed)
    model = np.cumsum(np.r_[rng.uniform(90, 110), rng.uniform(0.2, 3.0, p)])
    values = rng.gamma(0.5, 1e4, (p, 3))
    edges = display_edges(model, width)
    out = rebin(values, model, edges)
    np.testing.assert_allclose(out, brute_rebin(values, model, edges), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=0), values.sum(axis=0), rtol=1e-9)


def test_rebin_onto_the_same_edges_is_identity():
    """Display edges equal to the model's change nothing."""
    model = np.arange(100.0, 111.0)
    values = np.arange(10.0) * 1e3
    np.testing.assert_allclose(rebin(values, model, model), values)


def test_sample_is_per_100_dollar_band(sample):
    """The 3-day BTC sample (model bands of $77) is shown per $100 band, stated in words."""
    grid = display_grid(sample)
    assert grid.band_width == 100.0
    assert grid.unit == "USD per $100 band"
    assert grid.long.shape == (len(grid.price_edges) - 1, len(sample.times))
    np.testing.assert_allclose(grid.long.sum(axis=0), sample.long.sum(axis=0), rtol=1e-9)


def test_band_labels():
    """Band widths read as money."""
    assert [band_label(w) for w in (100.0, 2500.0, 2.5, 0.05)] == ["$100", "$2,500", "$2.5", "$0.05"]


def test_grouped_columns_show_usd_alive_at_each_group_close():
    """With fewer columns than candles, a column is its last candle's USD and its group's candle."""
    hm = synthetic(t=30)
    grid = display_grid(hm, max_cols=7)
    assert grid.long.shape[1] == 7
    assert grid.last[-1] == 29
    ref = rebin(hm.long, hm.price_edges, grid.price_edges)
    np.testing.assert_allclose(grid.long, ref[:, grid.last])
    first = np.r_[0, grid.last[:-1] + 1]
    for c, (a, b) in enumerate(zip(first, grid.last)):
        assert grid.high[c] == hm.high[a : b + 1].max() and grid.low[c] == hm.low[a : b + 1].min()
        assert grid.open[c] == hm.open[a] and grid.close[c] == hm.close[b]


def test_brightest_cell_equals_profile_bar_and_key_level(sample):
    """The last candle's brightest cell, its profile bar and its key level are one and the same number."""
    grid = display_grid(sample)
    prof = grid.profile()
    for side, column in (("long", grid.long[:, -1]), ("short", grid.short[:, -1])):
        row = int(np.argmax(column))
        bars = prof.long if side == "long" else prof.short
        levels = band_levels(grid, 50)
        top = levels[levels["side"] == side].iloc[0]
        assert column[row] == bars[row] == top["usd"]
        assert (top["price_low"], top["price_high"]) == (grid.price_edges[row], grid.price_edges[row + 1])


def test_band_levels_are_peaks_of_the_model_clusters_in_display_bands(sample):
    """Each key level lies inside its cluster; the cluster total is at least its peak band."""
    levels = band_levels(display_grid(sample), 8)
    assert len(levels) == 8 and levels["usd"].is_monotonic_decreasing
    assert (levels["cluster_low"] <= levels["price_low"]).all() and (levels["price_high"] <= levels["cluster_high"]).all()
    assert (levels["cluster_usd"] >= levels["usd"] - 1e-6).all()
    assert set(levels["side"]) <= {"long", "short"}
    # the largest cluster of the model (key_levels) sits inside one of the display clusters
    model_top = key_levels(sample, 1).iloc[0]
    assert ((levels["cluster_low"] <= model_top["price"] + 100) & (model_top["price"] - 100 <= levels["cluster_high"])).any()


def test_colour_top_ignores_zoom_and_goes_the_intuitive_way(sample):
    """The scale's top comes from the whole window; more highlight = lower top = brighter."""
    grid = display_grid(sample)
    for side in ("both", "long", "short"):
        tops = colour_tops(grid, side)
        assert len(tops) == 101 and np.all(np.diff(tops) <= 0)
    assert highlight_percentile(0) == 100 and highlight_percentile(100) == 70
    assert colour_tops(grid, "long")[0] == grid.long.max()
    with pytest.raises(ValueError):
        colour_tops(grid, "sideways")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 50), st.lists(st.floats(0, 100), min_size=1, max_size=6))
def test_highlight_tops_are_the_one_mapping_for_any_cells(seed, highlights):
    """Any array of cells (the canvas's grid or an Altair page's raster): the top at highlight h is
    the ``highlight_percentile(h)`` percentile of its positive cells, and never rises with h."""
    rng = np.random.default_rng(seed)
    cells = rng.gamma(0.5, 1e5, (30, 20)) * (rng.random((30, 20)) < 0.6) - (rng.random((30, 20)) < 0.1)
    positive = cells[cells > 0]
    tops = highlight_tops(cells, highlights)
    for h, top in zip(highlights, tops):
        assert top == pytest.approx(np.percentile(positive, highlight_percentile(h)))
        assert highlight_top(cells, h) == top
    ordered = highlight_tops(cells, sorted(highlights))
    assert np.all(np.diff(ordered) <= 1e-9 * ordered.max())
    assert np.all(highlight_tops(np.zeros((3, 4)), highlights) == 1.0)


def test_colour_tops_are_highlight_tops_of_the_side(sample):
    grid = display_grid(sample)
    assert np.array_equal(colour_tops(grid, "short"), highlight_tops(grid.short, range(101)))


@given(st.integers(0, 100))
def test_old_clip_percentile_maps_back_to_its_highlight(h):
    """A link's old ``clip`` percentile becomes the highlight that gives that percentile."""
    assert highlight_for_percentile(highlight_percentile(h)) == h


def test_old_clip_below_the_highlight_range_is_the_strongest():
    assert highlight_for_percentile(99.0) == 18 and highlight_for_percentile(50.0) == 100
    assert highlight_for_percentile(100.0) == 0


def test_empty_grid_has_a_unit_scale():
    """No USD at all: the colour scale is [0, 1], not a division by zero."""
    hm = synthetic()
    empty = Heatmap(hm.times, hm.price_edges, np.zeros_like(hm.long), np.zeros_like(hm.short), hm.liquidated_long,
                    hm.liquidated_short, hm.open, hm.high, hm.low, hm.close, hm.volume, timeframe="5m")
    grid = display_grid(empty)
    assert np.all(colour_tops(grid, "both") == 1.0)
    assert band_levels(grid).empty


def test_grid_table_uses_the_display_unit(sample):
    """The CSV rows are the display grid's cells: same USD per band as the picture."""
    grid = display_grid(sample)
    table = grid_table(grid, (84_000.0, 86_000.0))
    assert (table["price_high"] - table["price_low"]).round(6).eq(100.0).all()
    assert table["price_high"].max() <= 86_000 + 100 and table["price_low"].min() >= 84_000 - 100
    cell = table.iloc[len(table) // 2]
    row = int(np.searchsorted(grid.price_edges, cell["price_low"]))
    col = int(grid.starts.get_loc(cell["time"]))
    assert cell["long_usd"] == grid.long[row, col] and cell["short_usd"] == grid.short[row, col]


def test_display_grid_leaves_the_heatmap_untouched():
    """Inputs are never mutated (they are read-only shared arrays anyway)."""
    hm = synthetic()
    before = hm.long.copy()
    display_grid(hm, max_cols=5)
    np.testing.assert_array_equal(hm.long, before)
