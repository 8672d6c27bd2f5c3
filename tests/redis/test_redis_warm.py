"""The warmer (``python -m core.warm``): which markets it picks, and that a warmed market costs a
replica no upstream call."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import requests
from fixtures.fake_exchanges import FakeClock, fakes_at, raising
from hypothesis import given
from hypothesis import strategies as st

from core.data.cache import SingleFlightCache
from core.data.live import ClientPool
from core.data.load import DataServices, load_market
from core.data.shared_cache import SharedCache
from core.data.shared_services import SharedResultCache, SharedSnapshotStore
from core.data.store import SnapshotStore
from core.warm import (
    WarmMarket,
    choose_markets,
    configured_markets,
    parse_market,
    run,
    seconds_to_next_round,
    warm_round,
)

REPO = Path(__file__).resolve().parents[2]
NOW = pd.Timestamp("2026-03-10 12:03:20", tz="UTC")
BTC = WarmMarket("bybit", "BTC/USDT:USDT", "5m", "3d")
ETH = WarmMarket("okx", "ETH/USDT:USDT", "15m", "24h")
SOL = WarmMarket("binanceusdm", "SOL/USDT:USDT", "1h", "7d")


def services_on(shared: SharedCache, store_dir: Path, records_usage: bool):
    """Services on the shared cache with fake exchanges (returned too, to count their requests)."""
    clock = FakeClock(NOW)
    fakes = fakes_at(NOW)
    cache = SharedResultCache(shared, SingleFlightCache(timer=clock.seconds), records_usage=records_usage)
    services = DataServices(
        clients=ClientPool(lambda ex: fakes[ex].client()),
        cache=cache,
        store=SharedSnapshotStore(shared, SnapshotStore(store_dir)),
        clock=clock,
    )
    return services, fakes


def requests_made(fakes) -> Counter[str]:
    return Counter(p for fake in fakes.values() for p in fake.paths())


def test_markets_are_parsed_with_colons_in_the_symbol():
    """``exchange:symbol:timeframe:lookback`` with the symbol's own colon."""
    assert parse_market(" bybit:BTC/USDT:USDT:5m:3d ") == BTC
    for bad in (
        "bybit:BTC/USDT:USDT:5m",
        "kraken:BTC/USDT:USDT:5m:3d",
        "bybit:BTC/USDT:USDT:7m:3d",
        "bybit:BTC/USD:USD:5m:3d",  # not a USDT perpetual
    ):
        with pytest.raises(ValueError):
            parse_market(bad)


def test_configured_markets_skip_invalid_entries(caplog):
    """A bad entry in LIQMAP_WARM_MARKETS is logged and skipped; the others are kept in order."""
    assert configured_markets("okx:ETH/USDT:USDT:15m:24h, nonsense ,,bybit:BTC/USDT:USDT:5m:3d") == [ETH, BTC]
    assert any("nonsense" in r.getMessage() for r in caplog.records)


def test_the_list_is_configured_first_then_most_used_bounded(redis_server):
    """Configured markets lead, then the most used ones (no repeats, foreign members ignored), at most ``limit``."""
    shared = SharedCache.from_url(redis_server.url)
    for member, uses in ((BTC.member, 5), (SOL.member, 9), (ETH.member, 1), ("garbage|x", 50)):
        for _ in range(uses):
            shared.record_use(member)
    assert shared.most_used(2) == ["garbage|x", SOL.member]
    assert choose_markets([BTC], shared, limit=3) == [BTC, SOL, ETH]
    assert choose_markets([BTC], shared, limit=2) == [BTC, SOL]
    assert choose_markets([], shared, limit=0) == []


@given(now=st.floats(1e9, 2e9), interval=st.sampled_from([30.0, 60.0, 300.0]))
def test_rounds_start_just_after_a_bucket_opens(now, interval):
    """The wait ends on a multiple of the interval plus the offset, within one interval."""
    wait = seconds_to_next_round(now, interval, offset=3.0)
    assert 0 < wait <= interval + 1e-6
    phase = (now + wait - 3.0) % interval
    assert min(phase, interval - phase) < 1e-3


def test_a_warmed_market_costs_a_replica_no_upstream_call(redis_server, tmp_path):
    """A warm round fetches the market; a replica asking next is served from Redis. Failures reported, not raised."""
    warmer_shared = SharedCache.from_url(redis_server.url)
    warmer, warmer_fakes = services_on(warmer_shared, tmp_path / "w", records_usage=False)
    warmer_fakes["okx"].fault = raising(requests.exceptions.ConnectionError("Failed to resolve host"))
    outcome = warm_round([BTC, ETH], warmer)
    assert outcome[BTC].startswith("ok (") and outcome[ETH].startswith("failed: ")
    assert requests_made(warmer_fakes)
    replica, replica_fakes = services_on(SharedCache.from_url(redis_server.url), tmp_path / "r", records_usage=True)
    market = load_market(BTC.exchange, BTC.symbol, BTC.timeframe, BTC.lookback, source="live", services=replica)
    assert market.source == "live" and requests_made(replica_fakes) == Counter()


def test_run_once_warms_what_the_replicas_used(redis_server, tmp_path):
    """``run(once=True)``: the market the app asked for is fetched; the warmer's own load is not counted."""
    shared = SharedCache.from_url(redis_server.url)
    shared.record_use(BTC.member)
    services, fakes = services_on(shared, tmp_path / "w", records_usage=False)
    assert run(shared, [], limit=4, interval=60, once=True, services=services) == 0
    assert requests_made(fakes)
    assert redis_server.client().zscore(shared._usage_key(), BTC.member) == 1  # noqa: SLF001


def _warm_cli(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIQMAP_")}
    return subprocess.run(
        [sys.executable, "-m", "core.warm", "--once"],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_without_redis_url_exits_2():
    """``python -m core.warm`` with no LIQMAP_REDIS_URL says why and exits 2."""
    done = _warm_cli({})
    assert done.returncode == 2 and "LIQMAP_REDIS_URL is not set" in done.stderr


@pytest.mark.slow
def test_cli_once_with_nothing_to_warm_exits_0(redis_server):
    """With Redis but no configured or used market, one round does nothing and exits 0."""
    done = _warm_cli({"LIQMAP_REDIS_URL": redis_server.url})
    assert done.returncode == 0, done.stderr
    assert "Nothing to warm yet" in done.stderr
