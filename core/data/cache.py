"""A bounded, thread-safe TTL cache with single-flight and a per-exchange circuit breaker.

* Bounded: results live in a ``cachetools.TTLCache`` (``maxsize`` entries, ``ttl`` seconds).
* Single-flight: when several callers (Streamlit reruns, sessions, the "all exchanges" view) ask
  for the same key at once, exactly one of them calls upstream; the others wait for its result or
  its error. Only an ``Exception`` of the fetch is shared: a ``BaseException`` that is not one
  (Streamlit's RerunException/StopException raised by the leader's own progress bar, a
  KeyboardInterrupt, SystemExit) belongs to the leader's thread alone; it is re-raised there and
  never stored, and a waiting caller then makes the call itself.
* Circuit breaker: a transient failure (``DataUnavailable.transient``) is remembered under a
  breaker key (the exchange), so a down exchange costs one timeout, not one per rerun: for
  ``failure_ttl`` seconds, or as long as the exchange asked (``retry_after``: Retry-After of a 429
  or 418, the end of a ban). A rate limit repeated right after the window doubles the wait each
  time (Binance scales bans for repeat offenders, from 2 minutes to 3 days), up to
  ``MAX_BACKOFF``. After the window the next call goes upstream again.

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
MAX_BACKOFF = 3 * 86_400.0  # Binance's longest ban


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
    error: Exception | None = None
    abandoned: bool = False  # the leader stopped for a reason of its own: followers call again
    followers: int = 0


def _copy_error(error: Exception) -> Exception:
    """A fresh exception to raise in another thread (tracebacks are per raise)."""
    if isinstance(error, DataUnavailable):
        return DataUnavailable(error.message, error.reason, error.exchange, error.detail, error.retry_after)
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
        self._failures: dict[Hashable, tuple[DataUnavailable, float]] = {}
        self._strikes: dict[Hashable, tuple[int, float]] = {}  # rate limits in a row, last window end
        self._failure_ttl = failure_ttl
        self._timer = timer
        self._flights: dict[Hashable, _Flight] = {}
        self._lock = threading.Lock()
        self._joined = threading.Condition(self._lock)
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
            error = self._open(breaker)
        return _copy_error(error) if error is not None else None

    def _open(self, breaker: Hashable) -> DataUnavailable | None:
        """The failure of ``breaker`` while its window is open (call under the lock)."""
        entry = self._failures.get(breaker)
        if entry is None:
            return None
        if self._timer() >= entry[1]:
            del self._failures[breaker]
            return None
        return entry[0]

    def breaker_seconds(self, breaker: Hashable) -> float:
        """Seconds the breaker of ``breaker`` stays open (0 when closed)."""
        with self._lock:
            entry = self._failures.get(breaker)
            return max(0.0, entry[1] - self._timer()) if entry is not None else 0.0

    def _remember(self, breaker: Hashable, error: DataUnavailable) -> None:
        """Open the breaker for as long as the failure asks (call under the lock)."""
        now = self._timer()
        wait = self._failure_ttl
        if error.reason == "rate_limited":
            strikes, last_end = self._strikes.get(breaker, (0, float("-inf")))
            strikes = strikes + 1 if now - last_end <= max(self._failure_ttl, 60.0) else 1
            asked = error.retry_after if error.retry_after is not None else 0.0
            wait = min(MAX_BACKOFF, max(asked, self._failure_ttl * 2 ** (strikes - 1)))
            self._strikes[breaker] = (strikes, now + wait)
        elif error.retry_after is not None:
            wait = max(wait, min(MAX_BACKOFF, error.retry_after))
        self._failures[breaker] = (error, now + wait)

    def clear(self) -> None:
        """Forget every result and every open breaker."""
        with self._lock:
            self._values.clear()
            self._failures.clear()
            self._strikes.clear()

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
        while True:
            with self._lock:
                if key in self._values:
                    return self._values[key]
                if breaker is not None and (error := self._open(breaker)) is not None:
                    raise _copy_error(error)
                flight = self._flights.get(key)
                leader = flight is None
                if leader:
                    flight = _Flight()
                    self._flights[key] = flight
                    self.upstream_calls += 1
                else:
                    flight.followers += 1
                    self._joined.notify_all()
            if leader:
                return self._lead(key, flight, compute, breaker)
            flight.done.wait()
            if flight.abandoned:
                continue  # the leader left for its own reasons: try again (maybe as the leader)
            if flight.error is not None:
                raise _copy_error(flight.error)
            return flight.value

    def wait_for_followers(self, key: Hashable, count: int, timeout: float | None = None) -> bool:
        """Block until ``count`` callers wait on the call in flight for ``key`` (True), or until
        ``timeout`` seconds passed (False). Lets tests make threads overlap without sleeping."""
        with self._joined:
            return self._joined.wait_for(
                lambda: (f := self._flights.get(key)) is not None and f.followers >= count, timeout
            )

    def _lead(self, key: Hashable, flight: _Flight, compute: Callable[[], T], breaker: Hashable | None) -> T:
        """Call upstream, publish the outcome to followers, remember it.

        An ``Exception`` is shared with the followers; any other ``BaseException`` is re-raised in
        this thread only, and the followers are told to call again.
        """
        try:
            value = compute()
        except Exception as error:
            with self._lock:
                if isinstance(error, DataUnavailable) and error.transient and breaker is not None:
                    self._remember(breaker, error)
                flight.error = error
                self._flights.pop(key, None)
            flight.done.set()
            raise
        except BaseException:
            with self._lock:
                flight.abandoned = True
                self._flights.pop(key, None)
            flight.done.set()
            raise
        with self._lock:
            self._values[key] = value
            if breaker is not None:
                self._strikes.pop(breaker, None)
            flight.value = value
            self._flights.pop(key, None)
        flight.done.set()
        return value
