"""Which coins each exchange offers: its linear USDT perpetuals, busiest first.

``rank_perpetuals`` is pure: ccxt's markets (``load_markets``) and tickers (``fetch_tickers``,
one call for all) in, unified symbols ordered by 24-hour quote volume (USD) out. The quote
volume is ccxt's ``quoteVolume`` where the exchange sends one (Binance ``quoteVolume``, Bybit
``turnover24h``); for OKX swaps ccxt leaves it empty and its ``vol24h`` counts contracts, so the
documented ``volCcy24h`` (base currency for derivatives; OKX "Get tickers") x ``last`` is used.
``validate_symbol`` checks a symbol from a URL against that list, or against the app's five
coins (``OFFLINE_COINS``) when the list cannot be had.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from core.constants import EXCHANGES, SYMBOLS
from core.data.clients import ClientPool
from core.data.errors import DataUnavailable
from core.data.services import DataServices, default_services
from core.data.venues import exchange_title, finite_number

OFFLINE_COINS: tuple[str, ...] = SYMBOLS
BRACKETS_FILE = Path(__file__).resolve().parents[2] / "data" / "brackets" / "binance_usdm_2024-08-01.json"


def is_linear_usdt_perpetual(market: Mapping) -> bool:
    """True for an active linear perpetual quoted and settled in USDT."""
    return bool(
        market.get("swap") and market.get("linear") and market.get("quote") == "USDT"
        and market.get("settle") == "USDT" and market.get("active", True) is not False
    )


def quote_volume_usd(ticker: Mapping, market: Mapping) -> float:
    """24-hour traded value in USD (USDT) of one ccxt ticker (0.0 when unknown)."""
    quote = finite_number(ticker.get("quoteVolume"))
    if quote is not None and quote > 0:
        return quote
    last = finite_number(ticker.get("last")) or finite_number(ticker.get("close"))
    info = ticker.get("info") if isinstance(ticker.get("info"), Mapping) else {}
    base = finite_number(info.get("volCcy24h"))
    if base is None:
        contracts = finite_number(ticker.get("baseVolume"))
        base = contracts * float(market.get("contractSize") or 1.0) if contracts is not None else None
    if base is None or last is None:
        return 0.0
    return max(0.0, base * last)


def rank_perpetuals(markets: Mapping[str, Mapping], tickers: Mapping[str, Mapping]) -> tuple[str, ...]:
    """Linear USDT perpetuals of ``markets``, by 24-hour quote volume (largest first; ties and
    coins without a ticker by symbol)."""
    chosen = [(symbol, market) for symbol, market in markets.items() if is_linear_usdt_perpetual(market)]
    volume = {s: quote_volume_usd(tickers.get(s) or {}, m) for s, m in chosen}
    return tuple(sorted(volume, key=lambda s: (-volume[s], s)))


def fetch_coins(exchange: str, *, pool: ClientPool) -> tuple[str, ...]:
    """``exchange``'s linear USDT perpetuals by 24-hour quote volume (markets once, tickers in one call).

    Raises
    ------
    DataUnavailable
        Any failure of either call.
    """
    session = pool.get(exchange)
    markets = session.request("its list of markets", session.client.load_markets)
    tickers = session.request("its 24-hour tickers", session.client.fetch_tickers)
    ranked = rank_perpetuals(markets or {}, tickers or {})
    return ranked


COINS_BUCKET = 3600  # seconds: the coin list is fetched at most once an hour per exchange


def list_coins(exchange: str, *, services: DataServices | None = None) -> tuple[tuple[str, ...], str]:
    """``exchange``'s linear USDT perpetuals, busiest (24-hour quote volume) first, and a note.

    One cached call per exchange and hour (markets and all tickers, through the services' cache
    and circuit breaker). Offline, or when the exchange refuses, ``OFFLINE_COINS`` and a note
    saying why ("" otherwise). Never raises ``DataUnavailable``.
    """
    svc = services or default_services()
    if exchange not in EXCHANGES:
        return OFFLINE_COINS, f"{exchange!r} is not an exchange this app supports: showing the usual five coins"
    key = ("coins", exchange, int(svc.clock().timestamp()) // COINS_BUCKET)
    try:
        coins = svc.cache.get(key, lambda: fetch_coins(exchange, pool=svc.clients), breaker=exchange)
    except DataUnavailable as error:
        return OFFLINE_COINS, f"{error.message}; showing the usual five coins"
    if not coins:
        return OFFLINE_COINS, f"{exchange_title(exchange)} listed no USDT perpetual; showing the usual five coins"
    return coins, ""


def validate_symbol(symbol: object, coins: Sequence[str] | None) -> str | None:
    """``symbol`` in ccxt's unified form when the exchange offers it (``coins``; ``None``: the
    list could not be had, so ``OFFLINE_COINS``), else None. "btc" and "BTCUSDT" read as BTC/USDT:USDT."""
    if not isinstance(symbol, str) or len(symbol) > 40:
        return None
    token = symbol.strip().upper()
    if "/" not in token:
        token = token[:-4] if token.endswith("USDT") and len(token) > 4 else token
        token = f"{token}/USDT:USDT"
    elif ":" not in token:
        token = f"{token}:USDT"
    allowed = OFFLINE_COINS if coins is None else coins
    return token if token in allowed else None


def coin_name(symbol: str) -> str:
    """The coin of a unified symbol: "BTC/USDT:USDT" -> "BTC"."""
    return symbol.split("/", 1)[0]


@lru_cache(maxsize=1)
def _shipped_brackets() -> frozenset[str]:
    try:
        doc = json.loads(BRACKETS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(doc.get("symbols", {}))


def margin_note(exchange: str, symbol: str) -> str:
    """What maintenance margin the model uses for ``symbol``: Binance's shipped table, or the
    flat documented rate (said plainly, for the page)."""
    name = exchange_title(exchange)
    if symbol in _shipped_brackets():
        table = "Binance's maintenance brackets (2024-08-01 table)"
        return table if exchange == "binanceusdm" else f"{table}, used for {name} too"
    return (f"no bracket table is shipped for {coin_name(symbol)}: the model uses the flat maintenance rate "
            "of reference model v1 (0.5%), so liquidation prices of large positions are approximate")
