"""ccxt clients: one per exchange, created on first use, each request made under its lock.

* Config: rate limiting on, markets limited to linear swaps, no keys, a short connect timeout
  (``CONNECT_TIMEOUT``; a dropped packet must not cost the full read timeout per resolved address)
  and the proxy named by HTTPS_PROXY/HTTP_PROXY (ccxt's own session ignores those variables).
* Locking: ccxt clients are not thread-safe, so every request (one page) holds its exchange's
  lock, never a whole fetch: other markets on the same exchange and the order-book call take
  turns page by page instead of waiting for a 100-page fetch.
* The HTTP status, Retry-After and body kind of each response are read from ccxt's own
  ``on_rest_response``/``parse_json`` hooks (``HttpProbe``) inside the same lock.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import ccxt
import requests

from core.constants import EXCHANGES
from core.data.errors import DataUnavailable
from core.data.failures import PARSE_ERRORS, check_body, describe_failure, retry_after_seconds, unsupported_exchange
from core.data.venues import exchange_title

T = TypeVar("T")

READ_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT = 3.0  # seconds per resolved address; a reachable exchange connects in < 1 s
PROXY_VARIABLES: tuple[str, ...] = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


def proxy_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy URL from HTTPS_PROXY (else HTTP_PROXY), upper or lower case, if set."""
    env = os.environ if environ is None else environ
    for name in PROXY_VARIABLES:
        value = (env.get(name) or "").strip()
        if value:
            return value
    return None


def client_config(exchange: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """ccxt constructor config: rate limiting on, markets limited to linear swaps, no keys, the
    environment's proxy.

    ``fetchMarkets.types`` is the option each exchange's ``fetch_markets`` reads (ccxt 4.5):
    Binance and Bybit name the linear family "linear", OKX names its perpetuals "swap". Every
    endpoint is https, so the proxy goes into ccxt's ``httpsProxy`` (only one proxy setting may be
    set in ccxt).
    """
    types = {"binanceusdm": ["linear"], "bybit": ["linear"], "okx": ["swap"]}[exchange]
    options: dict[str, Any] = {"defaultType": "swap", "fetchMarkets": {"types": types}}
    if exchange in ("binanceusdm", "bybit"):
        options["defaultSubType"] = "linear"
    if exchange == "binanceusdm":
        options["fetchCurrencies"] = False
    config: dict[str, Any] = {"enableRateLimit": True, "timeout": READ_TIMEOUT_MS, "options": options}
    if (proxy := proxy_from_environment(environ)) is not None:
        config["httpsProxy"] = proxy
    return config


class BoundedSession(requests.Session):
    """A requests session whose connect timeout is ``CONNECT_TIMEOUT`` (ccxt passes one number,
    which requests would use for connecting to every resolved address and for reading)."""

    connect_timeout: float = CONNECT_TIMEOUT

    def request(self, method, url, **kwargs):  # type: ignore[override]
        timeout = kwargs.get("timeout")
        if isinstance(timeout, (int, float)):
            kwargs["timeout"] = (min(self.connect_timeout, float(timeout)), float(timeout))
        return super().request(method, url, **kwargs)


def make_client(exchange: str) -> ccxt.Exchange:
    """A fresh sync ccxt client for ``exchange`` (no request is made here)."""
    if exchange not in EXCHANGES:
        raise unsupported_exchange(exchange)
    client = getattr(ccxt, exchange)(client_config(exchange))
    session = BoundedSession()
    session.trust_env = False  # proxies come from client_config, as ccxt expects
    client.session = session
    return client


@dataclass
class HttpProbe:
    """What the last HTTP response looked like (filled from ccxt's own response hooks).

    ``kind`` is "json", "empty" (``{}``, ``[]`` or nothing), "html", or "malformed";
    ``retry_after`` the seconds of a Retry-After header; ``body`` the start of the body.
    """

    status: int | None = None
    kind: str = "json"
    retry_after: float | None = None
    body: str = ""

    def reset(self) -> None:
        """Forget the last response."""
        self.status, self.kind, self.retry_after, self.body = None, "json", None, ""


def _install_probe(client: ccxt.Exchange) -> HttpProbe:
    """Wrap the client's ``on_rest_response`` and ``parse_json`` to record the response."""
    probe = HttpProbe()
    on_rest_response, parse_json = client.on_rest_response, client.parse_json

    def recording_on_rest_response(code, reason, url, method, headers, body, request_headers, request_body):
        probe.status = int(code) if code is not None else None
        probe.retry_after = retry_after_seconds((headers or {}).get("Retry-After"))
        probe.body = (body or "")[:2000] if isinstance(body, str) else ""
        return on_rest_response(code, reason, url, method, headers, body, request_headers, request_body)

    def recording_parse_json(http_response):
        parsed = parse_json(http_response)
        text = (http_response or "").strip() if isinstance(http_response, str) else ""
        if parsed is None:
            probe.kind = "empty" if not text else ("html" if text.startswith("<") else "malformed")
        else:
            probe.kind = "empty" if parsed in ({}, []) else "json"
        return parsed

    client.on_rest_response = recording_on_rest_response
    client.parse_json = recording_parse_json
    return probe


@dataclass(frozen=True)
class LiveSession:
    """A client, its lock and the probe of its last response.

    ``sleep`` waits between retries of a failed page (tests pass one that records).
    """

    exchange: str
    client: ccxt.Exchange
    probe: HttpProbe
    lock: threading.Lock = field(default_factory=threading.Lock)
    sleep: Callable[[float], None] = time.sleep

    @property
    def title(self) -> str:
        """Short display name of the exchange."""
        return exchange_title(self.exchange)

    def request(self, what: str, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` under the exchange's lock, its failure mapped to ``DataUnavailable``.

        Raises
        ------
        DataUnavailable
            Any ccxt or parsing failure, or a web page / garbled body where data was expected.
        """
        with self.lock:
            self.probe.reset()
            try:
                result = call(*args)
            except DataUnavailable:
                raise
            except (ccxt.BaseError, *PARSE_ERRORS) as error:
                raise describe_failure(error, self.exchange, self.probe, what) from error
            check_body(self.exchange, self.probe, what)
            return result


class ClientPool:
    """One ccxt client per exchange, created lazily; each request holds the exchange's lock.

    Parameters
    ----------
    factory
        Builds a client for an exchange id (``make_client``; tests pass one that replays
        recorded responses).
    sleep
        Waits between retries of a failed page (``time.sleep``).
    """

    def __init__(self, factory: Callable[[str], ccxt.Exchange] = make_client,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._factory = factory
        self._sleep = sleep
        self._sessions: dict[str, LiveSession] = {}
        self._guard = threading.Lock()

    def get(self, exchange: str) -> LiveSession:
        """The exchange's session (client created on first use)."""
        if exchange not in EXCHANGES:
            raise unsupported_exchange(exchange)
        with self._guard:
            if exchange not in self._sessions:
                client = self._factory(exchange)
                self._sessions[exchange] = LiveSession(exchange, client, _install_probe(client), sleep=self._sleep)
            return self._sessions[exchange]

    @contextmanager
    def session(self, exchange: str) -> Iterator[LiveSession]:
        """The exchange's session; holds no lock (each request takes it)."""
        yield self.get(exchange)
