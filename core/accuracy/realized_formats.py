"""Readers of each realized-liquidation file format (one per format; each returns (frame, notes)).

``core.accuracy.realized.read_realized`` recognises the format and calls one of them; the shape
they return is described there.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd

from core.data.files import FileImportError, safe_text, symbol_from_name, unified_symbol

SIDES: tuple[str, ...] = ("long", "short")

_MISSING = {"", "none", "null", "nan", "na"}
_TOKEN_RE = re.compile(r"^[A-Z0-9]{1,30}$")
_DATED_RE = re.compile(r"^([A-Z0-9]{1,30})_(\d{6})$")
_BINANCE_SIDE = {"SELL": "long", "BUY": "short"}  # the order closes the liquidated position


# ----------------------------------------------------------------------------------------------
# Shared helpers


def _frame(time_ms: np.ndarray, side: np.ndarray, price: np.ndarray, quantity: np.ndarray,
           usd: np.ndarray, symbol: np.ndarray) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(np.asarray(time_ms, dtype="float64").astype("int64"), unit="ms", utc=True),
                             name="time").as_unit("ns")
    return pd.DataFrame(
        {
            "side": pd.Series(side, dtype=object).to_numpy(),
            "price": np.asarray(price, dtype="float64"),
            "quantity": np.asarray(quantity, dtype="float64"),
            "usd": np.asarray(usd, dtype="float64"),
            "symbol": pd.Series(symbol, dtype=object).to_numpy(),
        },
        index=index,
    )


def _times_ms(values: pd.Series, name: str, column: str) -> np.ndarray:
    """Timestamps (numbers in s / ms / us by magnitude, or ISO text) -> ms as float (NaN if bad)."""
    text = values.astype(str).str.strip()
    numbers = pd.to_numeric(text.where(~text.str.lower().isin(_MISSING), None), errors="coerce").to_numpy(dtype="float64")
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.where(numbers >= 1e14, numbers / 1e3, np.where(numbers < 1e11, numbers * 1e3, numbers))
    non_numeric = np.isnan(numbers) & ~text.str.lower().isin(_MISSING).to_numpy()
    if non_numeric.any():
        parsed = pd.to_datetime(text[non_numeric], utc=True, errors="coerce", format="ISO8601")
        if parsed.isna().all():
            row = int(np.flatnonzero(non_numeric)[0])
            raise FileImportError(
                f"{safe_text(name)}: line {row + 2:,}, column {column}: {safe_text(text.iloc[row], 20)} is not a time"
            )
        out = out.copy()
        out[non_numeric] = np.where(parsed.isna(), np.nan, pd.DatetimeIndex(parsed).as_unit("ms").asi8)
    plausible = (out >= 1_230_768_000_000) & (out <= 4_102_444_800_000)
    return np.where(plausible, np.floor(out), np.nan)


def _numbers(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    """A column as float64; missing tokens (empty, None, null, NaN) -> NaN; other text refuses the file."""
    text = frame[column].astype(str).str.strip()
    missing = text.str.lower().isin(_MISSING)
    values = pd.to_numeric(text.where(~missing, None), errors="coerce")
    bad = values.isna() & ~missing
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FileImportError(
            f"{safe_text(name)}: line {row + 2:,}, column {column}: {safe_text(text.iloc[row], 20)} is not a number"
        )
    out = values.to_numpy(dtype="float64")
    return np.where(np.isfinite(out), out, np.nan)


def _tokens(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype(str).str.strip().str.upper()


def normalize_symbol(token: str) -> str | None:
    """Exchange id or ccxt symbol -> ccxt unified symbol; a bare base ("BTC") means the USDT market.

    Dated futures ("ETH_250627") become "ETH/USDT:USDT-250627"; anything else that is not a plain
    upper-case token gives None.

    Parameters
    ----------
    token
        "BTCUSDT", "BTC", "BTC/USDT:USDT", "btcusdt"...
    """
    token = str(token).strip().upper()
    unified = unified_symbol(token)
    if unified is not None:
        return unified
    dated = _DATED_RE.match(token)
    if dated:  # a dated (delivery) future, "ETH_250627" or "ETHUSDT_250627"
        base = dated.group(1).removesuffix("USDT") or dated.group(1)
        return f"{base}/USDT:USDT-{dated.group(2)}"
    if _TOKEN_RE.match(token):
        return f"{token}/USDT:USDT"
    return None


def _symbols(tokens: pd.Series) -> np.ndarray:
    """Symbol tokens -> unified symbols; invalid tokens -> None."""
    cache = {t: normalize_symbol(t) for t in tokens.unique()}
    return tokens.map(cache).to_numpy(dtype=object)


def read_csv_text(name: str, body: bytes) -> pd.DataFrame:
    """Parse a CSV with a header line as text (every cell a string)."""
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, na_filter=False, engine="c",
                            skip_blank_lines=True, encoding="utf-8", encoding_errors="strict")
    except pd.errors.ParserError:
        raise FileImportError(f"{safe_text(name)}: rows do not all have the header's number of columns") from None
    except (UnicodeDecodeError, ValueError, pd.errors.EmptyDataError):
        raise FileImportError(f"{safe_text(name)}: not a readable CSV file") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _need(frame: pd.DataFrame, columns: tuple[str, ...], name: str, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FileImportError(f"{safe_text(name)}: looks like {what} but lacks column(s) {', '.join(missing)}")


# ----------------------------------------------------------------------------------------------
# Readers (one per format); each returns (frame, notes)


def _binance_orders(name: str, time_ms: np.ndarray, side_tokens: pd.Series, symbols: np.ndarray,
                    price: np.ndarray, avg: np.ndarray, qty: np.ndarray, filled: np.ndarray
                    ) -> tuple[pd.DataFrame, list[str]]:
    side = side_tokens.map(_BINANCE_SIDE).to_numpy(dtype=object)
    px = np.where(np.isfinite(avg) & (avg > 0), avg, price)
    quantity = np.where(np.isfinite(filled) & (filled > 0), filled, qty)
    with np.errstate(over="ignore", invalid="ignore"):
        usd = quantity * px  # overflow -> inf, dropped below as "no positive size"
    frame = _frame(np.nan_to_num(time_ms, nan=0.0), side, px, quantity, usd, symbols)
    return _keep_valid(frame, time_ms, name)


def _keep_valid(frame: pd.DataFrame, time_ms: np.ndarray, name: str) -> tuple[pd.DataFrame, list[str]]:
    """Drop rows with a bad time, side, symbol or size; say how many."""
    ok_time = np.isfinite(time_ms)
    ok_side = frame["side"].isin(SIDES).to_numpy()
    ok_symbol = frame["symbol"].notna().to_numpy()
    usd = frame["usd"].to_numpy()
    ok_size = np.isfinite(usd) & (usd > 0)
    notes = []
    for count, what in ((~ok_time, "a missing or implausible time"), (ok_time & ~ok_side, "an unknown side"),
                        (ok_time & ok_side & ~ok_symbol, "an invalid symbol"),
                        (ok_time & ok_side & ok_symbol & ~ok_size, "no positive size")):
        if (n := int(count.sum())):
            notes.append(f"{safe_text(name)}: {n:,} row(s) with {what} dropped")
    return frame.loc[ok_time & ok_side & ok_symbol & ok_size], notes


def read_force_order_csv(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    cols = ("symbol", "side", "original_quantity", "price", "average_price", "order_trade_time")
    _need(frame, cols, name, "Binance forceOrder records")
    filled_col = "order_filled_accumulated_quantity"
    filled = _numbers(frame, filled_col, name) if filled_col in frame.columns else np.full(len(frame), np.nan)
    return _binance_orders(
        name, _times_ms(frame["order_trade_time"], name, "order_trade_time"), _tokens(frame, "side"),
        _symbols(_tokens(frame, "symbol")), _numbers(frame, "price", name), _numbers(frame, "average_price", name),
        _numbers(frame, "original_quantity", name), filled,
    )


def read_snapshot_csv(name: str, frame: pd.DataFrame, symbol: str | None) -> tuple[pd.DataFrame, list[str]]:
    cols = ("time", "side", "original_quantity", "price", "average_price", "accumulated_fill_quantity")
    _need(frame, cols, name, "a Binance liquidationSnapshot file")
    sym = symbol or _name_symbol(name)
    symbols = np.full(len(frame), sym or "", dtype=object)
    return _binance_orders(
        name, _times_ms(frame["time"], name, "time"), _tokens(frame, "side"), symbols,
        _numbers(frame, "price", name), _numbers(frame, "average_price", name),
        _numbers(frame, "original_quantity", name), _numbers(frame, "accumulated_fill_quantity", name),
    )


def read_bybit_orders(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    cols = ("ts_ms", "symbol", "liquidated_position", "qty_btc", "bankruptcy_price")
    _need(frame, cols, name, "Bybit liquidation orders")
    side = frame["liquidated_position"].astype(str).str.strip().str.lower()
    side = side.where(side.isin(SIDES), None).to_numpy(dtype=object)
    price = _numbers(frame, "bankruptcy_price", name)
    qty = _numbers(frame, "qty_btc", name)
    time_ms = _times_ms(frame["ts_ms"], name, "ts_ms")
    with np.errstate(over="ignore", invalid="ignore"):
        usd = qty * price
    out = _frame(np.nan_to_num(time_ms, nan=0.0), side, price, qty, usd, _symbols(_tokens(frame, "symbol")))
    return _keep_valid(out, time_ms, name)


def _per_minute(name: str, time_ms: np.ndarray, long_usd: np.ndarray, short_usd: np.ndarray,
                long_qty: np.ndarray, short_qty: np.ndarray, symbol: str) -> tuple[pd.DataFrame, list[str]]:
    n = len(time_ms)
    frame = _frame(
        np.nan_to_num(np.concatenate([time_ms, time_ms]), nan=0.0),
        np.array(["long"] * n + ["short"] * n, dtype=object),
        np.full(2 * n, np.nan),
        np.concatenate([long_qty, short_qty]),
        np.concatenate([long_usd, short_usd]),
        np.full(2 * n, symbol, dtype=object),
    )
    times = np.concatenate([time_ms, time_ms])
    usd = frame["usd"].to_numpy()
    keep = np.isfinite(times) & np.isfinite(usd) & (usd > 0)  # zero minutes are not liquidations
    notes = [f"{safe_text(name)}: per-minute totals (no individual prices)"]
    if (n_bad := int((~np.isfinite(time_ms)).sum())):
        notes.append(f"{safe_text(name)}: {n_bad:,} row(s) with a missing or implausible time dropped")
    return frame.loc[keep], notes


def read_bybit_per_minute(name: str, frame: pd.DataFrame, symbol: str | None) -> tuple[pd.DataFrame, list[str]]:
    time_col = "open_time_ms" if "open_time_ms" in frame.columns else "ts_utc"
    _need(frame, (time_col, "long_liq_usd", "short_liq_usd"), name, "Bybit per-minute liquidations")
    n = len(frame)
    qty = {c: _numbers(frame, c, name) if c in frame.columns else np.full(n, np.nan)
           for c in ("long_liq_btc", "short_liq_btc")}
    return _per_minute(name, _times_ms(frame[time_col], name, time_col), _numbers(frame, "long_liq_usd", name),
                       _numbers(frame, "short_liq_usd", name), qty["long_liq_btc"], qty["short_liq_btc"],
                       symbol or _name_symbol(name) or "")


def read_simple_per_minute(name: str, frame: pd.DataFrame, symbol: str | None) -> tuple[pd.DataFrame, list[str]]:
    _need(frame, ("ts", "long_liq", "short_liq"), name, "per-minute liquidations")
    n = len(frame)
    return _per_minute(name, _times_ms(frame["ts"], name, "ts"), _numbers(frame, "long_liq", name),
                       _numbers(frame, "short_liq", name), np.full(n, np.nan), np.full(n, np.nan),
                       symbol or _name_symbol(name) or "")


def _event_fields(event: object) -> dict | None:
    """The ``o`` object of a forceOrder event (plain or wrapped in ``{"stream":..,"data":..}``)."""
    if isinstance(event, dict) and isinstance(event.get("data"), dict):
        event = event["data"]
    if isinstance(event, dict) and event.get("e") == "forceOrder" and isinstance(event.get("o"), dict):
        return event["o"]
    return None


def _json_number(order: dict, key: str) -> float:
    value = order.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return np.nan
    try:
        out = float(value)
    except (ValueError, OverflowError):
        return np.nan
    return out if np.isfinite(out) else np.nan


def read_force_order_json(name: str, body: bytes) -> tuple[pd.DataFrame, list[str]]:
    rows: list[tuple] = []
    other = 0
    for number, line in enumerate(body.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            raise FileImportError(f"{safe_text(name)}: line {number:,} is not a JSON object") from None
        order = _event_fields(event)
        if order is None:
            other += 1
            continue
        sym = order.get("s") if isinstance(order.get("s"), str) else ""
        side = order.get("S") if isinstance(order.get("S"), str) else ""
        rows.append((_json_number(order, "T"), side.strip().upper()[:8], sym.strip().upper()[:40],
                     _json_number(order, "p"), _json_number(order, "ap"), _json_number(order, "q"),
                     _json_number(order, "z")))
    if not rows:
        raise FileImportError(f"{safe_text(name)}: no forceOrder event in the file")
    t, side, sym, p, ap, q, z = (np.array(col) for col in zip(*rows))
    time_ms = _times_ms(pd.Series(t.astype("float64")), name, "T")
    frame, notes = _binance_orders(name, time_ms, pd.Series(side, dtype=object), _symbols(pd.Series(sym, dtype=object)),
                                   p.astype(float), ap.astype(float), q.astype(float), z.astype(float))
    if other:
        notes.append(f"{safe_text(name)}: {other:,} line(s) that are not forceOrder events skipped")
    return frame, notes


def _name_symbol(name: str) -> str | None:
    raw, _ = symbol_from_name(name)
    return unified_symbol(raw) if raw else None
