"""The shared cache on a real redis-server: values with TTLs, the cross-process single-flight with
fencing and lock expiry, and the local fallback when Redis goes away.

Processes are forked (``multiprocessing`` "fork"), each with its own ``SharedCache`` and
connection, like app replicas. Overlap is arranged with a Barrier and Events, and "the others are
waiting" is read from Redis itself (the number of MGET polls it served), never from a sleep.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading

import pandas as pd
import pytest

from core.data.errors import DataUnavailable
from core.data.market_codec import decode_market, encode_market
from core.data.shared_cache import FOLLOWER_ERROR_TTL, SharedCache, from_env
from tests.redis.redis_server import RedisServer, free_port, wait_until

FORK = mp.get_context("fork")
PROCESSES = 4


class FakeTimer:
    """A settable clock for the down window and the warning interval."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def polls(server: RedisServer) -> int:
    """How many MGET commands (single-flight polls) the server has answered."""
    return int(server.client().info("commandstats").get("cmdstat_mget", {}).get("calls", 0))


def shared_warnings(caplog) -> list[str]:
    """The shared cache's warning lines."""
    return [
        r.getMessage() for r in caplog.records if r.name == "core.data.shared_cache" and r.levelno == logging.WARNING
    ]


# ------------------------------------------------------------------------------------------------
# Key/value


def test_market_frames_round_trip_through_redis(redis_server):
    """A market put by one replica is read back, frames exact, by another one."""
    from core.data.bundled import DEFAULT_DATASET, load_bundled

    market = load_bundled(DEFAULT_DATASET, "5m", None)
    writer, reader = SharedCache.from_url(redis_server.url), SharedCache.from_url(redis_server.url)
    assert writer.put("market|bundled", encode_market(market), ttl=60)
    back = decode_market(reader.get("market|bundled"))
    pd.testing.assert_frame_equal(back.candles, market.candles, check_freq=False)
    pd.testing.assert_series_equal(back.open_interest, market.open_interest, check_freq=False)
    assert (back.exchange, back.symbol, back.notes, back.fetched_at) == (
        market.exchange,
        market.symbol,
        market.notes,
        market.fetched_at,
    )
    assert reader.get("market|other") is None


def test_values_expire_after_their_ttl(redis_server):
    """A value carries its TTL in Redis and is gone once it has passed."""
    cache = SharedCache.from_url(redis_server.url)
    assert cache.put("short", b"x", ttl=0.3)
    assert cache.put("long", b"y", ttl=600)
    assert 0 < cache.ttl("short") <= 0.3
    assert 590 < cache.ttl("long") <= 600
    wait_until(lambda: cache.get("short") is None, what="the short value to expire")
    assert not redis_server.client().exists(cache.key("v", "short"))
    assert cache.get("long") == b"y"


def test_from_env_is_off_without_the_variable_and_ignores_a_bad_url(caplog):
    """No variable or an empty one: None (local caches). A URL that is not Redis: None and a warning."""
    assert from_env({}) is None
    assert from_env({"LIQMAP_REDIS_URL": "  "}) is None
    with caplog.at_level(logging.WARNING):
        assert from_env({"LIQMAP_REDIS_URL": "http://user:secret@example.invalid/"}) is None
    assert any("not a Redis URL" in m and "secret" not in m for m in shared_warnings(caplog))
    assert isinstance(from_env({"LIQMAP_REDIS_URL": "redis://127.0.0.1:1/0"}), SharedCache)  # no connection yet


# ------------------------------------------------------------------------------------------------
# Single-flight across processes


def _flight_child(url, barrier, calls, started, release, results):
    """One replica: meet the others, then ask for the same name."""
    cache = SharedCache.from_url(url)

    def compute() -> bytes:
        with calls.get_lock():
            calls.value += 1
        started.set()
        release.wait(30)
        return f"computed by {mp.current_process().name}".encode()

    barrier.wait(30)
    results.put(cache.single_flight("market|bybit|BTC/USDT:USDT|5m|3d|0", compute, ttl=60))


def test_single_flight_across_processes_computes_once(redis_server):
    """N processes asking at once: compute runs in exactly one; all get its result."""
    calls, started, release = FORK.Value("i", 0), FORK.Event(), FORK.Event()
    barrier, results = FORK.Barrier(PROCESSES), FORK.Queue()
    before = polls(redis_server)
    procs = [
        FORK.Process(
            target=_flight_child,
            args=(redis_server.url, barrier, calls, started, release, results),
            name=f"replica-{i}",
        )
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    try:
        assert started.wait(30)
        # every follower has polled at least twice: they are waiting inside single_flight
        wait_until(
            lambda: polls(redis_server) - before >= PROCESSES + 2 * (PROCESSES - 1), what="the followers to poll"
        )
        release.set()
        values = [results.get(timeout=30) for _ in procs]
    finally:
        release.set()
        for p in procs:
            p.join(30)
    assert calls.value == 1
    assert len(set(values)) == 1 and values[0].startswith(b"computed by replica-")
    assert all(p.exitcode == 0 for p in procs)


def _dying_leader(url, started):
    """A leader that starts computing and never finishes (the test kills it)."""
    cache = SharedCache.from_url(url, lock_ttl=1.0)

    def compute() -> bytes:
        started.set()
        threading.Event().wait()
        return b"never"

    cache.single_flight("depth|okx|BTC/USDT:USDT|0", compute, ttl=60)


def test_leader_dies_lock_expires_and_a_waiting_process_computes(redis_server):
    """The leader is killed mid-compute: its lock expires and the process waiting takes over."""
    started = FORK.Event()
    leader = FORK.Process(target=_dying_leader, args=(redis_server.url, started))
    leader.start()
    try:
        assert started.wait(30)
        follower = SharedCache.from_url(redis_server.url, lock_ttl=1.0)
        calls: list[int] = []
        outcome: list[bytes] = []
        waiting = threading.Thread(
            target=lambda: outcome.append(
                follower.single_flight("depth|okx|BTC/USDT:USDT|0", lambda: calls.append(1) or b"second", ttl=60)
            )
        )
        before = polls(redis_server)
        waiting.start()
        wait_until(lambda: polls(redis_server) - before >= 2, what="the follower to wait")
        assert not calls  # the lock is held: the follower waits
        leader.kill()
        leader.join(10)
        waiting.join(30)
    finally:
        if leader.is_alive():
            leader.kill()
    assert outcome == [b"second"] and calls == [1]
    assert follower.get("depth|okx|BTC/USDT:USDT|0") == b"second"


def test_leader_keeps_its_lock_while_it_computes(redis_server):
    """A compute longer than the lock's TTL keeps the lock (renewed), so nobody takes over."""
    cache = SharedCache.from_url(redis_server.url, lock_ttl=0.3)
    client, lock_key = redis_server.client(), cache.key("lock", "slow")
    release = threading.Event()
    outcome: list[bytes] = []
    leader = threading.Thread(
        target=lambda: outcome.append(cache.single_flight("slow", lambda: release.wait(30) and b"done", ttl=60))
    )
    leader.start()
    try:
        wait_until(lambda: client.get(lock_key) is not None, what="the lock")
        token = client.get(lock_key)
        renewals, last = 0, client.pttl(lock_key)
        while renewals < 4:  # four renewals take longer than the 0.3 s TTL itself
            left = client.pttl(lock_key)
            assert left > 0 and client.get(lock_key) == token, (
                "the lock expired or changed hands while its leader worked"
            )
            renewals += left > last
            last = left
    finally:
        release.set()
        leader.join(30)
    assert outcome == [b"done"]
    assert client.get(lock_key) is None  # released on publication


# ------------------------------------------------------------------------------------------------
# Fencing


def test_a_stale_leaders_write_is_refused(redis_server):
    """After A's lock expired and B took the lease, A's publication (older token) is refused."""
    a, b = SharedCache.from_url(redis_server.url), SharedCache.from_url(redis_server.url)
    lease_a = a.acquire("k", lock_ttl=0.2)
    assert lease_a is not None and b.acquire("k") is None  # held
    wait_until(lambda: not redis_server.client().exists(a.key("lock", "k")), what="A's lock to expire")
    lease_b = b.acquire("k")
    assert lease_b is not None and lease_b.token > lease_a.token
    assert not a.publish(lease_a, b"stale", ttl=60)
    assert not a.publish_error(lease_a, DataUnavailable("stale failure", "timeout"))
    assert b.publish(lease_b, b"fresh", ttl=60)
    assert not a.publish(lease_a, b"stale", ttl=60)
    assert a.get("k") == b"fresh"
    assert redis_server.client().get(a.key("err", "k")) is None


def test_an_expired_lease_with_no_newer_one_still_publishes(redis_server):
    """A slow leader whose lock expired publishes fine when nobody took over (its token is the newest)."""
    cache = SharedCache.from_url(redis_server.url)
    lease = cache.acquire("k", lock_ttl=0.2)
    wait_until(lambda: not redis_server.client().exists(cache.key("lock", "k")), what="the lock to expire")
    assert cache.publish(lease, b"late but latest", ttl=60)
    assert cache.get("k") == b"late but latest"


def test_a_stale_leader_returns_its_value_but_does_not_overwrite(redis_server):
    """Leader A loses its lock mid-compute; B leads and publishes; A's caller gets A's value, Redis keeps B's."""
    a, b = SharedCache.from_url(redis_server.url), SharedCache.from_url(redis_server.url)
    client = redis_server.client()
    release = threading.Event()
    outcome: list[bytes] = []
    slow = threading.Thread(
        target=lambda: outcome.append(a.single_flight("k", lambda: release.wait(30) and b"A", ttl=60))
    )
    slow.start()
    try:
        wait_until(lambda: client.exists(a.key("lock", "k")), what="A's lock")
        client.delete(a.key("lock", "k"))  # as if A's lock expired during a long pause
        assert b.single_flight("k", lambda: b"B", ttl=60) == b"B"
    finally:
        release.set()
        slow.join(30)
    assert outcome == [b"A"]
    assert b.get("k") == b"B"


# ------------------------------------------------------------------------------------------------
# Failures of the leader


def test_a_leaders_data_failure_reaches_the_waiting_processes(redis_server):
    """The leader's DataUnavailable is raised in every follower, and again for callers within failure_ttl."""
    leader, follower = SharedCache.from_url(redis_server.url), SharedCache.from_url(redis_server.url)
    release = threading.Event()
    calls: list[str] = []
    errors: list[DataUnavailable] = []

    def failing() -> bytes:
        calls.append("upstream")
        release.wait(30)
        raise DataUnavailable("Bybit is rate-limiting us (HTTP 429)", "rate_limited", "bybit", "429 body")

    def ask(cache: SharedCache) -> None:
        try:
            cache.single_flight("k", failing, ttl=60)
        except DataUnavailable as error:
            errors.append(error)

    first = threading.Thread(target=ask, args=(leader,))
    first.start()
    wait_until(lambda: calls, what="the leader to start")
    before = polls(redis_server)
    second = threading.Thread(target=ask, args=(follower,))
    second.start()
    wait_until(lambda: polls(redis_server) - before >= 2, what="the follower to wait")
    release.set()
    first.join(30)
    second.join(30)
    assert calls == ["upstream"]
    assert [(e.message, e.reason, e.exchange) for e in errors] == [
        ("Bybit is rate-limiting us (HTTP 429)", "rate_limited", "bybit")
    ] * 2
    with pytest.raises(DataUnavailable, match="rate-limiting"):
        follower.single_flight("k", lambda: b"not called", ttl=60)
    assert 25_000 < redis_server.client().pttl(leader.key("err", "k")) <= 30_000  # failure_ttl, like the breaker


def test_a_non_transient_failure_is_kept_only_for_the_waiting_processes(redis_server):
    """An input-like failure (no data for this market) is not remembered like a breaker: a short TTL only."""
    cache = SharedCache.from_url(redis_server.url)

    def no_data() -> bytes:
        raise DataUnavailable("Bybit has no data for this market", "no_data", "bybit")

    with pytest.raises(DataUnavailable):
        cache.single_flight("k", no_data, ttl=60)
    assert 0 < redis_server.client().pttl(cache.key("err", "k")) <= FOLLOWER_ERROR_TTL * 1000


def test_any_other_exception_releases_the_lock_for_the_next_caller(redis_server):
    """A leader failing with a bug releases its lock at once: the next caller computes (no wait for expiry)."""
    cache = SharedCache.from_url(redis_server.url, lock_ttl=600)

    def broken() -> bytes:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        cache.single_flight("k", broken, ttl=60)
    assert not redis_server.client().exists(cache.key("lock", "k"))
    assert cache.single_flight("k", lambda: b"ok", ttl=60) == b"ok"


# ------------------------------------------------------------------------------------------------
# Redis away


def test_redis_killed_mid_run_every_call_falls_back_locally(redis_server, caplog):
    """Redis dies: get misses, put stores nothing, single_flight computes here; nothing raises, one warning.
    Redis back and the retry window passed: sharing resumes."""
    timer = FakeTimer()
    cache = SharedCache.from_url(redis_server.url, timer=timer, retry_after=5, warn_interval=60)
    assert cache.put("k", b"shared", ttl=60) and cache.get("k") == b"shared"
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="core.data.shared_cache"):
        assert cache.get("k") is None
        assert cache.put("k", b"x", ttl=60) is False
        assert cache.single_flight("k", lambda: b"local", ttl=60) == b"local"
        assert cache.ttl("k") is None and cache.ping() is False
        cache.record_use("bybit|BTC/USDT:USDT|5m|3d")
        assert cache.most_used(5) == []
        timer.now += 6  # past the retry window: Redis is tried again (still dead), but within the warning interval
        assert cache.get("k") is None
        assert len([m for m in shared_warnings(caplog) if "unavailable" in m]) == 1
        redis_server.start()
        redis_server.client().set(cache.key("v", "k"), b"back")
        assert cache.get("k") is None  # still inside the new retry window: Redis is not even asked
        timer.now += 6
        assert cache.get("k") == b"back"
        assert cache.single_flight("k2", lambda: b"shared again", ttl=60) == b"shared again"
    assert redis_server.client().get(cache.key("v", "k2")) == b"shared again"
    assert any("reachable again" in m for m in shared_warnings(caplog))


def test_redis_killed_while_a_follower_waits(redis_server):
    """Redis dies while a process waits for another's result: it computes locally instead of raising."""
    cache = SharedCache.from_url(redis_server.url)
    assert cache.acquire("k", lock_ttl=600) is not None  # another process leads and never answers
    outcome: list[bytes] = []
    before = polls(redis_server)
    waiting = threading.Thread(target=lambda: outcome.append(cache.single_flight("k", lambda: b"local", ttl=60)))
    waiting.start()
    wait_until(lambda: polls(redis_server) - before >= 2, what="the follower to wait")
    redis_server.kill()
    waiting.join(30)
    assert outcome == [b"local"]


def test_redis_killed_while_the_leader_computes(redis_server):
    """Redis dies while this process computes: the value is returned; publishing just does not happen."""
    cache = SharedCache.from_url(redis_server.url)

    def compute() -> bytes:
        redis_server.kill()
        return b"value"

    assert cache.single_flight("k", compute, ttl=60) == b"value"


def test_unreachable_redis_from_the_start_works_locally(caplog):
    """A URL where nothing listens: every call is local, one warning, no exception."""
    cache = SharedCache.from_url(f"redis://127.0.0.1:{free_port()}/0", timer=FakeTimer())
    with caplog.at_level(logging.WARNING, logger="core.data.shared_cache"):
        for _ in range(3):
            assert cache.get("k") is None
            assert cache.single_flight("k", lambda: b"local", ttl=60) == b"local"
    assert len(shared_warnings(caplog)) == 1


def test_an_unreadable_value_is_computed_again_and_replaced(redis_server):
    """Bytes the codec cannot read (another version, damage) count as absent: computed and overwritten."""
    from core.data.bundled import DEFAULT_DATASET, load_bundled
    from core.data.shared_services import MARKET_CODEC

    market = load_bundled(DEFAULT_DATASET, "5m", "24h")
    cache = SharedCache.from_url(redis_server.url)
    assert cache.put("m", b"LQMD\x63garbage", ttl=60)
    assert cache.single_flight("m", lambda: market, ttl=60, codec=MARKET_CODEC) is market
    pd.testing.assert_frame_equal(decode_market(cache.get("m")).candles, market.candles, check_freq=False)
