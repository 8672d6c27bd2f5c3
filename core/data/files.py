"""Binance USD-M public-data files (data.binance.vision) -> ``MarketData`` (source "upload").

What is read
------------
* klines CSVs ``<SYMBOL>-<interval>-<date>.csv``: ``open_time, open, high, low, close, volume,
  close_time, quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore``, with or
  without the header line. Timestamps in milliseconds or, in newer files, microseconds: each value
  is read by its magnitude (>= 1e14 means microseconds).
* metrics CSVs ``<SYMBOL>-metrics-<date>.csv``: ``create_time, symbol, sum_open_interest,
  sum_open_interest_value, count_toptrader_long_short_ratio, sum_toptrader_long_short_ratio,
  count_long_short_ratio, sum_taker_long_short_vol_ratio``; ``create_time`` is a
  "YYYY-MM-DD HH:MM:SS" UTC string, ``sum_open_interest_value`` is USD. It becomes the open
  interest (aligned with ``align_open_interest``) and ``count_long_short_ratio`` the long/short
  account ratio.
* the zips Binance ships them in (any number of ``.csv`` members; other members are skipped).

Several days at once are merged, sorted, de-duplicated and validated with ``clean_candles``.

Safety rules (an upload is untrusted input)
-------------------------------------------
* Only numbers are kept from file contents; nothing is executed or evaluated. Text from a file
  (a header, a cell, a member name) reaches a message only truncated and escaped with ``ascii``.
* Total input size (``max_bytes``), uncompressed size per zip (``max_unzipped_bytes``), a
  compression-ratio cap (zip bombs), a member-count cap, and a total row cap (``max_rows``,
  2,000,000 by default: about 3.8 years of 1-minute candles; more is refused, not truncated).
* Zip members are read in memory, never extracted; a member name that is absolute or climbs out
  of the archive (``..``) makes the whole zip refused.
* Every failure is a ``FileImportError`` (a ``ValueError``) in plain words.

Cells: an empty cell is a missing value (a candle with a missing price is dropped and counted);
any other cell that is not a number (text, a spreadsheet formula such as ``=cmd|...``) refuses
the file and names the line and column.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Union

import numpy as np
import pandas as pd

from core.constants import TIMEFRAMES
from core.data.market import MarketData, align_open_interest, bytes_id, clean_candles, resample_candles

DEFAULT_MAX_BYTES = 200 * 2**20  # same as Streamlit's default upload limit
DEFAULT_MAX_UNZIPPED_BYTES = 512 * 2**20  # per zip, summed over its .csv members
DEFAULT_MAX_ROWS = 2_000_000
MAX_FILES = 2_000  # files plus zip members
MAX_COMPRESSION_RATIO = 200  # real Binance CSV zips compress about 4-10x
EXCHANGE = "binanceusdm"

KLINES_COLUMNS: tuple[str, ...] = (
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
    "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)
METRICS_COLUMNS: tuple[str, ...] = (
    "create_time", "symbol", "sum_open_interest", "sum_open_interest_value",
    "count_toptrader_long_short_ratio", "sum_toptrader_long_short_ratio", "count_long_short_ratio",
    "sum_taker_long_short_vol_ratio",
)
QUOTES: tuple[str, ...] = ("USDT", "USDC", "FDUSD", "BUSD")

_NAME_RE = re.compile(r"^([A-Z0-9]{2,30})-([A-Za-z0-9]{1,30})-\d{4}-\d{2}(?:-\d{2})?\.(?:csv|zip)$", re.IGNORECASE)
_RAW_SYMBOL_RE = re.compile(r"^[A-Z0-9]{2,30}$")
_UNIFIED_SYMBOL_RE = re.compile(r"^([A-Z0-9]{1,25})/([A-Z0-9]{2,10})(?::([A-Z0-9]{2,10}))?$")
_CONTROL_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_MS_PER_US = 1_000
_US_THRESHOLD = 1e14  # ms timestamps are ~1.7e12 today; microseconds ~1.7e15
_MIN_MS, _MAX_MS = 1_230_768_000_000, 4_102_444_800_000  # 2009-01-01 .. 2100-01-01

FileInput = Union[tuple[str, bytes], str, os.PathLike]


class FileImportError(ValueError):
    """An uploaded file cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class _Klines:
    name: str
    frame: pd.DataFrame  # columns open_time_ms, close_time_ms, open, high, low, close, volume
    symbol: str | None  # raw exchange id from the file name


@dataclass(frozen=True)
class _Metrics:
    name: str
    frame: pd.DataFrame  # columns time (UTC), oi_usd, long_short_ratio
    symbol: str | None


# ----------------------------------------------------------------------------------------------
# Small helpers


def safe_text(value: object, limit: int = 80) -> str:
    """``value`` as an escaped, truncated literal fit for a message (never raw file text).

    Parameters
    ----------
    value
        Anything that came from a file or a file name.
    limit
        Characters kept before truncation.
    """
    text = str(value)
    short = text[:limit]
    return ascii(short) + ("..." if len(text) > limit else "")


def unified_symbol(raw: str) -> str | None:
    """Binance id ("BTCUSDT") -> ccxt unified linear-perpetual symbol ("BTC/USDT:USDT"), or None.

    Parameters
    ----------
    raw
        Exchange id; a ccxt unified symbol is returned unchanged (validated).
    """
    token = raw.strip().upper()
    if _UNIFIED_SYMBOL_RE.match(token):
        base, quote, settle = _UNIFIED_SYMBOL_RE.match(token).groups()
        return f"{base}/{quote}:{settle or quote}"
    if not _RAW_SYMBOL_RE.match(token):
        return None
    for quote in QUOTES:
        if token.endswith(quote) and len(token) > len(quote):
            return f"{token[: -len(quote)]}/{quote}:{quote}"
    return None


def symbol_from_name(name: str) -> tuple[str | None, str | None]:
    """(raw symbol, kind) from a Binance public-data file name, e.g. ("BTCUSDT", "1m")."""
    base = PurePosixPath(name.replace("\\", "/")).name
    match = _NAME_RE.match(base)
    if not match:
        return None, None
    return match.group(1).upper(), match.group(2)


def _to_ms(values: np.ndarray) -> np.ndarray:
    """Timestamps in ms or us (by magnitude) -> ms as float; NaN where implausible."""
    out = np.where(values >= _US_THRESHOLD, values / _MS_PER_US, values)
    return np.where((out >= _MIN_MS) & (out <= _MAX_MS), np.floor(out), np.nan)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------------------------
# Reading raw inputs (paths, bytes, zips)


def _read_inputs(files: Iterable[FileInput], max_bytes: int) -> list[tuple[str, bytes]]:
    """Materialise the inputs as (name, bytes), enforcing the total size limit."""
    if isinstance(files, (str, os.PathLike)) or (isinstance(files, tuple) and len(files) == 2
                                                  and isinstance(files[1], (bytes, bytearray))):
        files = [files]  # one file given on its own
    if isinstance(files, (bytes, bytearray)):
        raise FileImportError("pass files as (name, bytes) pairs or paths, not bare bytes")
    out: list[tuple[str, bytes]] = []
    total = 0
    for item in files:
        if len(out) >= MAX_FILES:
            raise FileImportError(f"too many files: at most {MAX_FILES:,} at once")
        if isinstance(item, tuple) and len(item) == 2:
            name, data = str(item[0]), item[1]
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise FileImportError(f"{safe_text(name)}: content must be bytes")
            data = bytes(data)
        elif isinstance(item, (str, os.PathLike)):
            path = Path(item)
            if not path.is_file():
                raise FileImportError(f"{safe_text(path.name)}: no such file")
            if total + path.stat().st_size > max_bytes:
                raise FileImportError(_too_big(max_bytes))
            name, data = path.name, path.read_bytes()
        else:
            raise FileImportError("each file must be a path or a (name, bytes) pair")
        total += len(data)
        if total > max_bytes:
            raise FileImportError(_too_big(max_bytes))
        out.append((name, data))
    if not out:
        raise FileImportError("no files were given")
    return out


def _too_big(max_bytes: int) -> str:
    return f"the files are too large: at most {max_bytes / 2**20:,.0f} MB in total"


def _unsafe_member(name: str) -> bool:
    """True for member names that are absolute, climb out of the archive, or hold control characters."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or any(ord(c) < 32 for c in norm):
        return True
    return ".." in norm.split("/")


def zip_csv_members(name: str, data: bytes, max_unzipped: int, n_files: int = 0) -> tuple[list[tuple[str, bytes]], int]:
    """The ``.csv`` members of a zip as (base name, bytes), and how many other members were skipped.

    Read in memory (never extracted). Refused with ``FileImportError``: unsafe member names
    (absolute, ``..``), encryption, more than ``max_unzipped`` bytes of CSV content in total,
    a member expanding more than ``MAX_COMPRESSION_RATIO`` times, more than ``MAX_FILES`` members
    (counting ``n_files`` already read), anything the zip module cannot read.
    """
    members: list[tuple[str, bytes]] = []
    skipped = 0
    budget = max_unzipped
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if n_files + len(infos) > MAX_FILES:
                raise FileImportError(f"{safe_text(name)}: too many members (at most {MAX_FILES:,} files)")
            for info in infos:
                if _unsafe_member(info.filename):
                    raise FileImportError(
                        f"{safe_text(name)}: refused, it holds a member with an unsafe path "
                        f"{safe_text(info.filename)}"
                    )
                base = PurePosixPath(info.filename.replace("\\", "/"))
                if info.is_dir() or base.suffix.lower() != ".csv" or base.name.startswith(".") \
                        or "__MACOSX" in base.parts:
                    skipped += 0 if info.is_dir() else 1
                    continue
                if info.flag_bits & 0x1:
                    raise FileImportError(f"{safe_text(name)}: encrypted zips are not supported")
                if info.file_size > budget:
                    raise FileImportError(_unzipped_too_big(name, max_unzipped))
                if info.file_size > 2**20 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                    raise FileImportError(
                        f"{safe_text(name)}: refused, a member expands more than {MAX_COMPRESSION_RATIO}x "
                        "(looks like a zip bomb)"
                    )
                with archive.open(info) as handle:
                    content = handle.read(budget + 1)
                if len(content) > budget:
                    raise FileImportError(_unzipped_too_big(name, max_unzipped))
                budget -= len(content)
                members.append((base.name, content))
    except FileImportError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
            RuntimeError, ValueError, OSError, OverflowError, KeyError, IndexError, TypeError) as exc:
        raise FileImportError(f"{safe_text(name)}: not a readable zip file ({type(exc).__name__})") from None
    return members, skipped


def _unzipped_too_big(name: str, limit: int) -> str:
    return f"{safe_text(name)}: refused, it unpacks to more than {limit / 2**20:,.0f} MB"


# ----------------------------------------------------------------------------------------------
# Parsing one CSV


def check_csv_text(name: str, data: bytes) -> bytes:
    """The CSV body without a UTF-8 BOM; refuses empty, binary, UTF-16 and non-UTF-8 content.

    Parameters
    ----------
    name
        File name, for messages.
    data
        Raw content.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise FileImportError(f"{safe_text(name)} is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise FileImportError(
            f"{safe_text(name)} is not plain text (UTF-16 or binary); Binance's files are plain CSV text"
        )
    if (bad := _CONTROL_RE.search(data)) is not None:
        raise FileImportError(f"{safe_text(name)} holds binary data (byte {bad.group()!r} at offset {bad.start():,})")
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileImportError(
                f"{safe_text(name)} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,})"
            ) from None
    return data


def _first_line(data: bytes) -> list[str]:
    line = data.split(b"\n", 1)[0][:2000].decode("utf-8", errors="replace").strip()
    return [cell.strip().strip('"').lower() for cell in line.split(",")]


def _read_table(name: str, body: bytes, columns: tuple[str, ...], has_header: bool,
                numeric: tuple[str, ...]) -> pd.DataFrame:
    """Parse ``body`` into ``columns``; ``numeric`` columns as float64 (empty -> NaN).

    All-numeric tables take a fast path (the C parser straight to float64); when that fails, the
    table is read as text to name the first offending cell.
    """
    lines = (line for line in body.split(b"\n", 3)[int(has_header):3] if line.strip())
    first = next(lines, None)
    if first is not None and first.count(b",") + 1 > len(columns):  # pandas would take it as an index
        raise FileImportError(
            f"{safe_text(name)}: rows do not have the {len(columns)} columns expected "
            f"(line {1 + int(has_header)} has {first.count(b',') + 1} fields)"
        )
    if set(numeric) == set(columns):
        try:
            return pd.read_csv(
                io.BytesIO(body), header=None, names=list(columns), skiprows=1 if has_header else 0,
                dtype="float64", keep_default_na=False, na_values=[""], engine="c", skip_blank_lines=True,
                encoding="utf-8", encoding_errors="strict",
            )
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OverflowError):
            pass  # fall through to the slow path, which says what is wrong
    try:
        frame = pd.read_csv(
            io.BytesIO(body), header=None, names=list(columns), skiprows=1 if has_header else 0,
            dtype=str, keep_default_na=False, na_filter=False, engine="c", skip_blank_lines=True,
            encoding="utf-8", encoding_errors="strict",
        )
    except pd.errors.ParserError as exc:
        found = re.search(r"line (\d+), saw (\d+)", str(exc))
        where = f" (line {found.group(1)} has {found.group(2)} fields)" if found else ""
        raise FileImportError(
            f"{safe_text(name)}: rows do not have the {len(columns)} columns expected{where}"
        ) from None
    except (UnicodeDecodeError, ValueError, pd.errors.EmptyDataError):
        raise FileImportError(f"{safe_text(name)}: not a readable CSV file") from None
    out = {}
    for col in columns:
        if col not in numeric:
            continue
        text = frame[col].str.strip()
        values = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = values.isna() & (text != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            line = row + 1 + int(has_header)
            raise FileImportError(
                f"{safe_text(name)}: line {line:,}, column {col}: {safe_text(text.iloc[row], 20)} is not a number"
            )
        out[col] = values.astype("float64").to_numpy()
    result = pd.DataFrame(out)
    for col in columns:
        if col not in numeric:
            result[col] = frame[col].to_numpy()
    return result


def _count_rows(body: bytes) -> int:
    return body.count(b"\n") + (0 if body.endswith(b"\n") else 1)


def _parse_klines(name: str, body: bytes, has_header: bool, n_cols: int) -> _Klines:
    columns = KLINES_COLUMNS[:n_cols]
    table = _read_table(name, body, columns, has_header, numeric=columns)
    open_ms = _to_ms(table["open_time"].to_numpy())
    close_ms = _to_ms(table["close_time"].to_numpy())
    prices = table[["open", "high", "low", "close", "volume"]].to_numpy()
    prices = np.where(np.isfinite(prices), prices, np.nan)
    frame = pd.DataFrame(prices, columns=["open", "high", "low", "close", "volume"])
    frame.insert(0, "close_time_ms", close_ms)
    frame.insert(0, "open_time_ms", open_ms)
    return _Klines(name=name, frame=frame, symbol=symbol_from_name(name)[0])


def _parse_metrics(name: str, body: bytes, has_header: bool) -> _Metrics:
    numeric = METRICS_COLUMNS[2:]
    table = _read_table(name, body, METRICS_COLUMNS, has_header, numeric=numeric)
    stamps = table["create_time"].str.strip()
    bad = (stamps != "") & ~stamps.str.match(_DATETIME_RE)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FileImportError(
            f"{safe_text(name)}: line {row + 1 + int(has_header):,}, column create_time: "
            f"{safe_text(stamps.iloc[row], 20)} is not a 'YYYY-MM-DD HH:MM:SS' time"
        )
    times = pd.to_datetime(stamps.where(stamps != "", None), format="%Y-%m-%d %H:%M:%S", utc=True, errors="coerce")
    symbols = {s.strip().upper() for s in table["symbol"] if s.strip()}
    bad_symbols = [s for s in symbols if not _RAW_SYMBOL_RE.match(s)]
    if bad_symbols:
        raise FileImportError(f"{safe_text(name)}: column symbol holds {safe_text(bad_symbols[0], 20)}, not a symbol")
    if len(symbols) > 1:
        raise FileImportError(f"{safe_text(name)}: holds several symbols ({len(symbols)}); upload one market")
    name_symbol = symbol_from_name(name)[0]
    file_symbol = next(iter(symbols)) if symbols else None
    if name_symbol and file_symbol and name_symbol != file_symbol:
        raise FileImportError(f"{safe_text(name)}: its rows are for another symbol than its name says")
    oi = table["sum_open_interest_value"].to_numpy()
    ratio = table["count_long_short_ratio"].to_numpy()
    frame = pd.DataFrame({
        "time": pd.DatetimeIndex(times).as_unit("ns"),
        "oi_usd": np.where(np.isfinite(oi) & (oi > 0), oi, np.nan),
        "long_short_ratio": np.where(np.isfinite(ratio) & (ratio > 0), ratio, np.nan),
    })
    return _Metrics(name=name, frame=frame, symbol=file_symbol or name_symbol)


def parse_csv(name: str, data: bytes) -> _Klines | _Metrics:
    """Recognise and parse one CSV (klines or metrics); raises ``FileImportError`` otherwise.

    Parameters
    ----------
    name
        File name (used for messages and the symbol).
    data
        Raw file content.
    """
    body = check_csv_text(name, data)
    head = _first_line(body)
    if head and head[0] == "open_time":
        if tuple(head) not in (KLINES_COLUMNS, KLINES_COLUMNS[:11]):
            raise FileImportError(_wrong_columns(name, head))
        return _parse_klines(name, body, True, len(head))
    if head and head[0] == "create_time":
        if tuple(head) != METRICS_COLUMNS:
            raise FileImportError(_wrong_columns(name, head))
        return _parse_metrics(name, body, True)
    if len(head) in (11, 12) and _is_number(head[0]):
        return _parse_klines(name, body, False, len(head))
    if len(head) == 8 and _DATETIME_RE.match(head[0]):
        return _parse_metrics(name, body, False)
    raise FileImportError(_wrong_columns(name, head))


def _wrong_columns(name: str, head: list[str]) -> str:
    return (
        f"{safe_text(name)} is not a Binance klines or metrics file: its first line has {len(head)} "
        f"field(s) starting {safe_text(','.join(head), 60)}; expected klines "
        f"({','.join(KLINES_COLUMNS[:7])},...) or metrics ({','.join(METRICS_COLUMNS[:4])},...)"
    )


# ----------------------------------------------------------------------------------------------
# Merging


def _resolve_symbol(pieces: list[_Klines | _Metrics], symbol: str | None) -> str:
    """The one ccxt symbol of all files (file names / metrics rows), checked against ``symbol``."""
    found = {p.symbol for p in pieces if p.symbol}
    unified = {unified_symbol(s) or s for s in found}
    if len(unified) > 1:
        raise FileImportError(
            f"the files are for different symbols ({', '.join(sorted(safe_text(s, 20) for s in found))}); "
            "upload one market at a time"
        )
    if symbol is not None:
        wanted = unified_symbol(symbol)
        if wanted is None:
            raise FileImportError(f"symbol {safe_text(symbol, 30)} is not a USD-M symbol such as BTC/USDT:USDT")
        if unified and wanted not in unified:
            raise FileImportError(
                f"the files are for {safe_text(next(iter(found)), 20)}, not {safe_text(symbol, 30)}"
            )
        return wanted
    if not unified:
        raise FileImportError(
            "could not tell the symbol from the file names (Binance names them like "
            "BTCUSDT-1m-2024-03-05.csv); give the symbol"
        )
    only = next(iter(unified))
    if unified_symbol(only) is None:
        raise FileImportError(f"{safe_text(only, 20)} is not a USD-M linear symbol (USDT/USDC quoted)")
    return only


def infer_timeframe(open_ms: np.ndarray, close_ms: np.ndarray | None = None) -> pd.Timedelta:
    """Candle length from the spacing of sorted unique open times (the most common step).

    With a single candle, the length is ``close_time - open_time + 1 ms`` (Binance's convention).
    """
    times = np.unique(open_ms[np.isfinite(open_ms)])
    if len(times) >= 2:
        steps, counts = np.unique(np.diff(times), return_counts=True)
        return pd.Timedelta(milliseconds=float(steps[np.argmax(counts)]))
    if close_ms is not None and len(times) == 1:
        lengths = close_ms[np.isfinite(close_ms)] - times[0] + 1
        if len(lengths):
            return pd.Timedelta(milliseconds=float(lengths[0]))
    raise FileImportError("cannot tell the timeframe: fewer than two candles")


def _timeframe_name(step: pd.Timedelta) -> str | None:
    return next((tf for tf, delta in TIMEFRAMES.items() if delta == step), None)


def _describe_step(step: pd.Timedelta) -> str:
    minutes = step.total_seconds() / 60
    return f"{minutes:g} minute(s)" if minutes < 60 else f"{minutes / 60:g} hour(s)"


def _merge_klines(pieces: list[_Klines]) -> tuple[pd.DataFrame, int]:
    """All klines as one frame on a UTC index (sorted, stable); rows with bad times dropped (counted)."""
    frame = pd.concat([p.frame for p in pieces], ignore_index=True)
    lengths = frame["close_time_ms"] - frame["open_time_ms"] + 1
    distinct = np.unique(lengths[np.isfinite(lengths) & (lengths > 0)])
    if len(distinct) > 1 and distinct.max() - distinct.min() > 1000:
        raise FileImportError("the klines files mix candle lengths (timeframes); upload one timeframe at a time")
    bad_time = ~np.isfinite(frame["open_time_ms"].to_numpy())
    frame = frame.loc[~bad_time]
    frame = frame.sort_values("open_time_ms", kind="stable")
    index = pd.DatetimeIndex(pd.to_datetime(frame["open_time_ms"].to_numpy().astype("int64"), unit="ms", utc=True))
    candles = pd.DataFrame(frame[["open", "high", "low", "close", "volume"]].to_numpy(),
                           index=index.as_unit("ns"), columns=["open", "high", "low", "close", "volume"])
    return candles, int(bad_time.sum())


def _choose_timeframe(step: pd.Timedelta, timeframe: str | None) -> tuple[str, bool]:
    """(timeframe to return, whether to resample) for files spaced ``step`` and a requested one."""
    native = _timeframe_name(step)
    if timeframe is None:
        if native is None:
            raise FileImportError(
                f"the candles are {_describe_step(step)} apart; the app supports {', '.join(TIMEFRAMES)} "
                "(download one of those intervals, or pick a coarser timeframe to aggregate to)"
            )
        return native, False
    if timeframe not in TIMEFRAMES:
        raise FileImportError(f"unsupported timeframe {safe_text(timeframe, 10)}; choose one of {list(TIMEFRAMES)}")
    wanted = TIMEFRAMES[timeframe]
    if wanted == step:
        return timeframe, False
    if wanted > step and wanted % step == pd.Timedelta(0):
        return timeframe, True
    raise FileImportError(
        f"the files hold candles {_describe_step(step)} apart; they cannot make {timeframe} candles"
    )


def _open_interest(metrics: list[_Metrics]) -> tuple[pd.Series, pd.Series | None]:
    """OI (USD) and long/short ratio series from metrics pieces (sorted, last duplicate wins)."""
    frame = pd.concat([m.frame for m in metrics], ignore_index=True).dropna(subset=["time"])
    frame = frame.sort_values("time", kind="stable").drop_duplicates("time", keep="last").set_index("time")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC").as_unit("ns")
    oi = frame["oi_usd"].dropna().rename("open_interest")
    ratio = frame["long_short_ratio"].dropna().rename("long_short_ratio")
    return oi, (ratio if len(ratio) else None)


# ----------------------------------------------------------------------------------------------
# Entry point


def load_files(
    files: Iterable[FileInput],
    timeframe: str | None = None,
    symbol: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> MarketData:
    """Binance USD-M public-data files (CSVs or their zips) -> one ``MarketData`` (source "upload").

    Parameters
    ----------
    files
        (name, bytes) pairs (as from an upload widget) or paths; klines and metrics CSVs and zips of
        them, several days at once, in any order.
    timeframe
        Candle timeframe to return. ``None``: the files' own spacing (must be one of
        ``core.constants.TIMEFRAMES``). A coarser one aggregates the candles to it.
    symbol
        ccxt symbol ("BTC/USDT:USDT") or Binance id ("BTCUSDT"). ``None``: read from the file names.
    max_bytes, max_unzipped_bytes, max_rows
        Limits: total input size, uncompressed size per zip, total CSV rows.

    Returns
    -------
    MarketData
        Candles validated by ``clean_candles``; open interest (USD, from metrics'
        ``sum_open_interest_value``) aligned by ``align_open_interest`` (NaN without metrics);
        ``long_short_ratio`` from ``count_long_short_ratio``; notes saying what was read.

    Raises
    ------
    FileImportError
        For anything that is not usable, with the reason in plain words.
    """
    inputs = _read_inputs(files, max_bytes)
    csvs: list[tuple[str, bytes]] = []
    skipped_members = 0
    n_zips = 0
    for name, data in inputs:
        if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
            members, skipped = zip_csv_members(name, data, max_unzipped_bytes, len(csvs))
            n_zips += 1
            skipped_members += skipped
            if not members:
                raise FileImportError(f"{safe_text(name)}: the zip holds no .csv file")
            csvs.extend(members)
        elif name.lower().endswith(".zip"):
            raise FileImportError(f"{safe_text(name)}: not a zip file (its content does not start like one)")
        else:
            csvs.append((name, data))
        if len(csvs) > MAX_FILES:
            raise FileImportError(f"too many files: at most {MAX_FILES:,} at once")

    total_rows = 0
    pieces: list[_Klines | _Metrics] = []
    for name, data in csvs:
        total_rows += _count_rows(data)
        if total_rows > max_rows:
            raise FileImportError(
                f"too many rows: more than {max_rows:,} in total; upload fewer days or a coarser interval"
            )
        pieces.append(parse_csv(name, data))
    upload = bytes_id(data for _, data in inputs)
    return _assemble(pieces, timeframe, symbol, n_inputs=len(inputs), n_zips=n_zips, skipped_members=skipped_members,
                     upload=upload)


def _assemble(pieces: list[_Klines | _Metrics], timeframe: str | None, symbol: str | None,
              n_inputs: int, n_zips: int, skipped_members: int, upload: str) -> MarketData:
    klines = [p for p in pieces if isinstance(p, _Klines)]
    metrics = [p for p in pieces if isinstance(p, _Metrics)]
    if not klines:
        raise FileImportError("no klines (candle) file among the files; the metrics files alone have no prices")
    unified = _resolve_symbol(pieces, symbol)
    raw, bad_time = _merge_klines(klines)
    if raw.empty:
        raise FileImportError("the klines files hold no candle with a valid time")
    step = infer_timeframe(raw.index.asi8 / 1e6)
    tf, aggregate = _choose_timeframe(step, timeframe)
    candles, clean_notes = clean_candles(raw)
    if candles.empty:
        raise FileImportError("no valid candle left after validation (all prices missing or inconsistent)")
    notes = [_summary(len(pieces), len(klines), len(metrics), n_inputs, n_zips, raw, candles, step)]
    if bad_time:
        notes.append(f"{bad_time:,} row(s) with a missing or implausible open time dropped")
    notes.extend(clean_notes)
    if skipped_members:
        notes.append(f"{skipped_members} zip member(s) that are not .csv files skipped")
    n_gaps = int((np.diff(candles.index.asi8) > step.value).sum())
    if n_gaps:
        notes.append(f"{n_gaps:,} gap(s) in the candles kept as gaps (nothing invented)")
    if aggregate:
        candles = resample_candles(candles, tf)
        notes.append(f"{_timeframe_name(step) or _describe_step(step)} candles aggregated to {tf}")
    long_short = None
    if metrics:
        oi_obs, long_short = _open_interest(metrics)
        oi = align_open_interest(oi_obs, candles.index, tf)
        notes.append(
            f"open interest: {len(oi_obs):,} observation(s) (sum_open_interest_value, USD); "
            f"{int(oi.notna().sum()):,} of {len(oi):,} candles have it"
        )
    else:
        oi = pd.Series(np.nan, index=candles.index, name="open_interest", dtype="float64")
        notes.append("no metrics file, so no open interest: the model uses its volume proxy")
    provenance = (
        f"Uploaded Binance USD-M public-data files (data.binance.vision): {unified}, "
        f"{candles.index[0]:%Y-%m-%d %H:%M} to {candles.index[-1]:%Y-%m-%d %H:%M} UTC"
    )
    return MarketData(
        exchange=EXCHANGE,
        symbol=unified,
        timeframe=tf,
        candles=candles,
        open_interest=oi,
        long_short_ratio=long_short,
        source="upload",
        fetched_at=candles.index[-1] + TIMEFRAMES[tf],
        notes=(provenance, *notes),
        provenance=provenance,
        data_id=f"upload:{upload}:{unified}:{tf}",
    )


def _summary(n_csv: int, n_klines: int, n_metrics: int, n_inputs: int, n_zips: int,
             raw: pd.DataFrame, candles: pd.DataFrame, step: pd.Timedelta) -> str:
    zips = f" ({n_zips} zip(s))" if n_zips else ""
    return (
        f"read {n_inputs} upload(s){zips}: {n_csv} CSV file(s), {n_klines} klines and {n_metrics} metrics; "
        f"{len(raw):,} candle rows -> {len(candles):,} candles of {_describe_step(step)}, "
        f"{candles.index[0]:%Y-%m-%d %H:%M} to {candles.index[-1]:%Y-%m-%d %H:%M} UTC"
    )
