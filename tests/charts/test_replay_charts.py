"""Replay frames and charts (core/charts/replay*.py, whatif.py) and the what-if depth (core/cascade/depth.py)."""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import replace
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.cascade import (
    DEPTH_OI_SHARE,
    PLACEHOLDER_DEPTH_USD,
    detect_cascades,
    estimate_depth,
    simulate_from_profile,
    typical_open_interest,
)
from core.charts import default_view_range, render_raster
from core.data.load import load_market
from core.grid import Heatmap, compute_heatmap
from core.model import ModelParams
from core.charts import (
    BACKDROP,
    DATASETS,
    bar_span,
    cascade_windows,
    frame_step,
    moment_summary,
    period_flows,
    replay_backdrop,
    replay_colour_top,
    replay_frame,
    replay_index,
    replay_layout,
    replay_raster,
    replay_spec,
    replay_template,
    slider_time,
    span_words,
    swept_frame,
    whatif_chart,
    whatif_range,
)


@pytest.fixture(scope="module")
def crash() -> Heatmap:
    """The bundled Feb 2026 crash, 5m candles over 3 days (real data, offline)."""
    market = load_market(symbol="BTC/USDT:USDT", timeframe="5m", lookback="3d", source="bundled",
                         dataset="btc_2026-02_crash")
    return compute_heatmap(market, ModelParams(), price_bins=300)


@pytest.fixture(scope="module")
def layout(crash):
    price_range = default_view_range(crash)
    vmax = render_raster(crash, "both", price_range).vmax
    return replay_layout(crash, price_range, vmax, detect_cascades(crash, top=5))


def tiny(n: int = 12, bands: int = 6, seed: int = 0) -> Heatmap:
    """A small synthetic heatmap with known numbers (5m candles)."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.5, n))
    return Heatmap(
        times=pd.date_range("2026-01-01", periods=n, freq="5min", tz="UTC"),
        price_edges=np.linspace(90, 110, bands + 1),
        long=rng.uniform(0, 1e6, (bands, n)),
        short=rng.uniform(0, 1e6, (bands, n)),
        liquidated_long=rng.uniform(0, 1e5, n),
        liquidated_short=rng.uniform(0, 1e5, n),
        open=close - 0.1, high=close + 1, low=close - 1, close=close,
        volume=rng.uniform(1, 10, n), timeframe="5m",
    )


def decode(png: bytes) -> np.ndarray:
    """RGBA pixels of a PNG (raw bytes, or base64 text as in a data: URL)."""
    if not png.startswith(b"\x89PNG"):
        png = base64.b64decode(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


# ----------------------------------------------------------------------------- time helpers


def test_replay_index_takes_the_candle_open_at_or_before_the_moment():
    times = pd.date_range("2026-02-05 00:00", periods=4, freq="5min", tz="UTC")
    assert replay_index(times, datetime(2026, 2, 5, 0, 5)) == 1  # naive = UTC
    assert replay_index(times, pd.Timestamp("2026-02-05 00:09", tz="UTC")) == 1
    assert replay_index(times, pd.Timestamp("2026-02-05 01:09", tz="Europe/Paris")) == 1
    assert replay_index(times, datetime(2026, 2, 4)) == 0
    assert replay_index(times, datetime(2026, 2, 6)) == 3
    for t in range(4):
        assert replay_index(times, slider_time(times, t)) == t
    assert slider_time(times, 2).tzinfo is None


def test_frame_step_plays_the_chosen_market_time_per_second():
    five = pd.Timedelta(minutes=5)
    assert frame_step(five, pd.Timedelta(hours=1), 5) == 2  # 12 candles a second, 5 frames
    assert frame_step(five, pd.Timedelta(hours=6), 5) == 14
    assert frame_step(pd.Timedelta(hours=1), pd.Timedelta(minutes=15), 5) == 1  # never less than one
    with pytest.raises(ValueError):
        frame_step(five, pd.Timedelta(hours=1), 0)


def test_bar_span_is_the_shortest_round_span_that_fits():
    hm = tiny(n=864)  # 3 days of 5m candles
    assert bar_span(hm, 300) == pd.Timedelta("15min")
    assert bar_span(hm, 200) == pd.Timedelta("30min")
    assert span_words(pd.Timedelta("30min")) == "30 min" and span_words(pd.Timedelta("4h")) == "4 h"
    hourly = replace(tiny(n=72), times=pd.date_range("2026-01-01", periods=72, freq="1h", tz="UTC"), timeframe="1h")
    assert bar_span(hourly, 200) == pd.Timedelta("1h")  # never shorter than a candle


# ----------------------------------------------------------------------------- frame data


def test_replay_raster_never_looks_ahead():
    """Changing candles after t changes nothing in the frame at t."""
    hm = tiny(n=40)
    future = hm.long.copy()
    future[:, 21:] *= 7.0
    changed = replace(hm, long=future)
    for t in (0, 5, 20):
        assert replay_raster(hm, t, 1e6).png == replay_raster(changed, t, 1e6).png
    assert replay_raster(hm, 21, 1e6).png != replay_raster(changed, 21, 1e6).png


def test_replay_raster_grows_with_fixed_columns_and_extent(crash):
    vmax = 5e6
    early, late = replay_raster(crash, 299, vmax, max_cols=300), replay_raster(crash, 599, vmax, max_cols=300)
    a, b = decode(early.png), decode(late.png)
    assert a.shape[1] < b.shape[1] <= 300
    full_groups = a.shape[1] - 1  # the last pixel column of a frame may still be filling
    assert np.array_equal(a[:, :full_groups], b[:, :full_groups])
    assert early.x0 == crash.times[0]
    assert early.x1 == crash.times[299] + pd.Timedelta(minutes=5)
    with pytest.raises(IndexError):
        replay_raster(crash, len(crash.times), vmax)


def test_period_flows_add_up_to_the_candles_up_to_t():
    hm = tiny(n=50)
    for t in (0, 17, 49):
        f = period_flows(hm, t, max_bars=200)
        assert f["long_usd"].sum() == pytest.approx(hm.liquidated_long[: t + 1].sum(), rel=1e-12)
        assert f["short_usd"].sum() == pytest.approx(hm.liquidated_short[: t + 1].sum(), rel=1e-12)
        assert f["volume_usd"].sum() == pytest.approx((hm.volume * hm.close)[: t + 1].sum(), rel=1e-12)
        assert f["t1"].iloc[-1] == hm.times[t] + pd.Timedelta(minutes=5)
        assert f["t0"].is_monotonic_increasing


def test_replay_frame_holds_every_dataset_and_nothing_after_t(crash, layout):
    t = 400
    frame = replay_frame(crash, t, layout)
    assert set(frame) == set(DATASETS)
    close_ms = (crash.times[t] + pd.Timedelta(minutes=5)).value // 1_000_000
    assert frame["flows"]["t1"].max() <= close_ms and frame["volume"]["t1"].max() <= close_ms
    assert frame["now"]["close"].iloc[0] == crash.close[t]
    # the mask over the backdrop hides everything from the close of t to the window's end
    assert frame["now"]["time"].iloc[0] == close_ms and frame["now"]["end"].iloc[0] == layout.t_end
    longs = frame["flows"][frame["flows"]["side"] == "Longs"]
    assert (longs["signed"] < 0).all()  # longs are drawn downwards
    assert frame["map_price"]["price"].iloc[0] == crash.close[t]


def test_replay_spec_fills_every_named_dataset_of_the_template(crash, layout):
    template = replay_template(layout, replay_backdrop(crash, layout))
    dump = lambda spec: json.dumps(spec, sort_keys=True, default=lambda d: d.to_json())  # noqa: E731 (datasets)
    before = dump(template)
    spec = replay_spec(template, replay_frame(crash, 100, layout))
    assert dump(template) == before  # not modified

    def names(node) -> set[str]:
        found = set()
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "name" in data:
                found.add(data["name"])
            for value in node.values():
                found |= names(value)
        elif isinstance(node, list):
            for value in node:
                found |= names(value)
        return found

    assert names(template) <= set(spec["datasets"])
    assert set(DATASETS) | set(BACKDROP) <= names(template)
    assert set(BACKDROP) <= set(template["datasets"])  # sent with the template, never by a frame


def test_backdrop_is_the_whole_window_and_a_frame_does_not_redraw_it(crash, layout, monkeypatch):
    """What is fixed per replay (image, price path, band labels) is made once; a played frame makes
    none of it again: it neither renders a raster nor formats the map's price bands."""
    backdrop = replay_backdrop(crash, layout)
    step = pd.Timedelta(minutes=5)
    assert backdrop["image"]["t1"].iloc[0] == layout.t_end
    assert len(backdrop["path"]) == len(crash.times)  # one point per candle (<= PATH_POINTS): the mask cuts exactly
    assert backdrop["path"]["time"].iloc[-1] == (crash.times[-1] + step).value // 1_000_000
    assert len(layout.map_labels) > 0 and " – " in layout.map_labels[0]
    import core.charts.replay_frames as frames

    def forbidden(*args, **kwargs):
        raise AssertionError("a frame recomputed something fixed per replay")

    prices: list[float] = []
    monkeypatch.setattr(frames, "replay_raster", forbidden)
    monkeypatch.setattr(frames, "format_price", lambda p: prices.append(p) or f"{p:,.0f}")
    frame = replay_frame(crash, 300, layout)
    assert prices == [crash.close[300]] * 2  # the price label and the map's price line; bands come from the layout
    assert set(frame["map_bars"]["band"]) <= set(layout.map_labels) and len(frame["map_bars"]) > 10


def test_frame_at_t_does_not_depend_on_the_candles_after_t():
    """The per-frame data at t is the same whatever happens after t (no look-ahead under the mask)."""
    hm = tiny(n=40)
    later = replace(hm, liquidated_long=np.r_[hm.liquidated_long[:21], hm.liquidated_long[21:] * 9],
                    long=np.c_[hm.long[:, :21], hm.long[:, 21:] * 5], close=np.r_[hm.close[:21], hm.close[21:] + 3])
    cascades = detect_cascades(hm, top=5)
    layout_a = replay_layout(hm, (90.0, 110.0), 1e6, cascades)
    a, b = replay_frame(hm, 20, layout_a), replay_frame(later, 20, layout_a)
    for name in DATASETS:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_highlight_brightens_the_picture_and_keeps_the_top_fixed_over_the_replay(crash):
    """A stronger Highlight lowers the colour top (a brighter picture: more cells at full colour); the
    top comes from the whole window, so every frame and every zoom uses the same one."""
    tops = [replay_colour_top(crash, h) for h in (0, 20, 50, 100)]
    assert tops == sorted(tops, reverse=True) and tops[0] > tops[-1]
    grid = crash.long + crash.short
    assert tops[0] == pytest.approx(grid.max())  # subtle: only the very top cell is at full colour
    bright = [float(np.mean(grid >= top)) for top in tops]
    assert bright == sorted(bright) and bright[-1] > bright[0]
    near, wide = default_view_range(crash, margin=0.02), default_view_range(crash, margin=0.2)
    cascades = detect_cascades(crash, top=5)
    top = replay_colour_top(crash, 50)
    assert replay_layout(crash, near, top, cascades).vmax == replay_layout(crash, wide, top, cascades).vmax == top
    # frames only move the mask: the colours come from the one backdrop image drawn on that top
    layout = replay_layout(crash, near, top, cascades)
    frames = [replay_frame(crash, t, layout) for t in (10, 400, len(crash.times) - 1)]
    assert all("image" not in f for f in frames)
    dim, lit = (decode(replay_backdrop(crash, replay_layout(crash, near, replay_colour_top(crash, h), cascades))
                       ["image"]["url"].iloc[0].split(",", 1)[1].encode()) for h in (0, 100))
    assert lit[..., :3].astype(int).sum() > dim[..., :3].astype(int).sum()  # stronger = brighter picture


def test_replay_layout_fixes_the_scales_to_the_whole_window(crash, layout):
    flows = period_flows(crash)
    assert layout.liq_top == pytest.approx(max(flows["long_usd"].max(), flows["short_usd"].max()))
    assert layout.t_end - layout.t_start == (len(crash.times)) * 5 * 60_000  # no gaps in this sample
    windows = cascade_windows(detect_cascades(crash, top=5))
    assert list(windows["rank"]) == [f"#{i}" for i in range(1, len(windows) + 1)]
    assert (windows["end"] > windows["start"]).all()


def test_moment_summary_says_time_price_and_liquidations(crash):
    """The caption names the candle by its open time (as the slider does) and labels both sides."""
    text = moment_summary(crash, 10)
    assert f"{crash.times[10]:%a %d %b %H:%M} UTC candle" in text and "close " in text
    assert "so far: " in text and "longs / " in text and "shorts liquidated" in text


# ----------------------------------------------------------------------------- what-if


def test_swept_and_kept_split_the_map_without_losing_usd(crash):
    profile = crash.profile(500)
    result = simulate_from_profile(profile, -4.0, 50e6)
    price_range = whatif_range(result)
    assert price_range[0] < min(result.final_price, result.start_price) and price_range[1] > result.start_price
    frame = swept_frame(profile, result, price_range, max_rows=80)
    longs = frame[frame["side"] == "Longs"]
    inside = (profile.price_edges[1:] > price_range[0]) & (profile.price_edges[:-1] < price_range[1])
    assert (longs["swept_usd"] + longs["kept_usd"]).sum() == pytest.approx(profile.long[inside].sum(), rel=1e-9)
    assert longs["swept_usd"].sum() == pytest.approx(result.liquidated_long_usd, rel=1e-9)
    assert frame[frame["side"] == "Shorts"]["swept_usd"].sum() == 0.0  # a fall liquidates no shorts
    spec = whatif_chart(profile, result).to_dict()
    assert len(spec["hconcat"]) == 2


def test_whatif_chart_handles_no_shock_and_a_rise(crash):
    profile = crash.profile(-1)
    for shock in (0.0, 5.0):
        result = simulate_from_profile(profile, shock, 80e6, impact="sqrt")
        assert whatif_chart(profile, result).to_dict()["hconcat"]


def test_depth_order_book_first_then_the_larger_of_volume_and_the_oi_floor():
    assert estimate_depth(5e6, 3e9, book_depth=120e6).source == "order book"
    assert estimate_depth(5e6, 3e9, book_depth=120e6).usd_per_pct == 120e6
    floor = estimate_depth(0.4e6, 3.4e9)  # bitFlyer-sized volume against OKX open interest
    assert floor.source == "open interest" and floor.usd_per_pct == pytest.approx(DEPTH_OI_SHARE * 3.4e9)
    assert "floor" in floor.explanation
    assert estimate_depth(200e6, 3e9).source == "volume"  # volume above the floor wins
    assert estimate_depth(200e6, math.nan).source == "volume"
    assert estimate_depth(math.nan, math.nan, book_depth=None).usd_per_pct == PLACEHOLDER_DEPTH_USD
    assert "model's open positions" in estimate_depth(1.0, 2e9, oi_is_model=True).explanation


def test_typical_open_interest_sums_each_markets_median():
    a = pd.Series([1e9, 2e9, 3e9])
    b = pd.Series([np.nan, 4e9, np.nan])
    assert typical_open_interest([a, b]) == pytest.approx(6e9)
    assert math.isnan(typical_open_interest([pd.Series([np.nan, np.nan])]))
    assert math.isnan(typical_open_interest([]))


def test_the_backdrops_palette_png_is_the_ember_picture():
    """The backdrop's palette PNG shows the same colours as the RGBA raster (empty cells transparent;
    the map's lowest step drawn as the next), and the top of the scale saturates."""
    from core.charts.colours import ember_rgba
    from core.charts.replay_frames import ember_indexed_png

    rng = np.random.default_rng(3)
    cells = rng.uniform(0, 2e6, (40, 70)) * (rng.uniform(size=(40, 70)) > 0.3)
    got = decode(ember_indexed_png(cells, 1.5e6))[::-1]  # row 0 = lowest band, as the cells
    want = ember_rgba(cells, 1.5e6)
    assert got.shape == want.shape
    assert np.array_equal(got[..., 3], want[..., 3])
    lit = want[..., 3] > 0
    diff = np.abs(got[..., :3].astype(int) - want[..., :3].astype(int))[lit]
    assert diff.max() <= 12  # at most one step of the 256-step map apart (its lowest step)
    assert (diff == 0).mean() > 0.99
