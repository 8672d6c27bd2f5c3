"""``MarketData`` as compact bytes for a shared cache: Arrow IPC sections behind a small JSON header.

Layout (all integers big-endian)::

    b"LQMD" | u8 format version | u32 header length | header (UTF-8 JSON) | section 0 | section 1 | ...

The header holds every scalar field of ``MarketData`` (strings, flags, notes, ``fetched_at``) and
names each frame field with the byte length of its section; a section is one Arrow IPC stream
(zstd-compressed) of the DataFrame or Series with its UTC index. Fields are read from the
dataclass itself (``dataclasses.fields``), so a field added to ``MarketData`` later rides along
without a change here as long as it is a plain value, a timestamp, a tuple of those, or a frame.

No pickle: decoding builds nothing but DataFrames, Series and JSON values, so bytes from a
shared store cannot run code. A blob of another format version or a damaged blob raises
``ValueError`` (callers treat it as a miss).
"""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import Any

import pandas as pd
import pyarrow as pa

from core.data.market import MarketData

MAGIC = b"LQMD"
FORMAT_VERSION = 1
_PREFIX = struct.Struct(">4sBI")
_WRITE_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")
_SERIES_COLUMN = "value"


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    """One Arrow IPC stream holding ``frame`` and its index."""
    table = pa.Table.from_pandas(frame, preserve_index=True)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_WRITE_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _frame_from(data: bytes) -> pd.DataFrame:
    """Inverse of ``_frame_bytes``."""
    with pa.ipc.open_stream(pa.BufferReader(data)) as reader:
        return reader.read_all().to_pandas()


def _scalar_to_json(value: Any) -> Any:
    """A JSON form of a scalar field; timestamps and tuples are tagged so they come back typed."""
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_scalar_to_json(v) for v in value]}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"cannot encode a {type(value).__name__} field")


def _scalar_from_json(value: Any) -> Any:
    """Inverse of ``_scalar_to_json``."""
    if isinstance(value, dict) and "$timestamp" in value:
        return pd.Timestamp(value["$timestamp"])
    if isinstance(value, dict) and "$tuple" in value:
        return tuple(_scalar_from_json(v) for v in value["$tuple"])
    return value


def encode_market(market: MarketData) -> bytes:
    """``market`` as bytes (see the module docstring for the layout).

    Raises
    ------
    TypeError
        A field of a type this format does not carry.
    """
    header: dict[str, Any] = {"scalars": {}, "frames": []}
    sections: list[bytes] = []
    for spec in dataclasses.fields(market):
        if not spec.init:
            continue
        value = getattr(market, spec.name)
        if isinstance(value, pd.DataFrame):
            blob, kind, name = _frame_bytes(value), "frame", None
        elif isinstance(value, pd.Series):
            blob, kind, name = _frame_bytes(value.to_frame(_SERIES_COLUMN)), "series", value.name
        else:
            header["scalars"][spec.name] = _scalar_to_json(value)
            continue
        header["frames"].append({"field": spec.name, "kind": kind, "name": name, "bytes": len(blob)})
        sections.append(blob)
    head = json.dumps(header, separators=(",", ":")).encode()
    return b"".join([_PREFIX.pack(MAGIC, FORMAT_VERSION, len(head)), head, *sections])


def decode_market(data: bytes) -> MarketData:
    """The ``MarketData`` encoded in ``data``.

    Raises
    ------
    ValueError
        Not a market blob, another format version, or damaged bytes.
    """
    if len(data) < _PREFIX.size:
        raise ValueError("too short for a market blob")
    magic, version, head_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise ValueError("not a market blob")
    if version != FORMAT_VERSION:
        raise ValueError(f"market blob format {version} is not {FORMAT_VERSION}")
    offset = _PREFIX.size + head_len
    try:
        header = json.loads(data[_PREFIX.size : offset])
        fields: dict[str, Any] = {k: _scalar_from_json(v) for k, v in header["scalars"].items()}
        for section in header["frames"]:
            blob = data[offset : offset + section["bytes"]]
            if len(blob) != section["bytes"]:
                raise ValueError("market blob is truncated")
            offset += section["bytes"]
            frame = _frame_from(blob)
            series = section["kind"] == "series"
            fields[section["field"]] = frame[_SERIES_COLUMN].rename(section["name"]) if series else frame
        return MarketData(**fields)
    except (KeyError, TypeError, json.JSONDecodeError, pa.ArrowException) as error:
        raise ValueError(f"damaged market blob: {error}") from error
