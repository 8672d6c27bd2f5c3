"""``MarketData.data_id``: a content identity for every source (issue 14 / 12)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from fixtures.fake_exchanges import fakes_at

from core.data.bundled import load_bundled
from core.data.files import load_files
from core.data.live import ClientPool, fetch_live
from core.data.market import MarketData, bytes_id, combined_id, derived_id
from core.data.store import SnapshotStore

FIXTURES = Path(__file__).resolve().parents[3] / "data" / "examples" / "binance_public"
DAY1 = FIXTURES / "BTCUSDT-1m-2026-02-05.csv"
DAY2 = FIXTURES / "BTCUSDT-1m-2026-02-06.csv"
METRICS1 = FIXTURES / "BTCUSDT-metrics-2026-02-05.csv"
NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")


def _pairs(*paths: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in paths]


def _candles(n: int = 10) -> pd.DataFrame:
    idx = pd.date_range("2026-01-01", periods=n, freq="1min", tz="UTC")
    close = 100 + np.arange(n, dtype=float)
    return pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1.0}, index=idx)


def test_same_bytes_same_id_in_any_order_and_under_any_name():
    a = load_files(_pairs(DAY1, METRICS1))
    b = load_files(list(reversed([("renamed-" + n, d) for n, d in _pairs(DAY1, METRICS1)])))
    assert a.data_id == b.data_id and a.data_id.startswith("upload:")


def test_two_uploads_of_the_same_period_differ():
    """Same market, same period, one close changed: a different id."""
    name, data = _pairs(DAY1)[0]
    lines = data.decode().splitlines()
    cells = lines[5].split(",")
    cells[4] = repr(float(cells[4]) + 1.0)
    cells[2] = repr(max(float(cells[2]), float(cells[4])))
    edited = "\n".join(lines[:5] + [",".join(cells)] + lines[6:]) + "\n"
    a = load_files([(name, data)])
    b = load_files([(name, edited.encode())])
    assert a.candles.index.equals(b.candles.index)
    assert a.data_id != b.data_id


def test_upload_id_names_the_view():
    """The same bytes aggregated to another timeframe are other data: another id."""
    assert load_files(_pairs(DAY1, DAY2)).data_id != load_files(_pairs(DAY1, DAY2), timeframe="5m").data_id


def test_bytes_id_is_order_independent_and_content_sensitive():
    assert bytes_id([b"a", b"b"]) == bytes_id([b"b", b"a"])
    assert bytes_id([b"a", b"b"]) != bytes_id([b"ab"])
    assert bytes_id([b"a"]) != bytes_id([b"a", b"a"])


def test_bundled_id_is_the_dataset_key_and_view():
    a = load_bundled("btc_2026-09", "5m", "24h")
    assert a.data_id == "bundled:btc_2026-09:BTC/USDT:USDT:5m:24h"
    assert load_bundled("btc_2026-09", "5m", "24h").data_id == a.data_id
    assert load_bundled("btc_2026-09", "15m", "24h").data_id != a.data_id
    assert load_bundled("btc_2026-09", "5m").data_id != a.data_id


def test_live_id_names_market_window_and_time_bucket():
    fakes = fakes_at(NOW)
    pool = ClientPool(lambda ex: fakes[ex].client())
    m = fetch_live("bybit", "BTC/USDT:USDT", "5m", "24h", pool=pool, now=NOW)
    assert m.data_id.startswith("live:bybit:BTC/USDT:USDT:5m:24h:")
    later = fetch_live("bybit", "BTC/USDT:USDT", "5m", "24h", pool=pool, now=NOW + pd.Timedelta(minutes=5))
    assert later.data_id != m.data_id


def test_with_notes_keeps_and_window_derives():
    c = _candles()
    m = MarketData("okx", "BTC/USDT:USDT", "1m", c, pd.Series(1.0, index=c.index), data_id="x:1")
    assert m.with_notes("a note").data_id == "x:1"
    assert m.window().data_id == "x:1"  # the whole data: the same data
    w = m.window(start=c.index[3])
    assert w.data_id != m.data_id and w.data_id == m.window(start=c.index[3]).data_id
    assert w.data_id != m.window(start=c.index[4]).data_id
    assert w.data_id.startswith("x:1~")


def test_default_id_follows_the_content():
    """Without an explicit id (derived markets), any change of any input changes the id."""
    c = _candles()
    oi = pd.Series(1.0, index=c.index)
    base = MarketData("okx", "BTC/USDT:USDT", "1m", c, oi)
    assert base.data_id.startswith("content:")
    assert MarketData("okx", "BTC/USDT:USDT", "1m", c.copy(), oi.copy()).data_id == base.data_id
    moved = c.copy()
    moved.iloc[4, moved.columns.get_loc("close")] += 0.5
    assert MarketData("okx", "BTC/USDT:USDT", "1m", moved, oi).data_id != base.data_id
    assert MarketData("okx", "BTC/USDT:USDT", "1m", c, oi * 2).data_id != base.data_id
    funded = MarketData("okx", "BTC/USDT:USDT", "1m", c, oi, funding=pd.Series([0.0001], index=c.index[:1]))
    assert funded.data_id != base.data_id
    assert MarketData("bybit", "BTC/USDT:USDT", "1m", c, oi).data_id != base.data_id


def test_derived_and_combined_ids():
    assert derived_id("live:a", "resample", "1h") != derived_id("live:a", "resample", "4h")
    assert derived_id("live:a~123", "x") == derived_id("live:a~123", "x")
    assert combined_id(["a", "b"]) == combined_id(["b", "a"]) != combined_id(["a", "c"])


def test_snapshot_keeps_the_id(tmp_path):
    c = _candles()
    m = MarketData("okx", "BTC/USDT:USDT", "1m", c, pd.Series(1.0, index=c.index), data_id="live:okx:x")
    store = SnapshotStore(tmp_path)
    store.save(m)
    loaded = store.load("okx", "BTC/USDT:USDT", "1m", now=NOW)
    assert loaded.data_id == "live:okx:x" and loaded.source == "snapshot"
    assert replace(loaded, notes=()).data_id == "live:okx:x"
