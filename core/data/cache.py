"""A bounded, thread-safe TTL cache with single-flight and a per-exchange circuit breaker.

* Bounded: results live in a ``cachetools.TTLCache`` (``maxsize`` entries, ``ttl`` seconds).
* Single-flight: when several callers (Streamlit reruns, sessions, the "all exchanges" view) ask
  for the same key at once, exactly one of them calls upstream; the others wait for its result or
  its exception.
* Circuit breaker: a transient failure (``DataUnavailable.transient``) is remembered for
  ``failure_ttl`` seconds under a breaker key (the exchange), so a down exchange costs one
  timeout, not one per rerun. After the window the next call goes upstream again.

Keys are built by the caller; ``time_bucket`` floors "now" to the candle (at least 60 s) so a new
candle means a new key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pandas as pd
from cachetools import TTLCache

from core.constants import timeframe_delta
from core.data.errors import DataUnavailable

T = TypeVar("T")

MIN_BUCKET = pd.Timedelta(seconds=60)
MAX_BUCKET = pd.Timedelta(minutes=5)  # live data is never more than 5 minutes behind


def time_bucket(now: pd.Timestamp, timeframe: str | None = None) -> int:
    """``now`` floored to the candle length (60 s to 5 min), as epoch seconds (a cache-key part).

    Parameters
    ----------
    now
        Current time (tz-aware).
    timeframe
        Candle timeframe; ``None`` or an unknown one uses the 60-second minimum.
    """
    try:
        step = min(max(timeframe_delta(timeframe), MIN_BUCKET), MAX_BUCKET) if timeframe else MIN_BUCKET
    except ValueError:
        step = MIN_BUCKET
    seconds = int(step.total_seconds())
    return int(now.timestamp()) // seconds * seconds


@dataclass
class _Flight(Generic[T]):
    """One upstream call in progress; followers wait on ``done``."""

    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


def _copy_error(error: BaseException) -> BaseException:
    """A fresh exception to raise in another thread (tracebacks are per raise)."""
    if isinstance(error, DataUnavailable):
        return DataUnavailable(error.message, error.reason, error.exchange, error.detail)
    return error


class SingleFlightCache:
    """Thread-safe TTL cache where concurrent misses on one key cause one upstream call.

    Parameters
    ----------
    maxsize
        Most results kept (least recently used evicted first).
    ttl
        Seconds a result is served before it is fetched again.
    failure_ttl
        Seconds a transient failure keeps the breaker of its exchange open.
    timer
        Clock in seconds (``time.monotonic``); tests pass a fake one.
    """

    def __init__(
        self,
        maxsize: int = 32,
        ttl: float = MAX_BUCKET.total_seconds(),
        failure_ttl: float = 30.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._values: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        self._failures: TTLCache = TTLCache(maxsize=64, ttl=failure_ttl, timer=timer)
        self._flights: dict[Hashable, _Flight] = {}
        self._lock = threading.Lock()
        self.upstream_calls = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    @property
    def maxsize(self) -> int:
        """Most results kept."""
        return int(self._values.maxsize)

    def open_failure(self, breaker: Hashable) -> DataUnavailable | None:
        """The remembered failure of ``breaker`` while its window is open, else None."""
        with self._lock:
            error = self._failures.get(breaker)
        return _copy_error(error) if error is not None else None

    def clear(self) -> None:
        """Forget every result and every open breaker."""
        with self._lock:
            self._values.clear()
            self._failures.clear()

    def get(self, key: Hashable, compute: Callable[[], T], breaker: Hashable | None = None) -> T:
        """The cached value of ``key``, computing it (once across threads) when missing.

        Parameters
        ----------
        key
            Cache key (hashable).
        compute
            Upstream call; called at most once per miss, whatever the number of callers.
        breaker
            Circuit-breaker key (the exchange id); while a transient failure of it is remembered,
            the failure is raised again without calling upstream.

        Raises
        ------
        DataUnavailable
            The upstream failure (or the remembered one while the breaker is open).
        """
        with self._lock:
            if key in self._values:
                return self._values[key]
            if breaker is not None and (error := self._failures.get(breaker)) is not None:
                raise _copy_error(error)
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = _Flight()
                self._flights[key] = flight
                self.upstream_calls += 1
        if not leader:
            return self._follow(flight)
        return self._lead(key, flight, compute, breaker)

    @staticmethod
    def _follow(flight: _Flight) -> Any:
        """Wait for the leader's result (or re-raise its exception)."""
        flight.done.wait()
        if flight.error is not None:
            raise _copy_error(flight.error)
        return flight.value

    def _lead(self, key: Hashable, flight: _Flight, compute: Callable[[], T], breaker: Hashable | None) -> T:
        """Call upstream, publish the outcome to followers, remember it."""
        try:
            value = compute()
        except BaseException as error:
            with self._lock:
                if isinstance(error, DataUnavailable) and error.transient and breaker is not None:
                    self._failures[breaker] = error
                flight.error = error
                self._flights.pop(key, None)
            flight.done.set()
            raise
        with self._lock:
            self._values[key] = value
            flight.value = value
            self._flights.pop(key, None)
        flight.done.set()
        return value
