"""The map types are read-only (cached heatmaps are shared by every session) and every page reads
one imbalance: (long - short) / (long + short)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.cascade import simulate_from_profile
from core.data.bundled import load_bundled
from core.grid import (
    Heatmap,
    compute_aggregate,
    compute_heatmap,
    compute_profile,
    key_levels,
    long_short_imbalance,
    make_profile,
    near_price_usd,
    nearby_table,
    plain_reading,
    summarize,
)
from core.model import ModelParams


@pytest.fixture(scope="module")
def crash_map() -> Heatmap:
    return compute_heatmap(load_bundled("btc_2026-02_crash", "1h"), ModelParams(), price_bins=80)


def _array_fields(obj) -> list[str]:
    return [name for name, value in vars(obj).items() if isinstance(value, np.ndarray)]


def test_heatmap_and_profile_arrays_reject_writes(crash_map):
    fields = _array_fields(crash_map)
    assert {"price_edges", "long", "short", "liquidated_long", "close", "volume"} <= set(fields)
    for name in fields:
        with pytest.raises(ValueError, match="read-only"):
            getattr(crash_map, name)[0] = 1.0
    profile = crash_map.profile()
    for name in _array_fields(profile):
        with pytest.raises(ValueError, match="read-only"):
            getattr(profile, name)[0] = 1.0


def test_arrays_stay_read_only_after_pickling(crash_map):
    """A cache that pickles (st.cache_data, Redis) must hand back read-only arrays too."""
    copy = pickle.loads(pickle.dumps(crash_map))
    assert np.array_equal(copy.long, crash_map.long) and copy.timeframe == crash_map.timeframe
    for obj in (copy, pickle.loads(pickle.dumps(crash_map.profile()))):
        for name in _array_fields(obj):
            assert not getattr(obj, name).flags.writeable, name


def test_every_cached_result_is_read_only():
    market = load_bundled("btc_2026-02_crash", "1h")
    for result in (compute_aggregate([market, market], ModelParams(), price_bins=60),
                   compute_profile(market, ModelParams(), price_bins=60)):
        for name in _array_fields(result):
            assert not getattr(result, name).flags.writeable, name
    profile = compute_profile(market, ModelParams(), price_bins=60)
    cascade = simulate_from_profile(profile, -3.0, 5e7)
    assert not cascade.remaining_long.flags.writeable


def test_read_only_view_leaves_the_callers_array_writable():
    long = np.array([1.0, 2.0, 3.0])
    profile = make_profile(pd.Timestamp("2024-01-01", tz="UTC"), 2.0, np.array([0.0, 1.0, 2.0, 3.0]), long, long)
    assert not profile.long.flags.writeable
    long[0] = 5.0  # the input is the caller's, still writable
    assert profile.long[0] == 1.0  # make_profile copied it


@settings(max_examples=60, deadline=None)
@given(long=st.floats(0, 1e9), short=st.floats(0, 1e9))
def test_imbalance_is_long_minus_short_over_total(long, short):
    got = long_short_imbalance(long, short)
    assert -1.0 <= got <= 1.0
    if long + short > 0:
        assert got == pytest.approx((long - short) / (long + short))
    else:
        assert got == 0.0


def _one_candle(long_below: float, short_above: float) -> Heatmap:
    edges = np.linspace(90.0, 110.0, 21)
    low = edges[:-1]
    long = np.where((low >= 98.0) & (low < 100.0), long_below / 2, 0.0)[:, None]  # within 2% below
    short = np.where((low >= 100.0) & (low < 102.0), short_above / 2, 0.0)[:, None]  # within 2% above
    one = np.array([100.0])
    return Heatmap(pd.DatetimeIndex([pd.Timestamp("2024-01-01", tz="UTC")]), edges, long, short,
                   np.zeros(1), np.zeros(1), one, one, one, one, one, timeframe="1h")


def test_heatmap_page_sweeps_and_reading_share_one_imbalance():
    hm = _one_candle(long_below=300.0, short_above=100.0)  # longs heavier
    profile = hm.profile()
    table = nearby_table(profile)
    near = near_price_usd(profile, (2.0, 5.0, 10.0))
    assert np.allclose(table["imbalance"].to_numpy(), near["imbalance"].to_numpy())
    assert table["imbalance"].tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert summarize(profile)["imbalance_10pct"] == pytest.approx(0.5)
    assert plain_reading(profile, key_levels(profile)).startswith("Longs crowded below")
    shorts = _one_candle(long_below=100.0, short_above=300.0).profile()
    assert nearby_table(shorts)["imbalance"].iloc[-1] == pytest.approx(-0.5)


@pytest.mark.parametrize("sides", [("short",), ("long",), ()])
def test_balanced_reading_with_a_side_without_a_cluster_reads_as_sentences(sides):
    """A balanced map whose big cluster on one side (or both) lies beyond ±5%: the reading names
    the side it has, says which side has none nearby, and ends as a sentence (no "at none")."""
    profile = _one_candle(long_below=100.0, short_above=100.0).profile()
    rows = {"short": (101.0, "short", 50.0, 1.0), "long": (99.0, "long", 50.0, -1.0)}
    levels = pd.DataFrame([rows[s] for s in sides], columns=["price", "side", "usd", "distance_pct"])
    text = plain_reading(profile, levels)
    assert text.startswith("Balanced:") and text.endswith(".") and "none" not in text and ".." not in text
    if not sides:
        assert text.endswith("No big cluster within ±5% on either side.")
    for side in sides:
        assert f"iggest {side} cluster at" in text
        assert f"o big {'long' if side == 'short' else 'short'} cluster within ±5%" in text


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_aggregate_is_the_same_whatever_the_time_unit_of_a_market(unit):
    """pandas keeps an index's unit (s, ms, us, ns: a file read with unit="ms" is datetime64[us] in
    pandas 3): markets on different units aggregate exactly as on nanoseconds."""
    from dataclasses import replace

    market = load_bundled("btc_2026-02_crash", "1h")
    index = market.candles.index.as_unit(unit)
    other = replace(market, candles=market.candles.set_axis(index), open_interest=market.open_interest.set_axis(index))
    reference = compute_aggregate([market, market], ModelParams(), price_bins=60)
    for pair in ([other, market], [market, other]):
        got = compute_aggregate(pair, ModelParams(), price_bins=60)
        assert got.times.equals(reference.times)
        for name in ("long", "short", "liquidated_long", "liquidated_short", "volume", "close"):
            assert np.allclose(getattr(got, name), getattr(reference, name)), name
