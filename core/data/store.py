"""The last-good store: every successful live fetch saved to disk, read back when live fails.

One Parquet file per exchange/symbol/timeframe (the newest fetch replaces the older one), holding
the candles and their open interest; funding, long/short ratio and the ``MarketData`` fields ride
in the file's schema metadata as JSON. Writes are atomic (temporary file, then ``os.replace``), so
a crash never leaves a half-written snapshot under the real name. The directory is bounded: after
each save the oldest files go until at most ``max_files`` files and ``max_bytes`` bytes remain.
Unreadable files are ignored (treated as absent).

Directory: ``$LIQMAP_CACHE_DIR`` if set, else ``.cache/last_good`` under the repository.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.data.market import CANDLE_COLUMNS, MarketData

REPO_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO_DIR / ".cache" / "last_good"
ENV_VAR = "LIQMAP_CACHE_DIR"
META_KEY = b"liqmap"
FORMAT_VERSION = 1


def default_directory() -> Path:
    """``$LIQMAP_CACHE_DIR`` if set, else ``.cache/last_good`` under the repository."""
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env) if env else DEFAULT_DIR


def describe_age(age: pd.Timedelta) -> str:
    """An age in plain words: "40 s", "14 min", "3 h", "2 days"."""
    seconds = max(0, int(age.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def snapshot_name(exchange: str, symbol: str, timeframe: str) -> str:
    """File name of a snapshot ("binanceusdm__BTC-USDT-USDT__5m.parquet")."""
    parts = (exchange, re.sub(r"[^A-Za-z0-9]+", "-", symbol).strip("-"), timeframe)
    if any(not re.fullmatch(r"[A-Za-z0-9-]+", p) for p in parts):
        raise ValueError(f"cannot name a snapshot for {parts!r}")
    return "__".join(parts) + ".parquet"


def _series_to_json(series: pd.Series | None) -> list[list[float]] | None:
    """[[epoch ms, value], ...] (NaN dropped), or None."""
    if series is None:
        return None
    clean = pd.to_numeric(series, errors="coerce").dropna()
    ms = pd.DatetimeIndex(clean.index).as_unit("ms").asi8
    return [[int(t), float(v)] for t, v in zip(ms, clean.to_numpy())]


def _series_from_json(rows: list[list[float]] | None, name: str) -> pd.Series | None:
    """Inverse of ``_series_to_json``."""
    if rows is None:
        return None
    index = pd.to_datetime([int(r[0]) for r in rows], unit="ms", utc=True).as_unit("ns")
    return pd.Series([float(r[1]) for r in rows], index=index, name=name, dtype="float64")


def _to_table(market: MarketData) -> pa.Table:
    """Candles + open interest as an Arrow table, the other fields in its metadata."""
    frame = market.candles[list(CANDLE_COLUMNS)].assign(open_interest=market.open_interest.to_numpy())
    frame = frame.reset_index(names="time")
    meta = {
        "version": FORMAT_VERSION,
        "exchange": market.exchange,
        "symbol": market.symbol,
        "timeframe": market.timeframe,
        "fetched_at": market.fetched_at.isoformat(),
        "notes": list(market.notes),
        "last_candle_forming": market.last_candle_forming,
        "provenance": market.provenance,
        "data_id": market.data_id,
        "funding": _series_to_json(market.funding),
        "long_short_ratio": _series_to_json(market.long_short_ratio),
    }
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()})


def _from_table(table: pa.Table, now: pd.Timestamp) -> MarketData:
    """A snapshot ``MarketData`` (source "snapshot") with a note saying how old it is."""
    meta = json.loads(table.schema.metadata[META_KEY])
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(f"snapshot format {meta.get('version')!r} is not {FORMAT_VERSION}")
    frame = table.to_pandas()
    index = pd.DatetimeIndex(pd.to_datetime(frame.pop("time"), utc=True)).as_unit("ns")
    index.name = "time"
    candles = frame[list(CANDLE_COLUMNS)].astype("float64").set_axis(index)
    oi = frame["open_interest"].astype("float64").set_axis(index).rename("open_interest")
    saved = MarketData(
        exchange=meta["exchange"],
        symbol=meta["symbol"],
        timeframe=meta["timeframe"],
        candles=candles,
        open_interest=oi,
        funding=_series_from_json(meta.get("funding"), "funding"),
        long_short_ratio=_series_from_json(meta.get("long_short_ratio"), "long_short_ratio"),
        source="snapshot",
        fetched_at=pd.Timestamp(meta["fetched_at"]).tz_convert("UTC"),
        notes=tuple(meta.get("notes", ())),
        last_candle_forming=bool(meta.get("last_candle_forming", False)),
        provenance=meta.get("provenance", ""),
        data_id=meta.get("data_id", ""),
    )
    return as_snapshot(saved, now)


def as_snapshot(market: MarketData, now: pd.Timestamp) -> MarketData:
    """``market`` as last-good data read back at ``now``: source "snapshot" and a note saying how
    old it is ("saved data from 14 min ago (fetched 2026-03-10 12:03 UTC)").

    The one place this note is written: the local store and the shared one (Redis) both use it.
    """
    fetched_at = market.fetched_at.tz_convert("UTC")
    note = f"saved data from {describe_age(now - fetched_at)} ago (fetched {fetched_at:%Y-%m-%d %H:%M} UTC)"
    return replace(market, source="snapshot", fetched_at=fetched_at, notes=market.notes + (note,))


class SnapshotStore:
    """Last-good snapshots on disk, bounded in count and bytes.

    Parameters
    ----------
    directory
        Where the files live (created on first save); default ``default_directory()``.
    max_files, max_bytes
        Bounds kept after every save (oldest files evicted first).
    """

    def __init__(self, directory: Path | str | None = None, max_files: int = 60, max_bytes: int = 100_000_000) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self.max_files = max_files
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def path(self, exchange: str, symbol: str, timeframe: str) -> Path:
        """Where the snapshot of this market lives."""
        return self.directory / snapshot_name(exchange, symbol, timeframe)

    def save(self, market: MarketData) -> Path:
        """Write ``market`` atomically (replacing the previous snapshot), then evict the oldest.

        Raises
        ------
        OSError
            The directory is not writable (callers treat saving as best effort).
        """
        target = self.path(market.exchange, market.symbol, market.timeframe)
        table = _to_table(market)
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp", dir=self.directory)
            os.close(fd)
            try:
                pq.write_table(table, tmp)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._evict(keep=target)
        return target

    def load(self, exchange: str, symbol: str, timeframe: str, now: pd.Timestamp | None = None) -> MarketData | None:
        """The saved snapshot of this market, or None when absent or unreadable."""
        try:
            target = self.path(exchange, symbol, timeframe)
            if not target.is_file():
                return None
        except (ValueError, OSError):  # an unnameable market (e.g. a name too long for the disk)
            return None
        try:
            table = pq.read_table(target)
            return _from_table(table, now if now is not None else pd.Timestamp.now(tz="UTC"))
        except Exception:  # noqa: BLE001 - a corrupt or foreign file is treated as absent
            return None

    def files(self) -> list[Path]:
        """Snapshot files, oldest first."""
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.glob("*.parquet") if p.is_file()]
        return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def size_bytes(self) -> int:
        """Total size of the snapshot files."""
        return int(sum(p.stat().st_size for p in self.files()))

    def _evict(self, keep: Path) -> None:
        """Delete the oldest files (never ``keep``) until both bounds hold."""
        files = self.files()
        sizes = {p: p.stat().st_size for p in files}
        total = int(np.sum(list(sizes.values()))) if sizes else 0
        count = len(files)
        for path in files:
            if count <= self.max_files and total <= self.max_bytes:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            count -= 1
            total -= sizes[path]

