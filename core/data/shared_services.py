"""Drop-in Redis-backed versions of the data layer's result cache and last-good store.

``SharedResultCache`` has ``SingleFlightCache``'s interface (``get(key, compute, breaker)``,
``open_failure``, ``breaker_seconds``, ``clear``, ``len``, ``maxsize``, ``upstream_calls``) and
``SharedSnapshotStore`` has ``SnapshotStore``'s (``save``, ``load``, ``path``, ``files``,
``size_bytes``, ``directory``), so ``DataServices`` takes them unchanged; with ``$LIQMAP_REDIS_URL``
set, the default services are built on them (``default_cache``, ``default_store``):

* a result is looked up in the process's own ``SingleFlightCache`` first (threads of one process
  share one flight), then in Redis through ``SharedCache.single_flight`` (processes share one
  flight): N replicas make one upstream call per market and time bucket;
* a last-good snapshot is written to Redis and to the local directory; reading takes the newer of
  the two, so a replica that never fetched a market still has its last good data;
* Redis down: the local cache and the local directory work exactly as without Redis.

Shared results: markets (``core.data.market_codec``, Arrow IPC), order-book depth and coin lists (JSON).
``default_cache()`` and ``default_store()`` build the right one from ``$LIQMAP_REDIS_URL``
(one ``SharedCache`` per process, created on first use).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from core.data.cache import MAX_BUCKET, SingleFlightCache
from core.data.depth import Depth
from core.data.errors import DataUnavailable
from core.data.market import MarketData
from core.data.market_codec import decode_market, encode_market
from core.data.shared_cache import Codec, SharedCache, from_env
from core.data.store import SnapshotStore, as_snapshot

T = TypeVar("T")

LAST_GOOD_TTL = 7 * 86_400.0
MARKET_KIND = "market"
_SAFE_PART = re.compile(r"[A-Za-z0-9/:._-]+")


def _number(value: Any) -> float:
    """A JSON number as a float (``ValueError`` for anything else, booleans included)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def encode_depth(depth: Depth) -> bytes:
    """A ``Depth`` as JSON bytes ({"usd", "seen_usd", "reach", "note"})."""
    if not isinstance(depth, Depth):
        raise TypeError(f"not a Depth: {type(depth).__name__}")
    fields = {"usd": depth.usd, "seen_usd": depth.seen_usd, "reach": depth.reach, "note": depth.note}
    return json.dumps(fields, allow_nan=False).encode()


def decode_depth(data: bytes) -> Depth:
    """Inverse of ``encode_depth`` (``ValueError`` for anything else)."""
    fields = json.loads(data)
    if not isinstance(fields, dict) or not isinstance(fields.get("note"), str):
        raise ValueError("not a depth")
    usd, seen, reach = (_number(fields.get(name)) for name in ("usd", "seen_usd", "reach"))
    return Depth(usd, seen, reach, fields["note"])


def encode_names(names: tuple[str, ...]) -> bytes:
    """A tuple of strings (a coin list) as JSON bytes."""
    if not isinstance(names, tuple) or not all(isinstance(n, str) for n in names):
        raise TypeError("not a tuple of strings")
    return json.dumps(list(names)).encode()


def decode_names(data: bytes) -> tuple[str, ...]:
    """Inverse of ``encode_names`` (``ValueError`` for anything else)."""
    names = json.loads(data)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("not a list of strings")
    return tuple(names)


MARKET_CODEC: Codec[MarketData] = Codec(encode_market, decode_market)
DEPTH_CODEC: Codec[Depth] = Codec(encode_depth, decode_depth)
NAMES_CODEC: Codec[tuple[str, ...]] = Codec(encode_names, decode_names)
# The kinds of results worth sharing, by the first part of the keys the data layer builds:
# ("market", exchange, symbol, timeframe, lookback, bucket) and ("depth", exchange, symbol, bucket)
# in core.data.load, ("coins", exchange, hour) in core.data.coins.
DEFAULT_CODECS: Mapping[str, Codec[Any]] = {MARKET_KIND: MARKET_CODEC, "depth": DEPTH_CODEC, "coins": NAMES_CODEC}


def shared_name(key: Hashable) -> str | None:
    """The Redis name of a cache key ("market|bybit|BTC/USDT:USDT|5m|3d|1764740700"), or None.

    Only tuples of plain parts (letters, digits, ``/:._-``) are shared, so two keys can never map
    to one name; anything else stays in the local cache.
    """
    if not isinstance(key, tuple) or not key:
        return None
    parts = [str(p) for p in key]
    if not all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in key):
        return None
    if not all(_SAFE_PART.fullmatch(p) for p in parts):
        return None
    return "|".join(parts)


def usage_member(key: Hashable) -> str | None:
    """The market a "market" key asks for ("bybit|BTC/USDT:USDT|5m|3d"), or None for other keys."""
    name = shared_name(key)
    if name is None or key[0] != MARKET_KIND or len(key) < 5:
        return None
    return "|".join(name.split("|")[1:5])


class SharedResultCache:
    """``SingleFlightCache``'s interface, shared across processes through Redis.

    Parameters
    ----------
    shared
        The Redis-backed cache.
    local
        This process's cache (default a new ``SingleFlightCache``): keeps decoded results, the
        per-exchange circuit breaker, and the in-process single-flight.
    ttl
        Seconds a shared result is served (default: the 5-minute bucket, like the local cache).
    records_usage
        Count each market asked for in Redis (``SharedCache.record_use``), for the warmer; the
        warmer itself passes False so its own loads do not count.
    codecs
        Which key kinds are shared and how their values become bytes; other keys stay local.
    """

    def __init__(
        self,
        shared: SharedCache,
        local: SingleFlightCache | None = None,
        ttl: float = MAX_BUCKET.total_seconds(),
        records_usage: bool = True,
        codecs: Mapping[str, Codec[Any]] = DEFAULT_CODECS,
    ) -> None:
        self.shared = shared
        self.local = local if local is not None else SingleFlightCache()
        self.ttl = ttl
        self.records_usage = records_usage
        self.codecs = dict(codecs)

    def get(self, key: Hashable, compute: Callable[[], T], breaker: Hashable | None = None) -> T:
        """Like ``SingleFlightCache.get``; a local miss goes through Redis before going upstream.

        Raises
        ------
        DataUnavailable
            The upstream failure, here or in the process that led the flight.
        """
        name = shared_name(key)
        codec = self.codecs.get(key[0]) if name is not None else None
        if name is None or codec is None:
            return self.local.get(key, compute, breaker)
        if self.records_usage and (member := usage_member(key)) is not None:
            self.shared.record_use(member)
        return self.local.get(key, lambda: self.shared.single_flight(name, compute, self.ttl, codec), breaker)

    def open_failure(self, breaker: Hashable) -> DataUnavailable | None:
        """The local breaker's remembered failure (see ``SingleFlightCache.open_failure``)."""
        return self.local.open_failure(breaker)

    def breaker_seconds(self, breaker: Hashable) -> float:
        """Seconds the local breaker of ``breaker`` stays open (see ``SingleFlightCache.breaker_seconds``)."""
        return self.local.breaker_seconds(breaker)

    def clear(self) -> None:
        """Forget this process's results and breakers (Redis keeps its values until their TTL)."""
        self.local.clear()

    def __len__(self) -> int:
        return len(self.local)

    @property
    def maxsize(self) -> int:
        """Most results kept in this process."""
        return self.local.maxsize

    @property
    def upstream_calls(self) -> int:
        """Local misses (each went to Redis, and upstream only when no other process had it)."""
        return self.local.upstream_calls


class SharedSnapshotStore:
    """``SnapshotStore``'s interface with each snapshot also kept in Redis (for ``ttl`` seconds).

    Parameters
    ----------
    shared
        The Redis-backed cache.
    local
        The on-disk store (default ``SnapshotStore()``): written too, read when Redis has nothing
        newer, and the whole store while Redis is down.
    ttl
        Seconds a snapshot stays in Redis (Redis's maxmemory policy may drop it sooner).
    """

    def __init__(self, shared: SharedCache, local: SnapshotStore | None = None, ttl: float = LAST_GOOD_TTL) -> None:
        self.shared = shared
        self.local = local if local is not None else SnapshotStore()
        self.ttl = ttl

    @staticmethod
    def name(exchange: str, symbol: str, timeframe: str) -> str:
        """The Redis name of a market's snapshot ("last_good|bybit|BTC/USDT:USDT|5m")."""
        name = shared_name(("last_good", exchange, symbol, timeframe))
        if name is None:
            raise ValueError(f"cannot name a snapshot for {(exchange, symbol, timeframe)!r}")
        return name

    @property
    def directory(self) -> Path:
        """The local directory."""
        return self.local.directory

    def path(self, exchange: str, symbol: str, timeframe: str) -> Path:
        """Where the local snapshot of this market lives."""
        return self.local.path(exchange, symbol, timeframe)

    def files(self) -> list[Path]:
        """Local snapshot files, oldest first."""
        return self.local.files()

    def size_bytes(self) -> int:
        """Total size of the local snapshot files."""
        return self.local.size_bytes()

    def save(self, market: MarketData) -> Path:
        """Write ``market`` to Redis (best effort) and to the local directory.

        Raises
        ------
        OSError
            The local directory is not writable (as ``SnapshotStore.save``).
        """
        try:
            name, blob = self.name(market.exchange, market.symbol, market.timeframe), encode_market(market)
        except (ValueError, TypeError):
            name = blob = None  # an unnameable market or a field the codec cannot carry: the local copy works
        if name is not None:
            self.shared.put(name, blob, self.ttl)
        return self.local.save(market)

    def load(self, exchange: str, symbol: str, timeframe: str, now: pd.Timestamp | None = None) -> MarketData | None:
        """The newer of the Redis and the local snapshot of this market, or None when neither exists."""
        now = now if now is not None else pd.Timestamp.now(tz="UTC")
        local = self.local.load(exchange, symbol, timeframe, now=now)
        try:
            blob = self.shared.get(self.name(exchange, symbol, timeframe))
            shared = as_snapshot(decode_market(blob), now) if blob is not None else None
        except ValueError:
            shared = None
        candidates = [m for m in (shared, local) if m is not None]
        return max(candidates, key=lambda m: m.fetched_at) if candidates else None


_PROCESS_SHARED: list[SharedCache | None] = []
_PROCESS_LOCK = threading.Lock()


def process_shared_cache() -> SharedCache | None:
    """This process's ``SharedCache`` from ``$LIQMAP_REDIS_URL`` (None when unset), built once."""
    with _PROCESS_LOCK:
        if not _PROCESS_SHARED:
            _PROCESS_SHARED.append(from_env())
        return _PROCESS_SHARED[0]


def default_cache() -> SingleFlightCache | SharedResultCache:
    """The result cache for ``DataServices``: shared through Redis when ``$LIQMAP_REDIS_URL`` is set."""
    shared = process_shared_cache()
    return SingleFlightCache() if shared is None else SharedResultCache(shared)


def default_store() -> SnapshotStore | SharedSnapshotStore:
    """The last-good store for ``DataServices``: also in Redis when ``$LIQMAP_REDIS_URL`` is set."""
    shared = process_shared_cache()
    return SnapshotStore() if shared is None else SharedSnapshotStore(shared)
