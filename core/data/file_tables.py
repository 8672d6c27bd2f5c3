"""Parsing one Binance public-data CSV (klines or metrics) into numbers, refusing anything else.

Only numbers are kept; a cell that is not a number refuses the file and names the line and column.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.file_inputs import RAW_SYMBOL_RE, FileImportError, check_csv_text, safe_text, symbol_from_name

KLINES_COLUMNS: tuple[str, ...] = (
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
    "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)
METRICS_COLUMNS: tuple[str, ...] = (
    "create_time", "symbol", "sum_open_interest", "sum_open_interest_value",
    "count_toptrader_long_short_ratio", "sum_toptrader_long_short_ratio", "count_long_short_ratio",
    "sum_taker_long_short_vol_ratio",
)
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_MS_PER_US = 1_000
_US_THRESHOLD = 1e14  # ms timestamps are ~1.7e12 today; microseconds ~1.7e15
_MIN_MS, _MAX_MS = 1_230_768_000_000, 4_102_444_800_000  # 2009-01-01 .. 2100-01-01

@dataclass(frozen=True)
class Klines:
    name: str
    frame: pd.DataFrame  # columns open_time_ms, close_time_ms, open, high, low, close, volume
    symbol: str | None  # raw exchange id from the file name


@dataclass(frozen=True)
class Metrics:
    name: str
    frame: pd.DataFrame  # columns time (UTC), oi_usd, long_short_ratio
    symbol: str | None


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


def count_rows(body: bytes) -> int:
    return body.count(b"\n") + (0 if body.endswith(b"\n") else 1)


def _parse_klines(name: str, body: bytes, has_header: bool, n_cols: int) -> Klines:
    columns = KLINES_COLUMNS[:n_cols]
    table = _read_table(name, body, columns, has_header, numeric=columns)
    open_ms = _to_ms(table["open_time"].to_numpy())
    close_ms = _to_ms(table["close_time"].to_numpy())
    prices = table[["open", "high", "low", "close", "volume"]].to_numpy()
    prices = np.where(np.isfinite(prices), prices, np.nan)
    frame = pd.DataFrame(prices, columns=["open", "high", "low", "close", "volume"])
    frame.insert(0, "close_time_ms", close_ms)
    frame.insert(0, "open_time_ms", open_ms)
    return Klines(name=name, frame=frame, symbol=symbol_from_name(name)[0])


def _parse_metrics(name: str, body: bytes, has_header: bool) -> Metrics:
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
    bad_symbols = [s for s in symbols if not RAW_SYMBOL_RE.match(s)]
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
    return Metrics(name=name, frame=frame, symbol=file_symbol or name_symbol)


def parse_csv(name: str, data: bytes) -> Klines | Metrics:
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


