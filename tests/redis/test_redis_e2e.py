"""End to end on a real redis-server: two app server processes (the load test's launcher, exchanges
served by the fakes) share one Redis.

* 20 sessions on each replica open one live market over Streamlit's websocket protocol: exactly one
  upstream fetch in total (what one fetch of the market and of its model-memory history takes);
* both replicas restarted (new processes, empty local caches and disks): 20 sessions each are
  served from Redis with no upstream call;
* Redis killed while sessions run: every page still draws; each replica says so in its log, no page
  says so to its user.

Both replicas and their restarts run on one frozen "now" (``LIQMAP_FAKE_NOW``), so every request
falls in one time bucket. Memory per replica (before and after the sessions) and Redis's memory are
printed for the closing note.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest

from core.data.memory import memory_request
from core.viewstate import View
from tests.load.server import RunningApp, serve_app
from tests.load.st_client import PageResult, open_page, run_async
from tests.load.test_load import BYBIT_PATHS, assert_all_ok, expected_requests
from tests.redis.redis_server import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.load]  # starts app servers: left out of --fast like tests/load

SESSIONS = 20
MARKET = {"ex": "bybit", "tf": "5m", "lb": "3d"}
DURING_OUTAGE = {"ex": "bybit", "tf": "15m", "lb": "7d"}  # not fetched before Redis dies
AFTER_OUTAGE = {"ex": "okx", "tf": "1h", "lb": "24h"}
REDIS_DOWN_LOG = "Shared cache (Redis) unavailable"


def page_fetch(now: pd.Timestamp, exchange: str, timeframe: str, lookback: str) -> dict[str, int]:
    """Requests one fetch of what a page of this market loads: the window, and the history before
    it for the model's memory (the view's default days; ``core.data.memory``)."""
    total = Counter(expected_requests(now, exchange, timeframe, lookback))
    history = memory_request(timeframe, lookback, pd.Timedelta(days=View().mem))
    if history is not None:
        total.update(expected_requests(now, exchange, *history))
    return dict(total)


def upstream(apps: list[RunningApp]) -> dict[str, Counter[str]]:
    """Upstream requests per exchange and path, summed over ``apps``."""
    total: dict[str, Counter[str]] = {}
    for app in apps:
        for exchange, paths in app.stats()["upstream"].items():
            total.setdefault(exchange, Counter()).update(paths)
    return {exchange: paths for exchange, paths in total.items() if paths}


async def sessions_on_each(apps: list[RunningApp], query: str, n: int, midway=None) -> list[list[PageResult]]:
    """``n`` concurrent sessions on each app; ``midway()`` (if given) runs once the first page has drawn."""
    tasks = [[asyncio.create_task(open_page(app.port, query)) for _ in range(n)] for app in apps]
    if midway is not None:
        await asyncio.wait([t for row in tasks for t in row], return_when=asyncio.FIRST_COMPLETED)
        await asyncio.to_thread(midway)
    return [list(await asyncio.gather(*row)) for row in tasks]


def flat(results: list[list[PageResult]]) -> list[PageResult]:
    """Every session's result, replica after replica."""
    return [r for row in results for r in row]


def page_text(results: list[PageResult]) -> str:
    """Everything the sessions showed their users in words."""
    return "\n".join(text for r in results for text in r.markdown + r.warnings + r.errors)


@pytest.fixture
def now() -> pd.Timestamp:
    """The replicas' frozen clock: this minute (the fakes serve data up to it)."""
    return pd.Timestamp.now(tz="UTC").floor("min") + pd.Timedelta(seconds=20)


@pytest.fixture
def replicas(redis_server: RedisServer, tmp_path: Path, now: pd.Timestamp):
    """``start(name, count=2)``: that many replicas on the shared Redis and the frozen clock, each
    with its own new cache directory; stopped when the returned stack closes (or after the test)."""
    env = {"LIQMAP_REDIS_URL": redis_server.url, "LIQMAP_FAKE_NOW": now.isoformat()}
    stacks: list[ExitStack] = []

    def start(name: str, count: int = 2) -> tuple[ExitStack, list[RunningApp]]:
        stack = ExitStack()
        stacks.append(stack)
        apps = []
        for i in range(count):
            workdir = tmp_path / f"{name}{i}"
            workdir.mkdir()
            apps.append(stack.enter_context(serve_app(workdir, env=env)))
        return stack, apps

    yield start
    for stack in reversed(stacks):
        stack.close()


def drawn_live(results: list[PageResult]) -> None:
    """Every session drew its page on live data."""
    assert_all_ok(results)
    assert all(any(":green-badge[Live]" in m for m in r.markdown) for r in results)


def memory(apps: list[RunningApp]) -> list[int]:
    """RSS of each replica (MB)."""
    return [app.rss_kb() // 1024 for app in apps]


def warm_up(apps: list[RunningApp]) -> None:
    """One session per replica on the bundled sample (imports and first run; no upstream call)."""
    assert_all_ok([run_async(open_page(app.port, "src=btc_2026-09")) for app in apps])


def test_two_replicas_share_one_fetch_survive_a_restart_and_a_redis_outage(
    redis_server: RedisServer, replicas, now: pd.Timestamp
) -> None:
    """One fetch for 2 x 20 sessions; none after both replicas restart; pages draw while Redis is down."""
    query = urlencode(MARKET)
    one_fetch = page_fetch(now, "bybit", MARKET["tf"], MARKET["lb"])

    # 1. Two replicas, 20 sessions each, one market.
    first, apps = replicas("first")
    warm_up(apps)
    before = memory(apps)
    results = run_async(sessions_on_each(apps, query, SESSIONS))
    drawn_live(flat(results))
    calls = upstream(apps)
    assert set(calls) == {"bybit"} and set(calls["bybit"]) == set(BYBIT_PATHS.values())
    assert {name: calls["bybit"][path] for name, path in BYBIT_PATHS.items()} == one_fetch
    after = memory(apps)
    redis_mb = redis_server.client().info("memory")["used_memory"] / 2**20
    print(f"\n2 replicas x {SESSIONS} sessions: upstream {dict(calls['bybit'])} (one fetch: {one_fetch}); "
          f"RSS MB per replica {before} -> {after}; Redis used_memory {redis_mb:.1f} MB")
    first.close()

    # 2. Both replicas restarted: new processes, empty local caches and disks; Redis has it all.
    _, apps = replicas("restarted")
    warm_up(apps)
    before = memory(apps)
    results = run_async(sessions_on_each(apps, query, SESSIONS))
    drawn_live(flat(results))
    assert upstream(apps) == {}
    after = memory(apps)
    print(f"restarted replicas x {SESSIONS} sessions: upstream {upstream(apps)}; RSS MB per replica {before} -> {after}")

    # 3. Redis killed once the first page of a market not fetched yet has drawn, then a third market.
    during = run_async(sessions_on_each(apps, urlencode(DURING_OUTAGE), 5, midway=redis_server.kill))
    assert not redis_server.running
    later = run_async(sessions_on_each(apps, urlencode(AFTER_OUTAGE), 5))
    shown = flat(during) + flat(later)
    drawn_live(shown)
    assert "redis" not in page_text(shown).lower()
    for app in apps:
        assert REDIS_DOWN_LOG in app.log.read_text(errors="replace"), app.log
    print(f"Redis killed mid-run: {len(shown)} pages drawn; upstream {upstream(apps)}; RSS MB {memory(apps)}")
