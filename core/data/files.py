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

from typing import Iterable

import numpy as np
import pandas as pd

from core.constants import TIMEFRAMES
from core.data.file_inputs import (  # noqa: F401 - re-exported: the public names of the upload reader
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    DEFAULT_MAX_UNZIPPED_BYTES,
    EXCHANGE,
    MAX_FILES,
    FileImportError,
    FileInput,
    check_csv_text,
    safe_text,
    symbol_from_name,
    unified_symbol,
    zip_csv_members,
    read_inputs,
)
from core.data.file_tables import KLINES_COLUMNS, METRICS_COLUMNS  # noqa: F401 - re-exported for tests
from core.data.file_tables import Klines, Metrics, count_rows, parse_csv
from core.data.market import MarketData, align_open_interest, bytes_id, clean_candles, resample_candles

# ----------------------------------------------------------------------------------------------
# Merging


def _resolve_symbol(pieces: list[Klines | Metrics], symbol: str | None) -> str:
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


def epoch_ms(index: pd.DatetimeIndex) -> np.ndarray:
    """Milliseconds since the epoch (float) of ``index``, whatever its unit (pandas keeps s, ms, us
    or ns; ``pd.to_datetime(..., unit="ms")`` gives datetime64[us] in pandas 3)."""
    return pd.DatetimeIndex(index).as_unit("ns").asi8 / 1e6


def count_gaps(index: pd.DatetimeIndex, step: pd.Timedelta) -> int:
    """How many consecutive candles of the sorted ``index`` lie more than ``step`` apart (any unit)."""
    return int((np.diff(pd.DatetimeIndex(index).as_unit("ns").asi8) > pd.Timedelta(step).as_unit("ns").value).sum())


def _timeframe_name(step: pd.Timedelta) -> str | None:
    return next((tf for tf, delta in TIMEFRAMES.items() if delta == step), None)


def _describe_step(step: pd.Timedelta) -> str:
    minutes = step.total_seconds() / 60
    return f"{minutes:g} minute(s)" if minutes < 60 else f"{minutes / 60:g} hour(s)"


def _merge_klines(pieces: list[Klines]) -> tuple[pd.DataFrame, int]:
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


def _open_interest(metrics: list[Metrics]) -> tuple[pd.Series, pd.Series | None]:
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
    inputs = read_inputs(files, max_bytes)
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
    pieces: list[Klines | Metrics] = []
    for name, data in csvs:
        total_rows += count_rows(data)
        if total_rows > max_rows:
            raise FileImportError(
                f"too many rows: more than {max_rows:,} in total; upload fewer days or a coarser interval"
            )
        pieces.append(parse_csv(name, data))
    upload = bytes_id(data for _, data in inputs)
    return _assemble(pieces, timeframe, symbol, n_inputs=len(inputs), n_zips=n_zips, skipped_members=skipped_members,
                     upload=upload)


def _assemble(pieces: list[Klines | Metrics], timeframe: str | None, symbol: str | None,
              n_inputs: int, n_zips: int, skipped_members: int, upload: str) -> MarketData:
    klines = [p for p in pieces if isinstance(p, Klines)]
    metrics = [p for p in pieces if isinstance(p, Metrics)]
    if not klines:
        raise FileImportError("no klines (candle) file among the files; the metrics files alone have no prices")
    unified = _resolve_symbol(pieces, symbol)
    raw, bad_time = _merge_klines(klines)
    if raw.empty:
        raise FileImportError("the klines files hold no candle with a valid time")
    step = infer_timeframe(epoch_ms(raw.index))
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
    n_gaps = count_gaps(candles.index, step)
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
