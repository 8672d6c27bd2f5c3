"""The warmer: keeps the most used markets fresh in the shared cache, so a user's first page is served from it.

Run it as one process beside the app replicas (optional; ``warmer`` in compose.yaml)::

    LIQMAP_REDIS_URL=redis://localhost:6379/0 python -m core.warm            # every 60 s, until stopped
    LIQMAP_REDIS_URL=redis://localhost:6379/0 python -m core.warm --once     # one round, then exit

Each round loads every market on the list with ``core.data.load.load_market`` (source "live") on
the shared result cache and last-good store (``core.data.shared_services``), so it takes the
normal path: the value of the current time bucket lands in Redis, and a market that a replica
already fetched in this bucket costs no upstream call (the cross-process single-flight).

The list, at most ``--max`` markets (``$LIQMAP_WARM_MAX``, default 8): first the markets named in
``$LIQMAP_WARM_MARKETS`` (comma-separated ``exchange:symbol:timeframe:lookback``, e.g.
``bybit:BTC/USDT:USDT:5m:3d``), then the markets the app replicas asked for most today and
yesterday (counted in Redis; the warmer's own loads are not counted). Rounds start on multiples of
``--interval`` seconds (``$LIQMAP_WARM_INTERVAL``, default 60) plus a few seconds, just after a new
candle's time bucket opens. SIGTERM or SIGINT ends the loop after the current market.

Exit status: 0; 2 when ``$LIQMAP_REDIS_URL`` is unset (there is no shared cache to warm).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from core.data.errors import DataUnavailable
from core.data.live import check_choices
from core.data.load import DataServices, load_market
from core.data.shared_cache import ENV_VAR, USAGE_MAX_MEMBERS, SharedCache, from_env
from core.data.shared_services import SharedResultCache, SharedSnapshotStore

LOG = logging.getLogger("core.warm")

MARKETS_VAR = "LIQMAP_WARM_MARKETS"
MAX_VAR = "LIQMAP_WARM_MAX"
INTERVAL_VAR = "LIQMAP_WARM_INTERVAL"
DEFAULT_MAX = 8
DEFAULT_INTERVAL = 60.0
ROUND_OFFSET = 3.0  # seconds after a bucket opens (the exchange has the new candle by then)


@dataclass(frozen=True)
class WarmMarket:
    """One market and window to keep warm."""

    exchange: str
    symbol: str
    timeframe: str
    lookback: str

    @property
    def parts(self) -> tuple[str, str, str, str]:
        """(exchange, symbol, timeframe, lookback), as ``load_market`` takes them."""
        return (self.exchange, self.symbol, self.timeframe, self.lookback)

    @property
    def member(self) -> str:
        """Its name in the use counts ("bybit|BTC/USDT:USDT|5m|3d")."""
        return "|".join(self.parts)

    def __str__(self) -> str:
        return f"{self.exchange} {self.symbol} {self.timeframe} {self.lookback}"


def parse_market(spec: str) -> WarmMarket:
    """``exchange:symbol:timeframe:lookback`` (the symbol may contain ':') as a valid market.

    Raises
    ------
    ValueError
        Not four parts, or a market the app does not offer.
    """
    parts = spec.strip().split(":")
    if len(parts) < 4:
        raise ValueError(f"{spec!r} is not exchange:symbol:timeframe:lookback")
    market = WarmMarket(parts[0], ":".join(parts[1:-2]), parts[-2], parts[-1])
    try:
        check_choices(market.exchange, market.symbol, market.timeframe, market.lookback)
    except DataUnavailable as error:
        raise ValueError(f"{spec!r}: {error.message}") from error
    return market


def parse_member(member: str) -> WarmMarket:
    """A use-count member ("bybit|BTC/USDT:USDT|5m|3d") as a valid market (``ValueError`` if not)."""
    parts = member.split("|")
    if len(parts) != 4:
        raise ValueError(f"{member!r} is not exchange|symbol|timeframe|lookback")
    return parse_market(":".join(parts))


def configured_markets(text: str) -> list[WarmMarket]:
    """The markets of ``$LIQMAP_WARM_MARKETS`` (invalid entries are logged and skipped)."""
    markets: list[WarmMarket] = []
    for spec in filter(None, (s.strip() for s in text.split(","))):
        try:
            markets.append(parse_market(spec))
        except ValueError as error:
            LOG.warning("Skipping %s in %s: %s", spec, MARKETS_VAR, error)
    return markets


def choose_markets(configured: Sequence[WarmMarket], shared: SharedCache, limit: int) -> list[WarmMarket]:
    """The configured markets, then the most used ones, without repeats, at most ``limit``."""
    chosen: list[WarmMarket] = []
    for market in configured:
        if market not in chosen:
            chosen.append(market)
    for member in shared.most_used(USAGE_MAX_MEMBERS):
        if len(chosen) >= limit:
            break
        try:
            market = parse_member(member)
        except ValueError:
            continue  # a count written by another app version, or garbage: not ours to warm
        if market not in chosen:
            chosen.append(market)
    return chosen[: max(0, limit)]


def warm_services(shared: SharedCache) -> DataServices:
    """Data services on the shared cache and store, not counting their own uses."""
    return DataServices(cache=SharedResultCache(shared, records_usage=False), store=SharedSnapshotStore(shared))


def warm_round(
    markets: Sequence[WarmMarket],
    services: DataServices,
    stop: threading.Event | None = None,
    load: Callable[..., object] = load_market,
) -> dict[WarmMarket, str]:
    """Load every market live through ``services``; returns each market's outcome in plain words."""
    outcome: dict[WarmMarket, str] = {}
    for market in markets:
        if stop is not None and stop.is_set():
            break
        try:
            data = load(*market.parts, source="live", services=services)
            outcome[market] = f"ok ({len(data.candles)} candles)"
        except DataUnavailable as error:
            outcome[market] = f"failed: {error.message}"
            LOG.warning("Could not warm %s: %s", market, error.message)
    return outcome


def seconds_to_next_round(now: float, interval: float, offset: float = ROUND_OFFSET) -> float:
    """Seconds from ``now`` (epoch) to the next multiple of ``interval`` plus ``offset``, in (0, interval]."""
    target = math.floor((now - offset) / interval) * interval + interval + offset
    return max(target - now, 1e-3)


def run(
    shared: SharedCache,
    configured: Sequence[WarmMarket],
    limit: int,
    interval: float,
    once: bool = False,
    services: DataServices | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Warm rounds until ``stop`` is set (or one round with ``once``); returns the exit status (0)."""
    services = services or warm_services(shared)
    stop = stop or threading.Event()
    while not stop.is_set():
        markets = choose_markets(configured, shared, limit)
        if not markets:
            LOG.info("Nothing to warm yet (no %s and no use counts).", MARKETS_VAR)
        outcome = warm_round(markets, services, stop)
        for market, words in outcome.items():
            LOG.info("%s: %s", market, words)
        if once:
            break
        stop.wait(seconds_to_next_round(time.time(), interval))
    return 0


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    """A positive number from the environment, else ``default``."""
    try:
        value = float(environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 and math.isfinite(value) else default


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The command line (see the module docstring)."""
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="python -m core.warm", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    interval, limit = _number(env, INTERVAL_VAR, DEFAULT_INTERVAL), int(_number(env, MAX_VAR, DEFAULT_MAX))
    parser.add_argument("--interval", type=float, default=interval, help="seconds between rounds")
    parser.add_argument("--max", type=int, default=limit, help="most markets per round")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shared = from_env(env)
    if shared is None:
        LOG.error("%s is not set: there is no shared cache to warm.", ENV_VAR)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    configured = configured_markets(env.get(MARKETS_VAR, ""))
    return run(shared, configured, max(1, args.max), max(1.0, args.interval), once=args.once, stop=stop)


if __name__ == "__main__":
    sys.exit(main())
