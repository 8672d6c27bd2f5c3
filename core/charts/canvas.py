"""The heatmap page's picture as one compact message for the browser's canvas component.

Everything the canvas needs to restyle by itself (side, highlight, zoom, pan, crosshair) is sent
once per data or model change: the display grid (``core.grid.bands``, USD per round band, both
sides), the candles, the key levels, the colour-scale tops per side and highlight, the colour
ramp. Sizes stay bounded (<= 1200 columns x <= 400 bands, float32), and the message is gzipped
(the empty bands far from the price compress to almost nothing).

Layout (``encode_payload`` / ``decode_payload``)::

    gzip( uint32 little-endian header length | header JSON (UTF-8) | zero padding to 4 bytes
          | long float32[R*C] | short float32[R*C] )   # row-major, row 0 = lowest band

The header never carries free text from a user or a URL: only numbers, the fixed side names and
the unit built from a number, and the export labels (``ExportLabels``: names the app chose from its
own lists; the component draws text with textContent/fillText, and file names are sanitised twice).
"""

from __future__ import annotations

import gzip
import json
import re
import struct
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.charts.colours import ember_lut
from core.constants import LONG_COLOR, PRICE_COLOR, SHORT_COLOR
from core.grid.bands import HIGHLIGHT_DEFAULT, SIDES, DisplayGrid, band_label, colour_tops

PAYLOAD_VERSION = 1
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ExportLabels:
    """The words of the component's PNG export: a title, a line of details, a file name (no ".png")."""

    title: str = "Liquidation heatmap (model estimate)"
    details: str = ""
    file_stem: str = "liquidation-heatmap"


def file_stem(symbol: str, exchange: str, timeframe: str, start: pd.Timestamp) -> str:
    """``BTCUSDT_binance_5m_2026-02-05_liquidation-heatmap`` for BTC/USDT:USDT on binance, 5m
    candles, a window starting 5 Feb 2026: letters, digits, ``.``, ``_`` and ``-`` only."""
    coin = symbol.split(":")[0].replace("/", "")
    parts = [coin, exchange, timeframe, f"{pd.Timestamp(start):%Y-%m-%d}", "liquidation-heatmap"]
    return "_".join(_UNSAFE_FILE_CHARS.sub("-", p).strip("-") or "x" for p in parts)


def export_labels(coin: str, where: str, symbol: str, exchange: str, timeframe: str, times: pd.DatetimeIndex,
                  model: str) -> ExportLabels:
    """Title, details and file name of the exported picture: coin, exchange, timeframe, the window
    (its first and last candle, with the year) and the model's name, said to be a model estimate."""
    window = f"{times[0]:%d %b %Y %H:%M} – {times[-1]:%d %b %Y %H:%M} UTC" if len(times) else ""
    return ExportLabels(
        title=f"{coin} liquidation heatmap · {where} · {timeframe} candles",
        details=" · ".join(p for p in (window, f"model: {model}", "a model estimate, not exchange data") if p),
        file_stem=file_stem(symbol, exchange, timeframe, times[0] if len(times) else pd.Timestamp(0)),
    )


def _ms(index: pd.DatetimeIndex) -> list[int]:
    """Epoch milliseconds (UTC) of each time."""
    return (index.asi8 // 1_000_000).astype("int64").tolist()


def _floats(values: np.ndarray, digits: int = 8) -> list[float | None]:
    """Floats for JSON (significant digits kept, NaN -> None)."""
    out = np.asarray(values, dtype="float64")
    return [None if not np.isfinite(v) else float(f"{v:.{digits}g}") for v in out]


def payload_header(
    grid: DisplayGrid,
    levels: pd.DataFrame,
    price_range: tuple[float, float],
    side: str = "both",
    highlight: float = HIGHLIGHT_DEFAULT,
    labels: ExportLabels = ExportLabels(),
) -> dict:
    """The JSON part of the message: everything but the two USD grids (see module docstring)."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    rows, cols = grid.long.shape
    return {
        "version": PAYLOAD_VERSION,
        "rows": rows,
        "cols": cols,
        "edge0": float(grid.price_edges[0]),
        "band": float(grid.band_width),
        "bandLabel": band_label(grid.band_width),
        "starts": _ms(grid.starts),
        "ends": _ms(grid.ends),
        "open": _floats(grid.open),
        "high": _floats(grid.high),
        "low": _floats(grid.low),
        "close": _floats(grid.close),
        "price": float(grid.close[-1]),
        "levels": [
            {"side": str(r.side), "low": float(r.price_low), "high": float(r.price_high), "usd": float(r.usd)}
            for r in levels.itertuples()
        ],
        "tops": {s: _floats(colour_tops(grid, s)) for s in SIDES},
        "ramp": ember_lut(256).astype(int).tolist(),
        "colors": {"long": LONG_COLOR, "short": SHORT_COLOR, "price": PRICE_COLOR},
        "view": {"low": float(price_range[0]), "high": float(price_range[1])},
        "side": side,
        "highlight": float(min(max(highlight, 0.0), 100.0)),
        "export": asdict(labels),
    }


def encode_payload(header: dict, long: np.ndarray, short: np.ndarray) -> bytes:
    """Pack the header and the (R, C) grids as float32 (module docstring), gzipped (fast level)."""
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    pad = (-(4 + len(text))) % 4
    body = [struct.pack("<I", len(text)), text, b"\0" * pad]
    for grid in (long, short):
        body.append(np.ascontiguousarray(grid, dtype="<f4").tobytes())
    return gzip.compress(b"".join(body), compresslevel=1, mtime=0)


def decode_payload(blob: bytes) -> tuple[dict, np.ndarray, np.ndarray]:
    """The inverse of ``encode_payload`` (what the browser does), for tests and tools."""
    raw = gzip.decompress(blob)
    (n,) = struct.unpack_from("<I", raw, 0)
    header = json.loads(raw[4 : 4 + n])
    start = 4 + n + (-(4 + n)) % 4
    size = header["rows"] * header["cols"]
    grids = np.frombuffer(raw, dtype="<f4", count=2 * size, offset=start).reshape(2, header["rows"], header["cols"])
    return header, grids[0], grids[1]


def heatmap_payload(
    grid: DisplayGrid,
    levels: pd.DataFrame,
    price_range: tuple[float, float],
    side: str = "both",
    highlight: float = HIGHLIGHT_DEFAULT,
    labels: ExportLabels = ExportLabels(),
) -> bytes:
    """The whole message for the canvas component."""
    header = payload_header(grid, levels, price_range, side, highlight, labels)
    return encode_payload(header, grid.long, grid.short)
