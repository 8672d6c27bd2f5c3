"""Reading uploaded files safely: paths or bytes, zips read in memory, size and count limits,
plain-text checks, and the symbol in a Binance public-data file name.

The safety rules are listed in ``core.data.files``; every failure is a ``FileImportError``.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Iterable, Union

DEFAULT_MAX_BYTES = 200 * 2**20  # same as Streamlit's default upload limit
DEFAULT_MAX_UNZIPPED_BYTES = 512 * 2**20  # per zip, summed over its .csv members
DEFAULT_MAX_ROWS = 2_000_000
MAX_FILES = 2_000  # files plus zip members
MAX_COMPRESSION_RATIO = 200  # real Binance CSV zips compress about 4-10x
EXCHANGE = "binanceusdm"

QUOTES: tuple[str, ...] = ("USDT", "USDC", "FDUSD", "BUSD")

_NAME_RE = re.compile(r"^([A-Z0-9]{2,30})-([A-Za-z0-9]{1,30})-\d{4}-\d{2}(?:-\d{2})?\.(?:csv|zip)$", re.IGNORECASE)
RAW_SYMBOL_RE = re.compile(r"^[A-Z0-9]{2,30}$")
_UNIFIED_SYMBOL_RE = re.compile(r"^([A-Z0-9]{1,25})/([A-Z0-9]{2,10})(?::([A-Z0-9]{2,10}))?$")
_CONTROL_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

FileInput = Union[tuple[str, bytes], str, os.PathLike]


class FileImportError(ValueError):
    """An uploaded file cannot be used; the message says why in plain words."""


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
    if not RAW_SYMBOL_RE.match(token):
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

# ----------------------------------------------------------------------------------------------
# Reading raw inputs (paths, bytes, zips)


def read_inputs(files: Iterable[FileInput], max_bytes: int) -> list[tuple[str, bytes]]:
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


