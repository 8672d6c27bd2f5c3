"""Binance public-data imports (core/data/files.py): real-format fixtures and hostile inputs.

Decision for very large uploads: up to ``DEFAULT_MAX_ROWS`` (2,000,000) rows are read (a
10^6-row klines file takes about a second); more are refused with a clear message, never
silently truncated.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data.files import KLINES_COLUMNS, METRICS_COLUMNS, FileImportError, count_gaps, epoch_ms, load_files
from core.data.market import resample_candles
from tests.conftest import shared_path

FIXTURES = Path(__file__).resolve().parents[3] / "data" / "examples" / "binance_public"
DAY1 = FIXTURES / "BTCUSDT-1m-2026-02-05.csv"  # header, milliseconds
DAY2 = FIXTURES / "BTCUSDT-1m-2026-02-06.csv"  # no header, microseconds
METRICS1 = FIXTURES / "BTCUSDT-metrics-2026-02-05.csv"
METRICS2 = FIXTURES / "BTCUSDT-metrics-2026-02-06.csv"
ZIP = FIXTURES / "BTCUSDT-1m-and-metrics-2026-02-05_06.zip"
ALL = [DAY1, DAY2, METRICS1, METRICS2]


def as_pairs(*paths: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in paths]


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def klines_text(open_ms: np.ndarray, close: np.ndarray, header: bool = True, micro: bool = False) -> bytes:
    """A klines CSV around given closes (open = previous close, wicks 0.5 beyond)."""
    scale = 1000 if micro else 1
    lines = [",".join(KLINES_COLUMNS)] if header else []
    closes = [float(c) for c in close]
    prev = closes[0]
    for t, c in zip(open_ms.tolist(), closes):
        hi, lo = max(prev, c) + 0.5, min(prev, c) - 0.5
        lines.append(f"{t * scale},{prev!r},{hi!r},{lo!r},{c!r},1.5,{(t + 59_999) * scale + scale - 1 if micro else t + 59_999},"
                     f"100.0,3,0.7,50.0,0")
        prev = c
    return ("\n".join(lines) + "\n").encode()


# ---------------------------------------------------------------------------------------------- real fixtures


def test_fixture_days_merge_into_one_market():
    """Two days of klines (ms with header, us without) and their metrics give 6 hours of 1m candles with OI."""
    market = load_files(ALL)
    assert market.source == "upload" and market.exchange == "binanceusdm"
    assert market.symbol == "BTC/USDT:USDT" and market.timeframe == "1m"
    assert len(market.candles) == 360
    assert market.candles.index[0] == pd.Timestamp("2026-02-05 21:00", tz="UTC")
    assert (np.diff(market.candles.index.asi8) == 60_000_000_000).all()  # us and ms agree: no gap
    assert market.open_interest.notna().all() and market.has_open_interest
    assert market.long_short_ratio is None  # the fixtures' ratio columns are empty
    assert any("4 CSV file(s), 2 klines and 2 metrics" in n for n in market.notes)
    assert any("360 candle rows -> 360 candles" in n for n in market.notes)


def test_fixture_values_equal_the_real_recording():
    """Candles and OI read from the fixtures equal the real Binance data they were made from."""
    source = shared_path("btc_2026-02_crash")
    candles = pd.read_csv(source / "binance_btcusdt_perp_1m.csv")
    candles.index = pd.DatetimeIndex(pd.to_datetime(candles.pop("open_time"), unit="ms", utc=True)).as_unit("ns")
    oi = pd.read_csv(source / "binance_btcusdt_open_interest_5m.csv")
    oi.index = pd.to_datetime(oi.pop("timestamp"), unit="ms", utc=True)
    market = load_files(ALL)
    expected = candles.loc[market.candles.index, ["open", "high", "low", "close", "volume"]]
    pd.testing.assert_frame_equal(market.candles, expected, check_names=False, check_freq=False)
    # the OI of a candle is the latest 5-minute observation at or before its close (the fixtures
    # hold the observations stamped 21:00 .. 02:55)
    oi = oi.loc[oi.index < pd.Timestamp("2026-02-06 03:00", tz="UTC")]
    at_close = oi["oi_usd"].reindex(market.candles.index + pd.Timedelta(minutes=1), method="ffill")
    assert market.open_interest.to_numpy() == pytest.approx(at_close.to_numpy(), rel=1e-12)


def test_zip_reads_like_the_csvs_and_aggregates():
    """The zip of the four files gives the same market; timeframe="5m" aggregates the 1m candles."""
    from_csv = load_files(as_pairs(*ALL))
    from_zip = load_files([ZIP])
    pd.testing.assert_frame_equal(from_zip.candles, from_csv.candles)
    five = load_files([ZIP], timeframe="5m")
    assert five.timeframe == "5m" and len(five.candles) == 72
    pd.testing.assert_frame_equal(five.candles, resample_candles(from_csv.candles, "5m"))
    assert any("aggregated to 5m" in n for n in five.notes)


def test_duplicates_and_order():
    """The same day uploaded twice, in any order, is de-duplicated and the drop is noted."""
    market = load_files(as_pairs(DAY2, DAY1, DAY1))
    assert len(market.candles) == 360 and market.candles.index.is_monotonic_increasing
    assert any("180 duplicate candle(s) dropped" in n for n in market.notes)
    assert any("no metrics file" in n for n in market.notes)
    assert market.open_interest.isna().all()


def test_long_short_ratio_from_metrics():
    """count_long_short_ratio becomes MarketData.long_short_ratio."""
    rows = [",".join(METRICS_COLUMNS),
            "2026-02-05 21:00:00,BTCUSDT,94140.5,6002428945.04,1.1,1.2,1.85,0.9",
            "2026-02-05 21:05:00,BTCUSDT,93972.0,6050848326.70,1.1,1.2,1.90,,"[:-1]]
    market = load_files([DAY1, ("BTCUSDT-metrics-2026-02-05.csv", ("\n".join(rows) + "\n").encode())])
    assert market.long_short_ratio.tolist() == [1.85, 1.90]
    assert market.long_short_ratio.index[0] == pd.Timestamp("2026-02-05 21:00", tz="UTC")


# ---------------------------------------------------------------------------------------------- symbol, timeframe


def test_symbol_given_inferred_or_conflicting():
    """The symbol comes from Binance's file names or the caller; conflicts are refused."""
    data = DAY1.read_bytes()
    assert load_files([("candles.csv", data)], symbol="BTCUSDT").symbol == "BTC/USDT:USDT"
    assert load_files([DAY1], symbol="BTC/USDT:USDT").symbol == "BTC/USDT:USDT"
    with pytest.raises(FileImportError, match="could not tell the symbol"):
        load_files([("candles.csv", data)])
    with pytest.raises(FileImportError, match="not BTC|for 'BTCUSDT'"):
        load_files([DAY1], symbol="ETH/USDT:USDT")
    with pytest.raises(FileImportError, match="different symbols"):
        load_files([DAY1, ("ETHUSDT-1m-2026-02-06.csv", DAY2.read_bytes())])


def test_unsupported_spacing_is_named_and_can_be_aggregated():
    """30-minute klines are refused with the reason, unless a coarser supported timeframe is asked for."""
    opens = 1_709_596_800_000 + np.arange(8) * 1_800_000
    data = klines_text(opens, np.linspace(60_000, 60_700, 8))
    with pytest.raises(FileImportError, match="30 minute"):
        load_files([("BTCUSDT-30m-2024-03-05.csv", data)])
    hourly = load_files([("BTCUSDT-30m-2024-03-05.csv", data)], timeframe="1h")
    assert len(hourly.candles) == 4
    with pytest.raises(FileImportError, match="cannot make 5m"):
        load_files([("BTCUSDT-30m-2024-03-05.csv", data)], timeframe="5m")


# ---------------------------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\n", "is empty"),
        ("open_time,open\n1,2\n".encode("utf-16"), "UTF-16 or binary"),
        (b"open_time,open,high\xe9\xe8,low\n", "not UTF-8"),
        (b"a,b,c\n1,2,3\n", "not a Binance klines or metrics file"),
        (b"date,price\n2024-01-01,5\n", "not a Binance klines or metrics file"),
        (bytes(range(256)) * 4, "UTF-16 or binary|binary data"),
        (b"\x1b[31mopen_time,open\n", "binary data"),
        (b"1709596800000,1,2\n", "not a Binance klines"),
    ],
)
def test_wrong_files_are_refused_in_plain_words(content, message):
    """Wrong files are refused with a FileImportError saying what is wrong."""
    with pytest.raises(FileImportError, match=message):
        load_files([("BTCUSDT-1m-2024-03-05.csv", content)])


def test_formula_cells_are_refused_and_escaped():
    """A spreadsheet formula in a price cell is refused; the message quotes it escaped and truncated."""
    lines = DAY1.read_text().splitlines()
    cells = lines[5].split(",")
    cells[2] = "=cmd|' /C calc'!A0" + "x" * 100
    lines[5] = ",".join(cells)
    with pytest.raises(FileImportError) as caught:
        load_files([(DAY1.name, "\n".join(lines).encode())])
    text = str(caught.value)
    assert "line 6, column high" in text and "is not a number" in text
    assert "x" * 30 not in text  # truncated


def test_unicode_in_headers_never_reaches_messages_raw():
    """Non-ASCII text from a file appears in a message only escaped."""
    with pytest.raises(FileImportError) as caught:
        load_files([("BTCUSDT-1m-2024-03-05.csv", "snow\u2603,\u202eevil\n1,2\n".encode())])
    assert "\u2603" not in str(caught.value) and "\u202e" not in str(caught.value)
    assert "\\u2603" in str(caught.value)


def test_extra_columns_and_non_numeric_klines_are_refused():
    """Rows wider than the klines layout, and text in number columns, refuse the file."""
    wide = DAY1.read_text().replace(",0\n", ",0,9\n", 1).encode()
    with pytest.raises(FileImportError, match="columns expected"):
        load_files([(DAY1.name, wide)])
    with pytest.raises(FileImportError, match="is not a number"):
        load_files([(DAY1.name, DAY1.read_bytes().replace(b"63750.90", b"abc", 1))])


def test_zip_bomb_like_members_are_refused():
    """A member that expands enormously, or beyond the per-zip limit, is refused before it is read whole."""
    bomb = zip_of({"BTCUSDT-1m-2024-03-05.csv": b"0" * (40 * 2**20)})
    assert len(bomb) < 200_000
    with pytest.raises(FileImportError, match="zip bomb"):
        load_files([("BTCUSDT-1m-2024-03.zip", bomb)])
    with pytest.raises(FileImportError, match="unpacks to more than"):
        load_files([ZIP], max_unzipped_bytes=10_000)


def test_lying_zip_sizes_are_caught():
    """A zip whose declared sizes are falsified is refused (read bounded, CRC checked)."""
    data = bytearray(zip_of({"BTCUSDT-1m-2026-02-05.csv": DAY1.read_bytes()}))
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    with pytest.raises(FileImportError):
        load_files([("x.zip", bytes(data))])


@pytest.mark.parametrize("member", ["../BTCUSDT-1m-2024-03-05.csv", "/etc/BTCUSDT-1m-2024-03-05.csv",
                                    "C:\\x\\BTCUSDT-1m-2024-03-05.csv", "a/../../BTCUSDT-1m-2024-03-05.csv"])
def test_path_traversal_members_refuse_the_zip(member):
    """A zip with a member named to escape the archive is refused (nothing is ever extracted)."""
    with pytest.raises(FileImportError, match="unsafe path"):
        load_files([("up.zip", zip_of({member: DAY1.read_bytes()}))])


def test_zip_members_filtered_to_csv():
    """Non-CSV members are skipped and noted; a zip without CSV, or a fake zip, is refused."""
    market = load_files([("mixed.zip", zip_of({DAY1.name: DAY1.read_bytes(), "run.sh": b"rm -rf /",
                                                "inner.zip": zip_of({"a.csv": b"1"})}))])
    assert len(market.candles) == 180
    assert any("2 zip member(s) that are not .csv files skipped" in n for n in market.notes)
    with pytest.raises(FileImportError, match="holds no .csv"):
        load_files([("empty.zip", zip_of({"readme.txt": b"hello"}))])
    with pytest.raises(FileImportError, match="not a zip file"):
        load_files([("BTCUSDT-1m-2024-03.zip", b"hello")])
    with pytest.raises(FileImportError, match="not a readable zip"):
        load_files([("BTCUSDT-1m-2024-03.zip", b"PK\x03\x04" + b"\x00" * 50)])


def test_size_and_row_limits():
    """Inputs over the total size or row limits are refused with the limit in the message."""
    with pytest.raises(FileImportError, match="too large"):
        load_files([DAY1, DAY2], max_bytes=20_000)
    with pytest.raises(FileImportError, match="too many rows: more than 200"):
        load_files([DAY1, DAY2], max_rows=200)
    with pytest.raises(FileImportError, match="no files"):
        load_files([])
    with pytest.raises(FileImportError, match="no klines"):
        load_files([METRICS1])


def test_a_million_rows_are_read_whole_and_the_row_limit_refuses_more():
    """A 10^6-row klines file (about 694 days of 1m candles) is read whole; one row over the limit
    is refused, never truncated. (Its speed is measured by bench/bench_files.py.)"""
    n = 1_000_000
    opens = (1_600_000_000_000 + np.arange(n, dtype=np.int64) * 60_000).tolist()
    prices = (60_000 + np.arange(n) % 1000).tolist()
    data = "\n".join(f"{t},{p},{p + 5},{p - 5},{p + 1},12.5,{t + 59999},7,3,1,2,0"
                     for t, p in zip(opens, prices)).encode()
    market = load_files([("BTCUSDT-1m-2020-09.csv", data)])
    assert len(market.candles) == n and market.timeframe == "1m"
    with pytest.raises(FileImportError, match="too many rows"):
        load_files([("BTCUSDT-1m-2020-09.csv", data)], max_rows=n - 1)


# ---------------------------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), name=st.sampled_from(["BTCUSDT-1m-2024-03-05.csv", "BTCUSDT-1m-2024-03.zip",
                                                            "x.csv"]))
def test_arbitrary_bytes_raise_only_file_import_error(data, name):
    """Whatever the bytes, load_files returns a MarketData or raises FileImportError, nothing else."""
    try:
        load_files([(name, data)], symbol="BTCUSDT")
    except FileImportError:
        pass


csv_like = st.lists(
    st.lists(st.sampled_from(["1709596800000", "1709596860000", "1709596800000000", "60000.5", "-1", "", "nan",
                              "inf", "1e999", "0", "abc", "=1+1", "2024-03-05 00:00:00", "BTCUSDT", '"'])
             , min_size=1, max_size=13),
    min_size=1, max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(rows=csv_like, header=st.sampled_from(["", ",".join(KLINES_COLUMNS) + "\n", ",".join(METRICS_COLUMNS) + "\n"]))
def test_csv_like_junk_raises_only_file_import_error(rows, header):
    """Near-miss CSVs (right headers, odd cells) give a MarketData or a FileImportError."""
    text = header + "\n".join(",".join(r) for r in rows) + "\n"
    try:
        load_files([("BTCUSDT-1m-2024-03-05.csv", text.encode())])
    except FileImportError:
        pass


@settings(max_examples=40, deadline=None)
@given(
    closes=st.lists(st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False),
                    min_size=2, max_size=50),
    header=st.booleans(),
    micro=st.booleans(),
    start_minute=st.integers(min_value=0, max_value=10_000_000),
)
def test_valid_klines_round_trip(closes, header, micro, start_minute):
    """Generated valid klines come back exactly: times, prices and volume."""
    opens = 1_500_000_000_000 + (start_minute + np.arange(len(closes), dtype=np.int64)) * 60_000
    market = load_files([("BTCUSDT-1m-2020-01-01.csv", klines_text(opens, np.array(closes), header, micro))])
    assert market.timeframe == "1m"
    assert market.candles.index.asi8.tolist() == (opens * 1_000_000).tolist()
    assert market.candles["close"].tolist() == closes
    assert market.candles["open"].tolist() == [closes[0], *closes[:-1]]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_times_read_the_same_in_every_pandas_unit(unit):
    """pandas keeps an index's unit (``to_datetime(unit="ms")`` is datetime64[us] in pandas 3): the
    open times in ms and the gaps between candles do not depend on it."""
    opens = np.array([0, 60, 120, 300, 360, 600]) * 1000 + 1_700_000_000_000  # 1m candles, two gaps
    index = pd.DatetimeIndex(pd.to_datetime(opens, unit="ms", utc=True)).as_unit(unit)
    assert np.array_equal(epoch_ms(index), opens.astype("float64"))
    assert count_gaps(index, pd.Timedelta(minutes=1)) == 2
    assert count_gaps(index, pd.Timedelta(minutes=1).as_unit("s")) == 2
