"""A cache shared by several app processes on Redis: bytes with TTLs and a cross-process single-flight.

Off unless ``$LIQMAP_REDIS_URL`` is set (``from_env`` returns None then, and the app keeps its
in-process caches). The interface is small:

* ``get(name) -> bytes | None`` and ``put(name, value, ttl) -> bool``: a key/value store;
* ``single_flight(name, compute, ttl, codec)``: however many processes ask for ``name`` at once,
  one of them runs ``compute`` and publishes the result, the others wait for it and decode it;
* ``record_use(market)`` / ``most_used(n)``: daily use counts, read by the warmer (``core.warm``).

The Redis keys and the single-flight protocol are described in ``core.data.shared_protocol``.

Redis down or unreachable: every call falls back to local behaviour (``get`` misses, ``put``
stores nothing, ``single_flight`` calls ``compute`` here) and never raises a Redis error. A
warning is logged at most once per ``warn_interval``, and Redis is not tried again for
``retry_after`` seconds, so a down Redis costs one connection attempt per window, not one per call.

Assumes one Redis instance (not Redis Cluster: the scripts touch keys of several hash slots).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.data.errors import DataUnavailable
from core.data.shared_protocol import (ACQUIRE, BYTES, DOWN, PUBLISH, RELEASE, RENEW, UNREADABLE, Codec, Down,
                                      Lease, Unreadable, error_from_json, error_to_json, ms, redacted)

T = TypeVar("T")

ENV_VAR = "LIQMAP_REDIS_URL"
LOG = logging.getLogger(__name__)

POLL_MIN = 0.01
POLL_MAX = 0.1
FOLLOWER_ERROR_TTL = 2.0  # long enough for every waiting process to read a non-transient failure
USAGE_DAYS = 2
USAGE_MAX_MEMBERS = 500
DAY_SECONDS = 86_400

# Redis errors and the socket errors a client may surface around them.
REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

class SharedCache:
    """Bytes shared through Redis, with a cross-process single-flight; never raises Redis errors.

    Parameters
    ----------
    client
        A ``redis.Redis`` client (bytes responses; ``from_url`` builds one with short timeouts
        and a single immediate retry).
    prefix
        First part of every key (two apps can share one Redis with two prefixes).
    lock_ttl
        Seconds a leader's lock lives without renewal (how long others wait for a dead leader).
    wait_timeout
        Most seconds a follower waits for a result before computing locally.
    failure_ttl
        Seconds a leader's transient ``DataUnavailable`` (rate limit, timeout, exchange down) is
        served to every caller of that name, like the local circuit breaker; any other failure is
        kept only ``FOLLOWER_ERROR_TTL`` seconds, for the processes already waiting.
    lease_ttl
        Seconds the newest lease of a name is remembered (a leader slower than this cannot publish).
    retry_after
        Seconds Redis is left alone after a failure (calls go local meanwhile).
    warn_interval
        Most one "Redis unavailable" warning per this many seconds.
    timer
        Clock in seconds for ``retry_after`` and ``warn_interval`` (``time.monotonic``; tests pass
        a fake one).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "liqmap",
        lock_ttl: float = 30.0,
        wait_timeout: float = 120.0,
        failure_ttl: float = 30.0,
        lease_ttl: float = 3600.0,
        retry_after: float = 5.0,
        warn_interval: float = 60.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.lock_ttl = lock_ttl
        self.wait_timeout = wait_timeout
        self.failure_ttl = failure_ttl
        self.lease_ttl = lease_ttl
        self.retry_after = retry_after
        self.warn_interval = warn_interval
        self._timer = timer
        self._state_lock = threading.Lock()
        self._down_until: float | None = None
        self._last_warning: float | None = None
        self._acquire = client.register_script(ACQUIRE)
        self._publish = client.register_script(PUBLISH)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    @classmethod
    def from_url(
        cls, url: str, *, connect_timeout: float = 0.5, socket_timeout: float = 2.0, **options: Any
    ) -> SharedCache:
        """A shared cache on the Redis at ``url`` ("redis://host:6379/0"); no connection is opened yet.

        Query parameters of ``url`` (e.g. ``?socket_timeout=5``) override the timeouts.

        Raises
        ------
        ValueError
            ``url`` is not a Redis URL.
        """
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 1),
            health_check_interval=30,
        )
        return cls(client, **options)

    # ----------------------------------------------------------------------------------------
    # Keys and health

    def key(self, kind: str, name: str) -> str:
        """The Redis key of ``name`` for ``kind`` ("v", "err", "lock", "lease")."""
        return f"{self.prefix}:{kind}:{name}"

    @property
    def fence_key(self) -> str:
        """The one fencing-token counter."""
        return f"{self.prefix}:fence"

    @property
    def available(self) -> bool:
        """False while Redis is being left alone after a failure."""
        with self._state_lock:
            return self._down_until is None or self._timer() >= self._down_until

    def _guarded(self, what: str, call: Callable[[], T]) -> T | Down:
        """``call()``, or ``DOWN`` (logged) when Redis fails or is being left alone."""
        if not self.available:
            return DOWN
        try:
            result = call()
        except REDIS_ERRORS as error:
            self._mark_down(what, error)
            return DOWN
        self._mark_up()
        return result

    def _mark_down(self, what: str, error: BaseException) -> None:
        """Leave Redis alone for ``retry_after`` seconds; warn at most once per ``warn_interval``."""
        with self._state_lock:
            now = self._timer()
            self._down_until = now + self.retry_after
            warn = self._last_warning is None or now - self._last_warning >= self.warn_interval
            if warn:
                self._last_warning = now
        if warn:
            LOG.warning(
                "Shared cache (Redis) unavailable during %s: %s: %s. Serving from this process only; "
                "retrying in %.0f s.",
                what,
                type(error).__name__,
                error,
                self.retry_after,
            )

    def _mark_up(self) -> None:
        """Note that Redis answered (logged once after an outage)."""
        with self._state_lock:
            was_down = self._down_until is not None
            self._down_until = None
        if was_down:
            LOG.warning("Shared cache (Redis) reachable again.")

    def ping(self) -> bool:
        """True when Redis answers now (a fallback-safe health check)."""
        return self._guarded("ping", self.client.ping) is True

    # ----------------------------------------------------------------------------------------
    # Key/value

    def get(self, name: str) -> bytes | None:
        """The value stored under ``name``, or None (absent, expired, or Redis down)."""
        value = self._guarded("get", lambda: self.client.get(self.key("v", name)))
        return None if isinstance(value, Down) else value

    def put(self, name: str, value: bytes, ttl: float) -> bool:
        """Store ``value`` under ``name`` for ``ttl`` seconds; False when Redis is down."""
        done = self._guarded("put", lambda: self.client.set(self.key("v", name), value, px=ms(ttl)))
        return done is True

    def ttl(self, name: str) -> float | None:
        """Seconds ``name`` has left, or None (absent, no expiry, or Redis down)."""
        left = self._guarded("ttl", lambda: self.client.pttl(self.key("v", name)))
        return None if isinstance(left, Down) or left < 0 else left / 1000

    # ----------------------------------------------------------------------------------------
    # Leases: the building blocks of single_flight (these raise Redis errors; single_flight guards them)

    def acquire(self, name: str, lock_ttl: float | None = None) -> Lease | None:
        """The lease of ``name`` with a new fencing token, or None while another process holds it."""
        ttl = self.lock_ttl if lock_ttl is None else lock_ttl
        keys = [self.key("lock", name), self.key("lease", name), self.fence_key]
        token = int(self._acquire(keys=keys, args=[ms(ttl), ms(max(self.lease_ttl, ttl))]))
        return Lease(name, token, ttl) if token else None

    def publish(self, lease: Lease, value: bytes, ttl: float) -> bool:
        """Store ``value`` under the lease's name unless a newer lease exists (then False, nothing written)."""
        keys = [self.key(kind, lease.name) for kind in ("lease", "v", "lock", "err")]
        return bool(self._publish(keys=keys, args=[lease.token, value, ms(ttl)]))

    def publish_error(self, lease: Lease, error: DataUnavailable) -> bool:
        """Store ``error`` so waiting processes raise it (fenced like ``publish``).

        Kept ``failure_ttl`` seconds when transient, else ``FOLLOWER_ERROR_TTL`` seconds.
        """
        keys = [self.key(kind, lease.name) for kind in ("lease", "err", "lock", "v")]
        ttl = self.failure_ttl if error.transient else FOLLOWER_ERROR_TTL
        return bool(self._publish(keys=keys, args=[lease.token, error_to_json(error), ms(ttl)]))

    def renew(self, lease: Lease) -> bool:
        """Extend the lease's lock by its ``lock_ttl``; False when the lock is no longer this lease's."""
        return bool(self._renew(keys=[self.key("lock", lease.name)], args=[lease.token, ms(lease.lock_ttl)]))

    def release(self, lease: Lease) -> bool:
        """Delete the lease's lock if it is still this lease's (the leader gave up)."""
        return bool(self._release(keys=[self.key("lock", lease.name)], args=[lease.token]))

    @contextmanager
    def _renewing(self, lease: Lease) -> Iterator[None]:
        """Renew the lease's lock every ``lock_ttl / 3`` seconds in a thread while the block runs."""
        stop = threading.Event()

        def renew_until_stopped() -> None:
            while not stop.wait(lease.lock_ttl / 3):
                try:
                    if not self.renew(lease):
                        return  # the lock expired and may be another's now: nothing left to renew
                except REDIS_ERRORS:
                    continue  # Redis is away; the lock may still be there when it is back

        thread = threading.Thread(target=renew_until_stopped, name=f"lock-renew:{lease.name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    # ----------------------------------------------------------------------------------------
    # Single-flight

    def single_flight(self, name: str, compute: Callable[[], T], ttl: float, codec: Codec[T] = BYTES) -> T:
        """The value of ``name``: from Redis, from the process computing it, or computed here (once).

        Parameters
        ----------
        name
            What is computed (a market and its time bucket); the same name means the same value.
        compute
            The upstream call; across all processes sharing Redis it runs once per name and ``ttl``
            (more only when a leader dies, or Redis is down).
        ttl
            Seconds the published value is served.
        codec
            How the value becomes bytes and back (default: ``compute`` returns bytes).

        Raises
        ------
        DataUnavailable
            ``compute`` raised it, here or in the leading process (within ``failure_ttl`` when transient).
        Exception
            Whatever else ``compute`` raised here. Redis errors are never raised.
        """
        deadline = time.monotonic() + self.wait_timeout
        delay = POLL_MIN
        while True:
            state = self._guarded("read", lambda: self._peek(name))
            if isinstance(state, Down):
                return compute()
            blob, error, locked = state
            if blob is not None and not isinstance(value := self._decode(name, blob, codec), Unreadable):
                return value
            if error is not None:
                raise error_from_json(error)
            if not locked or blob is not None:
                lease = self._guarded("lock", lambda: self.acquire(name))
                if isinstance(lease, Down):
                    return compute()
                if lease is not None:
                    return self._lead(lease, compute, ttl, codec)
            if time.monotonic() >= deadline:
                LOG.warning("Waited %.0f s for another process to compute %s; computing here.", self.wait_timeout, name)
                return compute()
            time.sleep(delay)
            delay = min(delay * 2, POLL_MAX)

    def _peek(self, name: str) -> tuple[bytes | None, bytes | None, bool]:
        """Value, error and whether a lock exists, in one round trip."""
        value, error, lock = self.client.mget([self.key("v", name), self.key("err", name), self.key("lock", name)])
        return value, error, lock is not None

    @staticmethod
    def _decode(name: str, blob: bytes, codec: Codec[T]) -> T | Unreadable:
        """``codec.decode(blob)``, or ``UNREADABLE`` (logged) for bytes it cannot read (treated as absent)."""
        try:
            return codec.decode(blob)
        except (ValueError, TypeError) as error:
            LOG.warning("Unreadable shared value for %s (%s); computing it again.", name, error)
            return UNREADABLE

    def _lead(self, lease: Lease, compute: Callable[[], T], ttl: float, codec: Codec[T]) -> T:
        """Compute under the lease (lock renewed meanwhile) and publish the outcome."""
        with self._renewing(lease):
            try:
                value = compute()
            except DataUnavailable as error:
                self._guarded("publish", functools.partial(self.publish_error, lease, error))
                raise
            except BaseException:
                self._guarded("release", lambda: self.release(lease))
                raise
        try:
            blob = codec.encode(value)
        except (ValueError, TypeError) as error:
            LOG.warning("Cannot share the value of %s (%s); kept in this process.", lease.name, error)
            self._guarded("release", lambda: self.release(lease))
            return value
        if self._guarded("publish", lambda: self.publish(lease, blob, ttl)) is False:
            LOG.info("A newer leader took over %s; this process's result was not published.", lease.name)
        return value

    # ----------------------------------------------------------------------------------------
    # Use counts (for the warmer)

    def _usage_key(self, days_ago: int = 0) -> str:
        """The sorted set of uses for the UTC day ``days_ago`` days back."""
        day = time.strftime("%Y%m%d", time.gmtime(time.time() - days_ago * DAY_SECONDS))
        return f"{self.prefix}:usage:{day}"

    def record_use(self, market: str) -> None:
        """Count one use of ``market`` today (best effort; the set keeps its top 500 members)."""
        key = self._usage_key()

        def write() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.zincrby(key, 1, market)
            pipe.zremrangebyrank(key, 0, -(USAGE_MAX_MEMBERS + 1))
            pipe.expire(key, USAGE_DAYS * DAY_SECONDS)
            pipe.execute()

        self._guarded("record_use", write)

    def most_used(self, n: int) -> list[str]:
        """The ``n`` markets used most today and yesterday, most used first ([] when Redis is down)."""
        keys = [self._usage_key(d) for d in range(USAGE_DAYS)]
        rows = self._guarded("most_used", lambda: self.client.zunion(keys, withscores=True))
        if isinstance(rows, Down):
            return []
        ranked = sorted(((-score, member.decode()) for member, score in rows))
        return [member for _, member in ranked[: max(0, n)]]


def from_env(environ: Mapping[str, str] | None = None, **options: Any) -> SharedCache | None:
    """The shared cache on ``$LIQMAP_REDIS_URL``, or None when the variable is unset or empty.

    A value that is not a Redis URL is logged and ignored (None): the app runs on its local caches.
    ``options`` go to ``SharedCache.from_url``.
    """
    url = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not url:
        return None
    try:
        return SharedCache.from_url(url, **options)
    except ValueError as error:
        LOG.warning("%s=%s is not a Redis URL (%s); the shared cache is off.", ENV_VAR, redacted(url), error)
        return None
