"""The last-good store: round trip, bounds, restarts, corrupt files, atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from core.data.market import MarketData
from core.data.store import ENV_VAR, SnapshotStore, default_directory, describe_age, snapshot_name

FETCHED = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")


def market(exchange: str = "bybit", symbol: str = "BTC/USDT:USDT", timeframe: str = "5m", n: int = 50) -> MarketData:
    """A small live-looking market."""
    idx = pd.date_range("2026-03-10 08:00", periods=n, freq="5min", tz="UTC", name="time").as_unit("ns")
    close = 60_000 + np.arange(n, dtype=float)
    candles = pd.DataFrame(
        {"open": close - 5, "high": close + 10, "low": close - 10, "close": close, "volume": np.full(n, 2.5)}, index=idx
    )
    oi = pd.Series(np.r_[np.nan, np.linspace(4e9, 5e9, n - 1)], index=idx, name="open_interest")
    funding = pd.Series([1e-4, -2e-4], index=pd.DatetimeIndex(["2026-03-10 00:00", "2026-03-10 08:00"], tz="UTC"))
    return MarketData(
        exchange=exchange, symbol=symbol, timeframe=timeframe, candles=candles, open_interest=oi, funding=funding,
        source="live", fetched_at=FETCHED, notes=("Bybit: 1 duplicate candle(s) dropped",),
        last_candle_forming=True, provenance="Live: Bybit BTC/USDT:USDT perpetual via ccxt public endpoints",
    )


def test_round_trip_keeps_everything(tmp_path):
    """What is read back is what was saved, now marked as a snapshot with its age."""
    original = market()
    store = SnapshotStore(tmp_path)
    store.save(original)
    snap = store.load("bybit", "BTC/USDT:USDT", "5m", now=FETCHED + pd.Timedelta(minutes=14))
    assert snap is not None and snap.source == "snapshot" and snap.fetched_at == FETCHED
    pd.testing.assert_frame_equal(snap.candles, original.candles, check_freq=False)
    pd.testing.assert_series_equal(snap.open_interest, original.open_interest, check_freq=False)
    assert snap.funding.tolist() == original.funding.tolist()
    assert snap.long_short_ratio is None and snap.last_candle_forming and snap.provenance == original.provenance
    assert snap.notes[0] == original.notes[0] and "14 min ago" in snap.notes[-1]


def test_survives_a_new_store_object(tmp_path):
    """A restarted app (a new store on the same directory) finds the saved data."""
    SnapshotStore(tmp_path).save(market())
    again = SnapshotStore(tmp_path).load("bybit", "BTC/USDT:USDT", "5m")
    assert again is not None and len(again.candles) == 50


def test_newest_save_replaces_the_old_snapshot(tmp_path):
    """One file per exchange/symbol/timeframe."""
    store = SnapshotStore(tmp_path)
    store.save(market(n=10))
    store.save(market(n=20))
    assert len(store.files()) == 1
    assert len(store.load("bybit", "BTC/USDT:USDT", "5m").candles) == 20


def test_bounded_in_file_count_oldest_evicted(tmp_path):
    """Beyond ``max_files`` the oldest snapshots go."""
    store = SnapshotStore(tmp_path, max_files=3)
    combos = [(ex, tf) for ex in ("binanceusdm", "bybit", "okx") for tf in ("5m", "1h")]
    for i, (ex, tf) in enumerate(combos):
        path = store.save(market(ex, timeframe=tf))
        os.utime(path, ns=(i * 10**9, i * 10**9))  # make the save order unambiguous
    names = [p.name for p in store.files()]
    assert len(names) == 3
    assert names == [snapshot_name(ex, "BTC/USDT:USDT", tf) for ex, tf in combos[-3:]]


def test_bounded_in_bytes(tmp_path):
    """Beyond ``max_bytes`` the oldest snapshots go, but the one just saved stays."""
    one = SnapshotStore(tmp_path / "probe").save(market()).stat().st_size
    store = SnapshotStore(tmp_path / "s", max_bytes=int(one * 2.5))
    for ex in ("binanceusdm", "bybit", "okx"):
        store.save(market(ex))
    assert store.size_bytes() <= one * 2.5 and len(store.files()) == 2
    assert store.load("okx", "BTC/USDT:USDT", "5m") is not None


def test_corrupt_file_is_ignored(tmp_path):
    """A truncated or foreign file reads as 'no snapshot', and others still load."""
    store = SnapshotStore(tmp_path)
    store.save(market("okx"))
    store.path("bybit", "BTC/USDT:USDT", "5m").write_bytes(b"PAR1 this is not parquet")
    store.path("binanceusdm", "BTC/USDT:USDT", "5m").write_bytes(b"")
    assert store.load("bybit", "BTC/USDT:USDT", "5m") is None
    assert store.load("binanceusdm", "BTC/USDT:USDT", "5m") is None
    assert store.load("okx", "BTC/USDT:USDT", "5m") is not None
    store.save(market("bybit"))  # overwriting a corrupt file works
    assert store.load("bybit", "BTC/USDT:USDT", "5m") is not None


def test_writes_leave_no_temporary_files(tmp_path):
    """Writes go to a temporary name and are renamed: nothing half-written stays behind."""
    store = SnapshotStore(tmp_path)
    for _ in range(3):
        store.save(market())
    assert sorted(p.name for p in tmp_path.iterdir()) == [snapshot_name("bybit", "BTC/USDT:USDT", "5m")]


def test_missing_snapshot_is_none(tmp_path):
    """No file: None, not an exception (also for a directory that does not exist)."""
    assert SnapshotStore(tmp_path / "absent").load("okx", "BTC/USDT:USDT", "5m") is None
    assert SnapshotStore(tmp_path).files() == []


def test_directory_from_environment(tmp_path, monkeypatch):
    """LIQMAP_CACHE_DIR overrides the default .cache/last_good."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_directory().parts[-2:] == (".cache", "last_good")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "x"))
    assert SnapshotStore().directory == tmp_path / "x"


@pytest.mark.parametrize(
    ("seconds", "words"), [(40, "40 s"), (14 * 60, "14 min"), (3 * 3600, "3 h"), (2 * 86400, "2 days")]
)
def test_age_in_plain_words(seconds, words):
    """Ages read like a person would say them."""
    assert describe_age(pd.Timedelta(seconds=seconds)) == words
