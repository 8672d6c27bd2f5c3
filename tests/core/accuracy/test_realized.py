"""Realized liquidations (core/realized.py): real recordings read in place, and hostile inputs.

The Binance forceOrder recordings and the Bybit files must not be copied into the repo: they are
read from ../shared/data where they are (skipped if absent).
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.files import FileImportError
from core.accuracy import normalize_symbol, read_realized, realized_per_candle, sniff_format
from tests.conftest import shared_path

FORCE_2024 = ("binance_force_orders", "binance_forceOrder_2024-08-17_BandsThoBaby_liqs.csv")
FORCE_2025 = ("binance_force_orders", "binance_forceOrder_2025-06-23_NeoParth_bigliqs.csv")
BYBIT_ORDERS = ("btc_2024-03-05_cascade", "bybit_btcusdt_liquidation_orders.csv")
BYBIT_MINUTES = ("btc_2024-03-05_cascade", "bybit_btcusdt_liquidations_per_minute.csv")
COLUMNS = ["side", "price", "quantity", "usd", "symbol"]


def check_shape(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == COLUMNS
    assert isinstance(frame.index, pd.DatetimeIndex) and str(frame.index.tz) == "UTC" and frame.index.name == "time"
    assert frame.index.is_monotonic_increasing
    assert set(frame["side"]) <= {"long", "short"}
    assert (frame["usd"] > 0).all()


# ---------------------------------------------------------------------------------------------- Binance forceOrder


def test_force_order_2024_recording():
    """The 2024-08-17 stream recording: SELL liquidated longs, BUY shorts; "BTC" means BTCUSDT."""
    path = shared_path(*FORCE_2024)
    frame = read_realized(path)
    check_shape(frame)
    assert len(frame) == 456
    btc = read_realized(path, symbol="BTC/USDT:USDT")
    assert len(btc) == 4 and set(btc["symbol"]) == {"BTC/USDT:USDT"}
    first = btc.iloc[0]  # BTC,BUY,...,0.044,59298.69,59128.00,FILLED,0.044,0.044,1723896324103
    assert btc.index[0] == pd.Timestamp(1723896324103, unit="ms", tz="UTC")
    assert first["side"] == "short" and first["price"] == 59128.00 and first["quantity"] == 0.044
    assert first["usd"] == pytest.approx(0.044 * 59128.00)
    assert btc["side"].tolist() == ["short", "long", "short", "long"]
    for alias in ("BTC", "BTCUSDT", "btcusdt"):
        pd.testing.assert_frame_equal(read_realized(path, symbol=alias), btc)


def test_force_order_2025_recording_with_none_average_price():
    """Where average_price is the literal None, the order price is used; USDC and dated markets stay apart."""
    path = shared_path(*FORCE_2025)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = read_realized(path)
    check_shape(frame)
    assert len(frame) == len(raw) == 702
    assert (raw["average_price"].astype(str) == "None").all()
    by_time = frame.reset_index().set_index(["time", "side"])
    row = raw.iloc[0]  # FLUX,BUY,LIMIT,IOC,5739,0.1895000,None,FILLED,8,5739,1750713727423,...
    got = by_time.loc[(pd.Timestamp(int(row["order_trade_time"]), unit="ms", tz="UTC"), "short")]
    assert got["price"] == pytest.approx(0.1895) and got["quantity"] == 5739  # order price; accumulated quantity
    assert "BTC/USDC:USDC" in set(frame["symbol"]) and "ETH/USDT:USDT-250627" in set(frame["symbol"])
    btc = read_realized(path, symbol="BTCUSDT")
    assert len(btc) == int(raw["symbol"].isin(["BTC", "BTCUSDT"]).sum())
    assert any("other symbols left out" in n for n in btc.attrs["notes"])


def test_duplicates_are_removed():
    """An event recorded twice counts once, and the removal is noted."""
    text = shared_path(*FORCE_2024).read_bytes()
    lines = text.splitlines(keepends=True)
    doubled = b"".join(lines + lines[1:50])
    frame = read_realized(doubled, name="doubled.csv")
    assert len(frame) == 456
    assert any("49 duplicate liquidation(s) removed" in n for n in frame.attrs["notes"])


def force_order_event(row: pd.Series) -> dict:
    return {"e": "forceOrder", "E": int(row["order_trade_time"]) + 5, "o": {
        "s": row["symbol"], "S": row["side"], "o": "LIMIT", "f": "IOC", "q": str(row["original_quantity"]),
        "p": str(row["price"]), "ap": str(row["average_price"]), "X": "FILLED",
        "l": str(row["order_last_filled_quantity"]), "z": str(row["order_filled_accumulated_quantity"]),
        "T": int(row["order_trade_time"]),
    }}


def test_raw_json_events_read_like_the_csv():
    """The stream's raw JSON events (plain or wrapped), one per line, give the same liquidations."""
    path = shared_path(*FORCE_2024)
    raw = pd.read_csv(path, dtype=str)
    events = [force_order_event(r) for _, r in raw.iterrows()]
    lines = [json.dumps(e) for e in events[:200]] + [json.dumps({"stream": "!forceOrder@arr", "data": e})
                                                     for e in events[200:]]
    lines.insert(3, json.dumps({"e": "markPriceUpdate", "s": "BTCUSDT"}))
    lines.insert(7, "")
    frame = read_realized("\n".join(lines).encode(), name="stream.jsonl")
    pd.testing.assert_frame_equal(frame, read_realized(path), check_like=False)
    assert any("1 line(s) that are not forceOrder events skipped" in n for n in frame.attrs["notes"])


@pytest.mark.parametrize("content", [b'{"e": "forceOrder", "o": {}\n', b"[" * 100_000 + b"]" * 100_000,
                                     b'{"e":"forceOrder","o":{"s":"BTCUSDT","S":"SELL","T":1e999999}}\n',
                                     b'{"e":"kline"}\n'])
def test_broken_json_is_refused(content):
    """Broken or irrelevant JSON gives a FileImportError (deep nesting included)."""
    with pytest.raises(FileImportError):
        read_realized(content, name="x.jsonl")


def test_liquidation_snapshot_csv():
    """Binance's liquidationSnapshot files: symbol from the file name, SELL = long liquidated."""
    text = (
        "time,side,order_type,time_in_force,original_quantity,price,average_price,order_status,"
        "last_fill_quantity,accumulated_fill_quantity\n"
        "1709650000123,SELL,LIMIT,IOC,0.5,61000.0,61050.5,FILLED,0.5,0.5\n"
        "1709650001123,BUY,LIMIT,IOC,0.2,62000.0,0,FILLED,0.1,0.2\n"
    )
    frame = read_realized(text.encode(), name="BTCUSDT-liquidationSnapshot-2024-03-05.csv")
    check_shape(frame)
    assert frame["side"].tolist() == ["long", "short"]
    assert frame["price"].tolist() == [61050.5, 62000.0]
    assert frame["usd"].tolist() == pytest.approx([0.5 * 61050.5, 0.2 * 62000.0])
    assert set(frame["symbol"]) == {"BTC/USDT:USDT"}
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("BTCUSDT-liquidationSnapshot-2024-03-05.csv", text)
    pd.testing.assert_frame_equal(read_realized(zipped.getvalue(), name="BTCUSDT-liquidationSnapshot.zip"), frame)


# ---------------------------------------------------------------------------------------------- Bybit


def test_bybit_orders_of_the_2024_03_05_cascade():
    """1,411 real Bybit orders; Bybit's Buy means a long was liquidated; totals as recorded (~$8.3M / $8.0M)."""
    path = shared_path(*BYBIT_ORDERS)
    raw = pd.read_csv(path)
    frame = read_realized(path, symbol="BTC/USDT:USDT")
    check_shape(frame)
    assert len(frame) == 1411
    assert ((raw["bybit_side"] == "Buy") == (raw["liquidated_position"] == "long")).all()
    assert frame["side"].tolist() == raw.sort_values("ts_ms", kind="stable")["liquidated_position"].tolist()
    totals = frame.groupby("side")["usd"].sum()
    recorded = raw.groupby("liquidated_position")["notional_usd"].sum()
    assert totals["long"] == pytest.approx(recorded["long"], rel=1e-4)
    assert totals["short"] == pytest.approx(recorded["short"], rel=1e-4)
    assert totals["long"] == pytest.approx(8.3e6, rel=0.01) and totals["short"] == pytest.approx(8.0e6, rel=0.01)


def test_bybit_per_minute_matches_the_orders_per_candle():
    """Bybit's per-minute file equals the orders summed per 1m candle (realized_per_candle)."""
    minutes = pd.read_csv(shared_path(*BYBIT_MINUTES))
    times = pd.DatetimeIndex(pd.to_datetime(minutes["open_time_ms"], unit="ms", utc=True))
    orders = read_realized(shared_path(*BYBIT_ORDERS))
    per_candle = realized_per_candle(orders, times, "1m")
    assert per_candle["long_usd"].to_numpy() == pytest.approx(minutes["long_liq_usd"].to_numpy(), rel=1e-3, abs=0.05)
    assert per_candle["short_usd"].to_numpy() == pytest.approx(minutes["short_liq_usd"].to_numpy(), rel=1e-3, abs=0.05)
    aggregated = read_realized(shared_path(*BYBIT_MINUTES), symbol="BTCUSDT")
    check_shape(aggregated)
    assert aggregated["price"].isna().all()
    assert aggregated["usd"].sum() == pytest.approx(minutes[["long_liq_usd", "short_liq_usd"]].to_numpy().sum())
    again = realized_per_candle(aggregated, times, "1m")
    assert again["long_usd"].to_numpy() == pytest.approx(minutes["long_liq_usd"].to_numpy())


@pytest.mark.parametrize("stamps", [["1709618100000", "1709618160000"], ["1709618100", "1709618160"],
                                    ["2024-03-05T05:55:00Z", "2024-03-05T05:56:00Z"]])
def test_simple_per_minute_totals(stamps):
    """ts,long_liq,short_liq files: seconds, milliseconds or ISO times; zero minutes are not liquidations."""
    text = "ts,long_liq,short_liq\n" + f"{stamps[0]},1000.5,0\n{stamps[1]},0,250\n"
    frame = read_realized(text.encode(), name="liqs.csv", symbol="BTC/USDT:USDT")
    check_shape(frame)
    assert frame.index.tolist() == [pd.Timestamp("2024-03-05 05:55", tz="UTC"), pd.Timestamp("2024-03-05 05:56", tz="UTC")]
    assert frame["side"].tolist() == ["long", "short"] and frame["usd"].tolist() == [1000.5, 250.0]


def test_realized_per_candle_bins_and_gaps():
    """Liquidations count in the candle [open, open + timeframe) holding them; those in gaps do not."""
    realized = pd.DataFrame(
        {"side": ["long", "short", "long", "long"], "price": 1.0, "quantity": 1.0, "usd": [1.0, 2.0, 4.0, 8.0],
         "symbol": ""},
        index=pd.DatetimeIndex(["2024-01-01 00:00:00", "2024-01-01 00:04:59.999", "2024-01-01 00:05:00",
                                "2024-01-01 00:12:00"], tz="UTC", name="time"),
    )
    times = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 00:05"], tz="UTC")  # 00:10 missing: gap
    out = realized_per_candle(realized, times, "5m")
    assert out["long_usd"].tolist() == [1.0, 4.0] and out["short_usd"].tolist() == [2.0, 0.0]


# ---------------------------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        ("symbol,side,order_trade_time\n".encode("utf-16"), "UTF-16 or binary"),
        (b"ts,long_liq,short_liq\n1709618100000,\xff\xfe,0\n", "not UTF-8"),
        (b"a,b,c\n1,2,3\n", "not a liquidation file"),
        (bytes(range(256)), "UTF-16 or binary|binary data"),
        (b"ts,long_liq,short_liq\n1709618100000,=cmd|' /C calc'!A0,0\n", "line 2, column long_liq"),
        (b"ts_ms,symbol,liquidated_position,qty_btc\n1,BTCUSDT,long,1\n", "lacks column"),
    ],
)
def test_wrong_files_are_refused(content, message):
    """Wrong files are refused with a FileImportError in plain words."""
    with pytest.raises(FileImportError, match=message):
        read_realized(content, name="upload.csv")


def test_bad_rows_are_dropped_and_counted():
    """Rows with an unknown side, a bad symbol or no size are dropped, and the notes say how many."""
    text = ("symbol,side,order_type,time_in_force,original_quantity,price,average_price,order_status,"
            "order_last_filled_quantity,order_filled_accumulated_quantity,order_trade_time,usd_size\n"
            "BTC,SELL,LIMIT,IOC,1,100,None,FILLED,1,1,1709618100000,100\n"
            "BTC,HOLD,LIMIT,IOC,1,100,None,FILLED,1,1,1709618100000,100\n"
            "B$C,SELL,LIMIT,IOC,1,100,None,FILLED,1,1,1709618100000,100\n"
            "BTC,SELL,LIMIT,IOC,0,100,None,FILLED,0,0,1709618100000,0\n")
    frame = read_realized(text.encode(), name="f.csv")
    assert len(frame) == 1
    notes = " ".join(frame.attrs["notes"])
    assert "1 row(s) with an unknown side" in notes and "an invalid symbol" in notes and "no positive size" in notes
    with pytest.raises(FileImportError, match="not a symbol"):
        read_realized(text.encode(), name="f.csv", symbol="BTC/../../x")


def test_size_limit_and_symbol_helpers():
    """Oversized input is refused; symbols normalise from exchange ids."""
    with pytest.raises(FileImportError, match="too large"):
        read_realized(b"ts,long_liq,short_liq\n" * 100, name="big.csv", max_bytes=1000)
    assert normalize_symbol("BTC") == "BTC/USDT:USDT" == normalize_symbol("btcusdt")
    assert normalize_symbol("ETHUSDC") == "ETH/USDC:USDC"
    assert normalize_symbol("BTC-USD$") is None
    assert sniff_format(b'{"e":"forceOrder"}') == "force_order_json"


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_file_import_error(data):
    """Whatever the bytes, read_realized returns the shape or raises FileImportError."""
    try:
        frame = read_realized(data, name="x.csv")
    except FileImportError:
        return
    assert list(frame.columns) == COLUMNS


headers = st.sampled_from([
    "ts,long_liq,short_liq",
    "ts_ms,ts_utc,symbol,bybit_side,liquidated_position,qty_btc,bankruptcy_price,notional_usd",
    "symbol,side,order_type,time_in_force,original_quantity,price,average_price,order_status,"
    "order_last_filled_quantity,order_filled_accumulated_quantity,order_trade_time,usd_size",
    "time,side,order_type,time_in_force,original_quantity,price,average_price,order_status,"
    "last_fill_quantity,accumulated_fill_quantity",
    "open_time_ms,ts_utc,long_liq_count,long_liq_btc,long_liq_usd,short_liq_count,short_liq_btc,short_liq_usd",
])
cells = st.sampled_from(["1709618100000", "1709618100", "0", "-5", "1e308", "1e999", "nan", "None", "", "BTC",
                         "SELL", "BUY", "long", "short", "abc", "2024-03-05T05:55:00Z", "2024-13-45", '"'])


@settings(max_examples=200, deadline=None)
@given(header=headers, rows=st.lists(st.lists(cells, min_size=1, max_size=13), min_size=1, max_size=6))
def test_near_miss_files_raise_only_file_import_error(header, rows):
    """Right headers with odd cells give the shape or a FileImportError, nothing else."""
    text = header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    try:
        frame = read_realized(text.encode(), name="x.csv")
    except FileImportError:
        return
    assert list(frame.columns) == COLUMNS
    assert np.isfinite(frame["usd"]).all()
