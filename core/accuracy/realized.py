"""Realized liquidations (what exchanges actually force-closed), read from recorded files.

One shape for every format (``read_realized``): a DataFrame on a UTC ``DatetimeIndex`` named
``time`` (the fill / trade time), sorted, with columns

* ``side``: "long" or "short", the side that was liquidated;
* ``price``: the liquidation's price (Binance: average fill price, else the order price;
  Bybit: the bankruptcy price it reports; NaN for per-minute totals, which carry no price);
* ``quantity``: base units filled (NaN where unknown);
* ``usd``: notional in USD: ``quantity * price`` for single orders (the same rule for every
  exchange; Binance's ``usd_size`` column is not trusted), the file's USD total for per-minute files;
* ``symbol``: ccxt unified symbol ("BTC/USDT:USDT"), "" where the file does not say.

Formats recognised by their header (or, for JSON, by the event type):

* Binance forceOrder stream records as CSV (``symbol,side,...,order_trade_time,usd_size``), and
  the raw stream events, one JSON object per line (``{"e":"forceOrder","E":..,"o":{..}}``,
  optionally wrapped as ``{"stream":..,"data":{..}}``). ``SELL`` liquidates a long, ``BUY`` a
  short. A symbol without a quote ("BTC", as some recorders strip "USDT") means the USDT market.
* Binance liquidationSnapshot CSV (``time,side,order_type,...,accumulated_fill_quantity``).
* Bybit liquidation orders (``ts_ms,...,bybit_side,liquidated_position,qty_btc,bankruptcy_price``);
  ``liquidated_position`` says which side was liquidated (Bybit's ``Buy`` means a long was).
* Per-minute totals: ``ts,long_liq,short_liq`` (USD; ``ts`` in s, ms or us by magnitude, or ISO
  text) and Bybit's per-minute file (``open_time_ms,...,long_liq_usd,...,short_liq_usd``).
* A zip of any of these CSVs.

Duplicates (same time, symbol, side, price and quantity) are removed; what was dropped is listed in
``frame.attrs["notes"]``. Malformed input raises ``FileImportError`` in plain words; text from a
file reaches a message only truncated and escaped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd

from core.constants import candle_length
from core.accuracy.realized_formats import (
    SIDES,
    normalize_symbol,
    read_bybit_orders,
    read_bybit_per_minute,
    read_csv_text,
    read_force_order_csv,
    read_force_order_json,
    read_simple_per_minute,
    read_snapshot_csv,
)
from core.data.files import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNZIPPED_BYTES,
    FileImportError,
    check_csv_text,
    safe_text,
    zip_csv_members,
)

DEFAULT_MAX_REALIZED_ROWS = 5_000_000
FORMATS: tuple[str, ...] = (
    "Binance forceOrder records (CSV or JSON lines)",
    "Binance liquidationSnapshot CSV",
    "Bybit liquidation orders CSV",
    "per-minute totals (ts,long_liq,short_liq or Bybit's per-minute file)",
)


PathOrBytes = Union[bytes, bytearray, str, os.PathLike]


# ----------------------------------------------------------------------------------------------
# Entry points


def sniff_format(body: bytes) -> str:
    """Which format a (checked) file is: "force_order_json", "force_order_csv", "snapshot",
    "bybit_orders", "bybit_per_minute", "per_minute"; raises ``FileImportError`` otherwise."""
    stripped = body.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "force_order_json"
    head = stripped.split(b"\n", 1)[0][:2000].decode("utf-8", errors="replace")
    cols = {c.strip().strip('"').lower() for c in head.split(",")}
    first = head.split(",")[0].strip().strip('"').lower()
    if {"symbol", "side", "order_trade_time"} <= cols:
        return "force_order_csv"
    if first == "time" and "accumulated_fill_quantity" in cols:
        return "snapshot"
    if "liquidated_position" in cols or "bybit_side" in cols:
        return "bybit_orders"
    if {"long_liq_usd", "short_liq_usd"} <= cols:
        return "bybit_per_minute"
    if {"ts", "long_liq", "short_liq"} <= cols:
        return "per_minute"
    raise FileImportError(
        f"not a liquidation file this app reads: first line {safe_text(head, 60)}; supported: {'; '.join(FORMATS)}"
    )


def _read_one(name: str, data: bytes, symbol: str | None, max_rows: int) -> tuple[pd.DataFrame, list[str]]:
    body = check_csv_text(name, data)
    if body.count(b"\n") > max_rows:
        raise FileImportError(f"{safe_text(name)}: too many rows (more than {max_rows:,})")
    kind = sniff_format(body)
    if kind == "force_order_json":
        return read_force_order_json(name, body)
    frame = read_csv_text(name, body)
    if kind == "force_order_csv":
        return read_force_order_csv(name, frame)
    if kind == "snapshot":
        return read_snapshot_csv(name, frame, symbol)
    if kind == "bybit_orders":
        return read_bybit_orders(name, frame)
    if kind == "bybit_per_minute":
        return read_bybit_per_minute(name, frame, symbol)
    return read_simple_per_minute(name, frame, symbol)


def _load_bytes(data: PathOrBytes, name: str | None, max_bytes: int) -> tuple[str, bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        label = name or "uploaded file"
    elif isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise FileImportError(f"{safe_text(path.name)}: no such file")
        if path.stat().st_size > max_bytes:
            raise FileImportError(f"{safe_text(path.name)}: too large (at most {max_bytes / 2**20:,.0f} MB)")
        raw = path.read_bytes()
        label = name or path.name
    else:
        raise FileImportError("pass the file's bytes or a path")
    if len(raw) > max_bytes:
        raise FileImportError(f"{safe_text(label)}: too large (at most {max_bytes / 2**20:,.0f} MB)")
    return label, raw


def read_realized(
    data: PathOrBytes,
    name: str | None = None,
    symbol: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_REALIZED_ROWS,
) -> pd.DataFrame:
    """Read a file of realized liquidations, whatever its format (recognised from its content).

    Parameters
    ----------
    data
        The file's bytes, or a path.
    name
        File name (for messages, and the symbol of formats whose rows do not name one).
    symbol
        Keep only this market ("BTC/USDT:USDT", "BTCUSDT" or "BTC"); rows of files without a
        symbol column are labelled with it.
    max_bytes, max_rows
        Size limits (the file, or each zip's uncompressed content; rows per file).

    Returns
    -------
    pd.DataFrame
        The realized-liquidation shape of the module docstring, sorted by time, de-duplicated;
        ``attrs["notes"]`` lists what was read and dropped.
    """
    label, raw = _load_bytes(data, name, max_bytes)
    wanted = None
    if symbol is not None:
        wanted = normalize_symbol(symbol)
        if wanted is None:
            raise FileImportError(f"symbol {safe_text(symbol, 30)} is not a symbol such as BTC/USDT:USDT")
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"PK\x05\x06"):
        members, _ = zip_csv_members(label, raw, min(max_bytes, DEFAULT_MAX_UNZIPPED_BYTES), 0)
        if not members:
            raise FileImportError(f"{safe_text(label)}: the zip holds no .csv file")
    else:
        members = [(label, raw)]
    frames, notes = [], []
    for member, content in members:
        frame, member_notes = _read_one(member, content, wanted, max_rows)
        frames.append(frame)
        notes.extend(member_notes)
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    return _finish(frame, wanted, notes, label)


def _finish(frame: pd.DataFrame, wanted: str | None, notes: list[str], label: str) -> pd.DataFrame:
    n_read = len(frame)
    if wanted is not None:
        frame = frame.loc[frame["symbol"].isin([wanted, ""]).to_numpy()]
        frame = frame.assign(symbol=wanted)
        if (n_other := n_read - len(frame)):
            notes.append(f"{n_other:,} liquidation(s) of other symbols left out")
    frame = frame.sort_index(kind="stable")
    keys = frame.reset_index()[["time", "symbol", "side", "price", "quantity"]]
    dup = keys.duplicated(keep="first").to_numpy()
    if (n_dup := int(dup.sum())):
        notes.append(f"{n_dup:,} duplicate liquidation(s) removed")
    frame = frame.loc[~dup].copy()
    frame.index.name = "time"
    summary = f"{safe_text(label)}: {len(frame):,} liquidation(s)"
    if len(frame):
        summary += (f", {frame.index[0]:%Y-%m-%d %H:%M:%S} to {frame.index[-1]:%Y-%m-%d %H:%M:%S} UTC, "
                    f"${frame['usd'].sum():,.0f}")
    frame.attrs["notes"] = (summary, *notes)
    return frame


def realized_per_candle(realized: pd.DataFrame, times: pd.DatetimeIndex, timeframe: str) -> pd.DataFrame:
    """Realized USD per candle and side: liquidations with ``t <= time < t + timeframe``.

    Parameters
    ----------
    realized
        The realized-liquidation shape (``read_realized``).
    times
        Candle open times, ascending, UTC.
    timeframe
        Candle length ("1m", "5m", ...).

    Returns
    -------
    pd.DataFrame
        Index ``times``, columns ``long_usd`` and ``short_usd`` (0 where none; liquidations
        outside every candle, e.g. in a gap, are not counted).
    """
    step = candle_length(timeframe, times).value
    out = {"long_usd": np.zeros(len(times)), "short_usd": np.zeros(len(times))}
    if len(times) and len(realized):
        starts = pd.DatetimeIndex(times).as_unit("ns").asi8
        stamps = pd.DatetimeIndex(realized.index).as_unit("ns").asi8
        pos = np.searchsorted(starts, stamps, side="right") - 1
        inside = (pos >= 0) & (stamps < starts[np.clip(pos, 0, None)] + step)
        usd = realized["usd"].to_numpy(dtype="float64")
        for side in SIDES:
            mask = inside & (realized["side"].to_numpy() == side) & np.isfinite(usd)
            out[f"{side}_usd"] = np.bincount(pos[mask], weights=usd[mask], minlength=len(times)).astype("float64")
    return pd.DataFrame(out, index=pd.DatetimeIndex(times))
