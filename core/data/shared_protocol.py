"""The shared cache's protocol (``core.data.shared_cache``): its Redis keys, Lua scripts, codecs,
leases and markers, and how a ``DataUnavailable`` travels between processes as JSON.

Redis keys (``prefix`` default "liqmap")::

    {prefix}:v:{name}        the value (bytes), expires after its ttl
    {prefix}:err:{name}      the leader's DataUnavailable as JSON, expires after failure_ttl
                             (a transient failure) or FOLLOWER_ERROR_TTL (any other)
    {prefix}:lock:{name}     the leader's fencing token, expires after lock_ttl (renewed while it works)
    {prefix}:lease:{name}    the token of the newest lease on name, expires after lease_ttl
    {prefix}:fence           one counter: every lease takes the next token (INCR), never reused
    {prefix}:usage:{date}    sorted set market -> uses that UTC day, expires after two days

Single-flight, step by step (the lock and the publication are Lua scripts, so each is atomic):

1. Read value, error and lock in one round trip. A value is decoded and returned; an error is
   raised again (a ``DataUnavailable``: the same failure, without another upstream call).
2. No lock: try to become the leader: ``INCR`` the fence counter and ``SET`` the lock and the lease
   to that token, only if no lock exists. The leader runs ``compute`` while a thread renews the
   lock every ``lock_ttl / 3`` (if the process dies, the lock expires after ``lock_ttl``).
3. The leader publishes: accepted only while the lease still holds its token, i.e. no newer leader
   took over after its lock expired (fencing: a stale leader's write is refused; its result is
   still returned to its own caller). The lock is deleted if it is still its own.
4. Everyone else polls step 1 with a backoff (10 to 100 ms); when the lock disappears without a
   value (the leader died or failed with another exception) they race to lead (back to 2).
   After ``wait_timeout`` seconds without a result, the caller computes locally.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from core.data.errors import DataUnavailable

T = TypeVar("T")

ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
redis.call('SET', KEYS[2], token, 'PX', ARGV[2])
return token
"""
# KEYS: lock, lease, fence counter; ARGV: lock ttl ms, lease ttl ms. Returns the token or 0.

PUBLISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[4])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1
"""
# KEYS: lease, target (value or error), lock, the other of value/error; ARGV: token, payload, ttl ms.

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# KEYS: lock; ARGV: token, lock ttl ms. Returns 1 while the lock is still this token's.

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: lock; ARGV: token.


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How values of one kind become bytes and back (``decode`` raises ``ValueError`` on bad bytes)."""

    encode: Callable[[T], bytes]
    decode: Callable[[bytes], T]


BYTES: Codec[bytes] = Codec(bytes, bytes)


@dataclass(frozen=True)
class Lease:
    """The right to compute ``name`` and publish its result, proven by ``token``."""

    name: str
    token: int
    lock_ttl: float


class Down:
    """Marker: the Redis call failed (Redis down), so the caller goes local."""


DOWN = Down()


class Unreadable:
    """Marker: a stored value the codec cannot read (treated as absent)."""


UNREADABLE = Unreadable()


def ms(seconds: float) -> int:
    """Seconds as whole milliseconds, at least 1 (Redis refuses PX 0)."""
    return max(1, int(round(seconds * 1000)))


def error_to_json(error: DataUnavailable) -> bytes:
    """A ``DataUnavailable`` as JSON bytes (message, reason, exchange, detail)."""
    fields = {"message": error.message, "reason": error.reason, "exchange": error.exchange, "detail": error.detail}
    return json.dumps(fields).encode()


def error_from_json(data: bytes) -> DataUnavailable:
    """Inverse of ``error_to_json``; unreadable bytes give a generic ``exchange_error``."""
    try:
        fields = json.loads(data)
        return DataUnavailable(fields["message"], fields["reason"], fields.get("exchange"), fields.get("detail", ""))
    except (ValueError, KeyError, TypeError):
        return DataUnavailable("The data source failed", "exchange_error")


def redacted(url: str) -> str:
    """``url`` without its password (for logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
