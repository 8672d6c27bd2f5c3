"""Realized liquidations per candle: per-candle files (CoinGlass style) and single orders binned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.accuracy.realized_candles import orders_to_candles, read_candle_file, realized_candles, to_timeframe
from core.data.files import FileImportError
from core.accuracy.realized import read_realized
from tests.conftest import shared_path

HOURLY = ("btc_2025-12_2026-02_hourly", "btc_1h_spot_liquidations_oi.csv")
FORCE_2024 = ("binance_force_orders", "binance_forceOrder_2024-08-17_BandsThoBaby_liqs.csv")


def test_reads_coinglass_style_columns_with_candles_and_oi():
    text = (
        "timestamp,datetime_utc,price_open,price_high,price_low,price_close,liquidation_long_usd,"
        "liquidation_short_usd,liquidation_total_usd,oi_close\n"
        "1764831600000,2025-12-04T07:00:00.000Z,2,4,1,3,10.5,0,10.5,100\n"
        "1764828000000,2025-12-04T06:00:00.000Z,1,2,0.5,1.5,,7,7,90\n"
    ).encode()
    frame = read_candle_file(text, name="x.csv")
    assert list(frame.index) == [pd.Timestamp("2025-12-04 06:00", tz="UTC"), pd.Timestamp("2025-12-04 07:00", tz="UTC")]
    assert frame["long_usd"].tolist() == [0.0, 10.5]  # empty cell: nothing liquidated
    assert frame["short_usd"].tolist() == [7.0, 0.0]
    assert frame["close"].tolist() == [1.5, 3.0] and frame["open_interest"].tolist() == [90.0, 100.0]
    assert list(realized_candles(text).columns) == ["long_usd", "short_usd"]


def test_short_names_iso_times_and_seconds():
    iso = b"time,long_usd,short_usd\n2026-01-01T01:00:00Z,1,2\n2026-01-01T00:00:00Z,3,4\n"
    assert read_candle_file(iso)["long_usd"].tolist() == [3.0, 1.0]
    secs = b"ts,long_liq,short_liq\n1767225600,1,2\n"
    assert read_candle_file(secs).index[0] == pd.Timestamp("2026-01-01", tz="UTC")


def test_rejects_missing_columns_and_negative_usd():
    with pytest.raises(FileImportError):
        read_candle_file(b"timestamp,foo\n1,2\n")
    with pytest.raises(FileImportError):
        read_candle_file(b"timestamp,long_usd,short_usd\n1767225600000,-1,2\n")


def test_duplicate_candles_keep_the_first():
    frame = read_candle_file(b"timestamp,long_usd,short_usd\n1767225600000,1,2\n1767225600000,5,6\n")
    assert len(frame) == 1 and frame["long_usd"].iloc[0] == 1.0


def test_orders_binned_to_candles_and_to_coarser_timeframe():
    text = (
        "ts,long_liq,short_liq\n"
        "2026-01-01T00:00:00Z,1,0\n2026-01-01T00:59:00Z,2,5\n2026-01-01T01:00:00Z,4,0\n2026-01-01T03:10:00Z,8,1\n"
    ).encode()
    times = pd.date_range("2026-01-01", periods=3, freq="1h", tz="UTC")
    per = orders_to_candles(text, times, "1h", name="liq.csv", symbol="BTC/USDT:USDT")
    assert per["long_usd"].tolist() == [3.0, 4.0, 0.0]  # 03:10 is outside every candle
    assert per["short_usd"].tolist() == [5.0, 0.0, 0.0]
    minutes = pd.date_range("2026-01-01", periods=240, freq="1min", tz="UTC")
    per_min = orders_to_candles(text, minutes, "1m", name="liq.csv", symbol="BTC/USDT:USDT")
    hourly = to_timeframe(per_min, "1h")
    assert hourly["long_usd"].tolist() == [3.0, 4.0, 0.0, 8.0]
    assert hourly["long_usd"].sum() == pytest.approx(per_min["long_usd"].sum())


def test_real_hourly_file_reads_in_place():
    frame = read_candle_file(shared_path(*HOURLY))
    assert len(frame) == 2078 and frame.index.is_monotonic_increasing
    assert frame.index[0] == pd.Timestamp("2025-12-04 06:00", tz="UTC")
    row = frame.loc[pd.Timestamp("2026-02-05 20:00", tz="UTC")]  # SOURCES.md: $134M of longs that hour
    assert 130e6 < row["long_usd"] < 140e6 and row["low"] == pytest.approx(62345, abs=1)
    assert (frame[["long_usd", "short_usd"]] >= 0).all().all()


def test_real_force_orders_binned_match_their_total():
    path = shared_path(*FORCE_2024)
    times = pd.date_range("2024-08-17 11:00", periods=3, freq="1h", tz="UTC")
    per = orders_to_candles(path, times, "1h", symbol="BTC/USDT:USDT")
    orders = read_realized(path, symbol="BTC/USDT:USDT")
    assert per.to_numpy().sum() == pytest.approx(orders["usd"].sum())
    assert np.all(per.to_numpy() >= 0)


def test_market_from_candle_file_uses_its_candles_and_open_interest():
    """A CoinGlass-style file with prices and oi_close is a market on its own spacing; without them, None."""
    from core.accuracy.realized_candles import market_from_candle_file, read_candle_file

    times = pd.date_range("2026-01-01", periods=6, freq="1h", tz="UTC")
    raw = pd.DataFrame({"timestamp": times.as_unit("ms").asi8, "liquidation_long_usd": [1, 2, 3, 4, 5, 6],
                        "liquidation_short_usd": [0, 1, 0, 1, 0, 1], "price_open": 100.0, "price_high": 101.0,
                        "price_low": 99.0, "price_close": 100.5, "oi_close": [1e9, 1.1e9, 1.0e9, 1.2e9, 1.3e9, 1.2e9]})
    frame = read_candle_file(raw, "test.csv")
    market = market_from_candle_file(frame)
    assert market is not None and market.timeframe == "1h" and market.has_open_interest
    assert market.candles.index.equals(pd.DatetimeIndex(times).as_unit("ns"))
    assert market_from_candle_file(frame[["long_usd", "short_usd"]]) is None
