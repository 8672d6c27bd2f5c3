"""Realized-liquidation chart builders: markers on the heatmap's scales, per-candle bars, calibration."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from core.charts import default_view_range, heatmap_chart, render_raster
from core.data.bundled import load_bundled
from core.grid import compute_heatmap
from core.model import ModelParams
from core.accuracy import read_realized, realized_per_candle, score_against_realized
from core.charts import (
    calibration_chart,
    calibration_frame,
    per_candle_chart,
    per_candle_frame,
    raster_scales,
    realized_layer,
    realized_points,
    score_reading,
    skipped_frame,
)
from core.charts.accuracy import MAX_MARKERS

HEADER = ("symbol,side,order_type,time_in_force,original_quantity,price,average_price,order_status,"
          "order_last_filled_quantity,order_filled_accumulated_quantity,order_trade_time,usd_size")


def force_orders(rows: list[tuple[str, str, float, float, pd.Timestamp]]) -> bytes:
    """A Binance forceOrder CSV (the recorders' layout) of (symbol, side, qty, price, time) rows."""
    lines = [HEADER]
    for symbol, side, qty, price, when in rows:
        ms = int(pd.Timestamp(when).value // 1_000_000)
        lines.append(f"{symbol},{side},LIMIT,IOC,{qty},{price},{price},FILLED,{qty},{qty},{ms},{qty * price}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def heatmap():
    """The model on the real 4-7 Feb 2026 crash (15m candles, last day)."""
    return compute_heatmap(load_bundled("btc_2026-02_crash", "15m", "24h"), ModelParams(), price_bins=300)


@pytest.fixture(scope="module")
def realized(heatmap):
    """Eight liquidations at real closes of the map, one long and one short per chosen candle,
    one per-minute-free row outside the window, and one of another symbol."""
    rows = []
    for i in (10, 30, 50, 70):
        t = heatmap.times[i] + pd.Timedelta(minutes=3)
        rows += [("BTCUSDT", "SELL", 0.5 + i / 100, float(heatmap.low[i]), t),
                 ("BTC", "BUY", 0.2, float(heatmap.high[i]), t + pd.Timedelta(seconds=1))]
    rows.append(("BTCUSDT", "SELL", 1.0, 60_000.0, heatmap.times[0] - pd.Timedelta(days=3)))
    rows.append(("ETHUSDT", "SELL", 10.0, 3_000.0, heatmap.times[5]))
    return read_realized(force_orders(rows), name="orders.csv", symbol="BTC/USDT:USDT")


def test_points_keep_the_window_and_the_largest(heatmap, realized):
    """Only priced rows inside the time and price window are drawn; the cap keeps the largest."""
    before = realized.copy()
    window = (heatmap.times[0], heatmap.times[-1] + pd.Timedelta(minutes=15))
    points = realized_points(realized, window, (50_000.0, 90_000.0))
    assert len(points) == 8  # the one three days earlier is outside the time window
    assert set(points["side_txt"]) == {"Longs liquidated", "Shorts liquidated"}
    assert points["time"].is_monotonic_increasing
    top = realized_points(realized, window, None, max_points=3)
    assert sorted(top["usd"]) == sorted(points["usd"].nlargest(3))
    assert points["usd_txt"].str.startswith("$").all()
    pd.testing.assert_frame_equal(realized, before)  # never mutated


def test_points_skip_per_minute_totals_without_price():
    per_minute = read_realized(b"ts,long_liq,short_liq\n1707000000,1000,0\n1707000060,0,500\n", name="m.csv")
    assert len(per_minute) == 2
    assert realized_points(per_minute).empty


def test_marker_layer_shares_the_heatmaps_scales(heatmap, realized):
    """Layered over heatmap_chart, the markers use the same x and y domains (one shared scale)."""
    price_range = default_view_range(heatmap, 0.05)
    raster = render_raster(heatmap, "both", price_range)
    x_scale, y_scale = raster_scales(raster)
    chart = alt.layer(heatmap_chart(heatmap, "both", price_range, raster=raster),
                      realized_layer(realized, x_scale, y_scale))
    spec = chart.to_dict()
    assert spec["width"] == 760 and spec["height"] == 460
    base = heatmap_chart(heatmap, "both", price_range, raster=raster).to_dict()["layer"][0]["encoding"]
    marks = spec["layer"][1]
    assert marks["mark"]["type"] == "circle"
    assert marks["encoding"]["x"]["scale"]["domain"] == base["x"]["scale"]["domain"]
    assert marks["encoding"]["y"]["scale"]["domain"] == base["y"]["scale"]["domain"]
    assert [t["title"] for t in marks["encoding"]["tooltip"]] == ["Time (UTC)", "Price", "Side", "USD"]
    assert len(spec["datasets"][marks["data"]["name"]]) == 8


def test_marker_layer_needs_explicit_domains(realized):
    with pytest.raises(ValueError):
        realized_layer(realized, alt.Scale(), alt.Scale())


def test_marker_count_is_capped(heatmap):
    t = heatmap.times[20]
    rows = [("BTCUSDT", "SELL", 0.001 * (i + 1), float(heatmap.close[20]), t + pd.Timedelta(seconds=i))
            for i in range(MAX_MARKERS + 50)]
    many = read_realized(force_orders(rows), name="many.csv")
    raster = render_raster(heatmap, "both", default_view_range(heatmap))
    layer = realized_layer(many, *raster_scales(raster)).to_dict()
    assert len(next(iter(layer["datasets"].values()))) == MAX_MARKERS


def test_per_candle_frame_keeps_every_dollar(heatmap, realized):
    """Grouping candles into bars keeps the totals of both sources and both sides; longs point down."""
    per_candle = realized_per_candle(realized, heatmap.times, heatmap.timeframe)
    frame = per_candle_frame(heatmap, per_candle, max_bars=10)
    assert frame.groupby("source")["t0"].nunique().max() <= 10
    real = frame[frame["source"] == "Realized"]
    model = frame[frame["source"] == "Model"]
    assert real["usd"].sum() == pytest.approx(per_candle.to_numpy().sum())
    assert model["usd"].sum() == pytest.approx(heatmap.liquidated_long.sum() + heatmap.liquidated_short.sum())
    longs = frame["side_txt"] == "Longs liquidated"
    assert (frame.loc[longs, "signed"] < 0).all() and (frame.loc[~longs, "signed"] > 0).all()
    spec = per_candle_chart(frame, (heatmap.times[0], heatmap.times[-1])).to_dict()
    assert len(spec["vconcat"]) == 2


def test_score_charts_and_reading(heatmap, realized):
    score = score_against_realized(heatmap, realized)
    assert score.n_scored == 8
    cal = calibration_frame(score)
    assert len(cal) == 20 and set(cal["what"]) == {"Realized USD", "Model's own USD"}
    assert cal.loc[cal["what"] == "Realized USD", "share"].sum() == pytest.approx(1.0)
    assert calibration_chart(score).to_dict()["layer"][0]["mark"]["type"] == "bar"
    reading = score_reading(score)
    assert f"{score.hit_share:.1%}" in reading and "uniform guess" in reading
    skipped = skipped_frame(score)
    assert skipped["count"].sum() == score.n_skipped == 1  # the one before the map


def test_reading_when_nothing_was_scored(heatmap):
    far = read_realized(force_orders([("BTCUSDT", "SELL", 1.0, 60_000.0, pd.Timestamp("2020-01-01", tz="UTC"))]),
                        name="old.csv")
    score = score_against_realized(heatmap, far)
    assert score.n_scored == 0
    assert "No liquidation could be scored" in score_reading(score)
    assert not np.isfinite(score.hit_share)
