"""``DataUnavailable``: the one error the data layer raises, with a message a user can read.

Every failure of a live fetch (rate limit, geo-block, exchange down, timeout, no network, unknown
symbol, unsupported timeframe, a response we cannot read) ends in ``DataUnavailable``. Its
``message`` is written for the user ("Binance is rate-limiting us (HTTP 429)"); its ``reason`` is a
short code the code can branch on (and the circuit breaker uses to decide what to remember).
"""

from __future__ import annotations

# Reason codes, with what they mean.
REASONS: dict[str, str] = {
    "rate_limited": "the exchange is throttling or has banned us for too many requests",
    "geo_blocked": "the exchange refuses requests from this region",
    "exchange_down": "the exchange answered with a server error or is in maintenance",
    "timeout": "the exchange took too long to answer",
    "no_network": "the exchange could not be reached at all (DNS, connection refused, offline)",
    "bad_response": "the exchange answered with something that is not the data asked for",
    "no_data": "the exchange answered, but with no data for this market and window",
    "exchange_error": "the exchange rejected the request",
    "bad_exchange": "the exchange is not one the app supports",
    "bad_symbol": "the exchange does not list this market as a linear perpetual",
    "bad_timeframe": "the timeframe or lookback is not offered",
    "too_large": "the window would need too many requests; choose a coarser timeframe",
    "no_snapshot": "no saved data exists for this market",
}

# Failures worth remembering for a short while (the circuit breaker): the next rerun would hit
# the same wall. Input errors are raised before any request, so they need no breaker.
TRANSIENT_REASONS: frozenset[str] = frozenset(
    {"rate_limited", "geo_blocked", "exchange_down", "timeout", "no_network", "bad_response"}
)


class DataUnavailable(Exception):
    """Data could not be loaded; ``message`` says why in plain words.

    Parameters
    ----------
    message
        One sentence for the user, without a trailing full stop
        ("Bybit took too long to answer").
    reason
        One of ``REASONS``.
    exchange
        The ccxt exchange id concerned, if any.
    detail
        The technical cause (ccxt's message), for logs only; never shown as the message.
    retry_after
        Seconds the exchange asked us to wait (HTTP Retry-After, a ban's end), if it said.
    """

    def __init__(
        self,
        message: str,
        reason: str = "exchange_error",
        exchange: str | None = None,
        detail: str = "",
        retry_after: float | None = None,
    ) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}; choose one of {list(REASONS)}")
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.exchange = exchange
        self.detail = detail
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """True when retrying soon may succeed (so the failure is cached only briefly)."""
        return self.reason in TRANSIENT_REASONS

    def __repr__(self) -> str:
        return f"DataUnavailable({self.message!r}, reason={self.reason!r}, exchange={self.exchange!r})"
