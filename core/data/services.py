"""The services the live path needs: ccxt clients, the result cache, the last-good store, a clock.

The default one is built on first use (no connection is opened at import). With ``$LIQMAP_REDIS_URL``
set, its cache and store are the Redis-backed ones of ``core.data.shared_services`` (shared by every
app process on that Redis); without it, this process's own. Tests pass their own, or install them
process-wide with ``set_default_services`` (the UI tests and the load-test launcher).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from core.data.cache import SingleFlightCache
from core.data.clients import ClientPool
from core.data.shared_services import SharedResultCache, SharedSnapshotStore, default_cache, default_store
from core.data.store import SnapshotStore


def utc_now() -> pd.Timestamp:
    """The current time, UTC."""
    return pd.Timestamp.now(tz="UTC")


@dataclass(frozen=True)
class DataServices:
    """Everything the live path needs: clients, the result cache, the last-good store, a clock.

    Parameters
    ----------
    clients
        One ccxt client per exchange.
    cache
        Single-flight TTL cache with the per-exchange circuit breaker (markets, depth, coin lists);
        by default ``default_cache()`` (on Redis when ``$LIQMAP_REDIS_URL`` is set).
    store
        Last-good snapshots on disk (and in Redis: ``default_store()``).
    clock
        Returns "now" (UTC); the live window ends there.
    """

    clients: ClientPool = field(default_factory=ClientPool)
    cache: SingleFlightCache | SharedResultCache = field(default_factory=default_cache)
    store: SnapshotStore | SharedSnapshotStore = field(default_factory=default_store)
    clock: Callable[[], pd.Timestamp] = utc_now


_DEFAULT: list[DataServices] = []
_DEFAULT_LOCK = threading.Lock()


def default_services() -> DataServices:
    """The process-wide services, built on first use."""
    with _DEFAULT_LOCK:
        if not _DEFAULT:
            _DEFAULT.append(DataServices())
        return _DEFAULT[0]


def set_default_services(services: DataServices | None) -> DataServices | None:
    """Replace the process-wide services; ``None`` goes back to building them on first use.

    A seam for tests and the load-test launcher (fake exchanges, a fake clock): the app itself
    never calls it. Returns the services that were in place (None if none were built yet).
    """
    with _DEFAULT_LOCK:
        previous = _DEFAULT[0] if _DEFAULT else None
        _DEFAULT.clear()
        if services is not None:
            _DEFAULT.append(services)
        return previous


