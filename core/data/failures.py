"""ccxt failures -> ``DataUnavailable`` with a plain message, the HTTP status taken from the
response itself (never guessed from numbers in error text).

The status comes from ccxt's own ``on_rest_response`` hook (``core.data.clients.HttpProbe``),
because some mappings hide it: Bybit raises ``RateLimitExceeded`` for HTTP 403, OKX
``ExchangeNotAvailable`` for 429, and a JSON error body becomes ``ExchangeError`` before the status
is looked at. Rate limits carry how long to wait: the Retry-After header that Binance sends with
429 and 418 ("Rate limits", developers.binance.com: seconds to wait to avoid a ban, or until the
ban is over; bans scale from 2 minutes to 3 days for repeat offenders), or the end of a ban named
in Binance's -1003 message ("IP banned until 1620286253180").
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import ccxt
import pandas as pd

from core.constants import EXCHANGES
from core.data.errors import DataUnavailable
from core.data.venues import exchange_title, region_block_message

if TYPE_CHECKING:
    from core.data.clients import HttpProbe

# Exceptions ccxt's parsers raise on a response of the wrong shape.
PARSE_ERRORS: tuple[type[BaseException], ...] = (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError)
FIRST_BAN = 120.0  # Binance's shortest IP ban, when a 418 says nothing about its length
_BANNED_UNTIL = re.compile(r"banned until (\d{12,14})")


def unsupported_exchange(exchange: str) -> DataUnavailable:
    """The error for an exchange id the app does not offer."""
    return DataUnavailable(
        f"{exchange!r} is not an exchange this app supports (choose {', '.join(EXCHANGES)})", "bad_exchange", exchange
    )


def retry_after_seconds(value: object, now: pd.Timestamp | None = None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = pd.Timestamp(parsedate_to_datetime(text))
        except (TypeError, ValueError, IndexError):
            return None
        seconds = (when - (now or pd.Timestamp.now(tz="UTC"))).total_seconds()
    return max(0.0, seconds) if seconds == seconds else None


def ban_seconds(body: str, now: pd.Timestamp | None = None) -> float | None:
    """Seconds until the end of a Binance ban named in its -1003 message, if any."""
    match = _BANNED_UNTIL.search(body or "")
    if not match:
        return None
    until = pd.Timestamp(int(match.group(1)), unit="ms", tz="UTC")
    return max(0.0, (until - (now or pd.Timestamp.now(tz="UTC"))).total_seconds())


def describe_failure(error: BaseException, exchange: str, probe: "HttpProbe", what: str = "data") -> DataUnavailable:
    """Turn a ccxt (or parsing) failure into ``DataUnavailable`` with a plain message.

    Parameters
    ----------
    error
        What ccxt raised.
    exchange
        ccxt id of the exchange.
    probe
        What the last response looked like (status code, Retry-After, body kind).
    what
        What was being fetched ("candles", "open interest"), for the messages.
    """
    if isinstance(error, DataUnavailable):
        return error
    name, status = exchange_title(exchange), probe.status
    detail = f"{type(error).__name__}: {str(error)[:300]}"

    def fail(message: str, reason: str, wait: float | None = None) -> DataUnavailable:
        return DataUnavailable(message, reason, exchange, detail, retry_after=wait)

    wait = probe.retry_after if probe.retry_after is not None else ban_seconds(probe.body)
    if status == 403 and exchange == "binanceusdm" and probe.kind == "json":  # "the WAF Limit has been violated"
        return fail(f"{name}'s firewall refused us for too many requests (HTTP 403)", "rate_limited", wait)
    if status in (451, 403):
        return fail(region_block_message(exchange, status, probe.body), "geo_blocked")
    if status == 418:
        return fail(
            f"{name} has temporarily banned this address for too many requests (HTTP 418)", "rate_limited",
            wait if wait is not None else FIRST_BAN,
        )
    http = f" (HTTP {status})" if status and status != 200 else ""
    # ccxt 4.5: RateLimitExceeded and DDoSProtection are siblings under NetworkError
    if status == 429 or isinstance(error, (ccxt.DDoSProtection, ccxt.RateLimitExceeded)):
        return fail(f"{name} is rate-limiting us{http}", "rate_limited", wait)
    if isinstance(error, ccxt.RequestTimeout):
        return fail(f"{name} took too long to answer{http}", "timeout")
    if status is not None and status >= 500:
        return fail(f"{name} is not answering properly{http}", "exchange_down")
    if isinstance(error, ccxt.OnMaintenance):
        return fail(f"{name} is under maintenance", "exchange_down")
    if isinstance(error, ccxt.ExchangeNotAvailable):
        return fail(f"{name} is not answering properly{http}", "exchange_down")
    if isinstance(error, ccxt.NetworkError):
        return fail(f"Could not reach {name} (no network)", "no_network")
    if isinstance(error, ccxt.OperationFailed):
        return fail(f"{name} reported an internal error", "exchange_down")
    if isinstance(error, ccxt.BadSymbol):
        return fail(f"{name} does not know this market", "bad_symbol")
    if probe.kind != "json" or isinstance(error, PARSE_ERRORS):
        return fail(f"{name} sent {kind_words(probe.kind)} instead of {what}", "bad_response")
    if isinstance(error, ccxt.BaseError):
        return fail(f"{name} rejected the request for {what}", "exchange_error")
    return fail(f"{name} sent {what} we could not read", "bad_response")


def kind_words(kind: str) -> str:
    """Plain words for a body kind."""
    return {
        "html": "a web page",
        "empty": "an empty answer",
        "malformed": "a garbled answer",
    }.get(kind, "an answer we could not read")


def check_body(exchange: str, probe: "HttpProbe", what: str) -> None:
    """Raise when the last response was a web page or garbled (ccxt may quietly return [])."""
    if probe.kind in ("html", "malformed"):
        raise DataUnavailable(
            f"{exchange_title(exchange)} sent {kind_words(probe.kind)} instead of {what}", "bad_response", exchange
        )
