"""What each exchange serves and how it says it: page sizes, history limits, open-interest shapes,
region blocks, and which liquidation-price formula applies.

==============  ==========  =====================================================================
exchange        OHLCV/call  open-interest history
==============  ==========  =====================================================================
binanceusdm     500         /futures/data/openInterestHist: 5m..1d, max 500 rows, last 30 days
bybit           1000        /v5/market/open-interest: 5min..1d, max 200 rows, walks back from end
okx             100         /api/v5/rubik/stat/contracts/open-interest-history: 5m, 1H, 1D, max
                            100 rows, and only the latest 1,440 entries of a period
==============  ==========  =====================================================================

Liquidation prices: the model (core/model) uses Binance's isolated-margin formula for every
exchange. Bybit documents its own ("Liquidation Price (USDT Contract)", Bybit help centre,
isolated margin): LP = entry -/+ (initial margin - maintenance margin) / size, with
IM = value / leverage and MM = value x MMR - MM deduction, i.e. per unit
entry x (1 -/+ 1/leverage +/- MMR) -/+ deduction / size. Binance's is
entry x (1 -/+ 1/leverage) / (1 -/+ MMR) -/+ cum / (size x (1 -/+ MMR)): the two differ by a term of
order MMR / leverage (for 50x at 0.5%: 0.01% of the price). ``bybit_liquidation_price`` writes
Bybit's formula; the model does not use it yet (``LIQUIDATION_NOTE`` says so on the page). OKX's
formula ("Isolated margin liquidation price", OKX help centre) was not checked here: Binance's is
used, and the note says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Short names used in messages ("Binance is rate-limiting us").
EXCHANGE_SHORT_NAMES: dict[str, str] = {"binanceusdm": "Binance", "bybit": "Bybit", "okx": "OKX"}


@dataclass(frozen=True)
class ExchangeLimits:
    """What one exchange serves per public call.

    Parameters
    ----------
    ohlcv_page, oi_page, funding_page, long_short_page, depth_limit
        Rows per call (order-book levels for ``depth_limit``).
    oi_periods
        ccxt timeframes ``fetch_open_interest_history`` accepts, finest first.
    oi_history
        How far back open-interest history goes (None: not documented as limited).
    oi_max_rows
        How many of the latest entries of one period the exchange keeps (None: not limited).
    funding_until
        Whether ccxt's ``until`` is a documented parameter of the funding-history call.
    """

    ohlcv_page: int
    oi_page: int
    oi_periods: tuple[str, ...]
    oi_history: pd.Timedelta | None
    funding_page: int
    long_short_page: int
    depth_limit: int
    oi_max_rows: int | None = None
    funding_until: bool = True


LIMITS: dict[str, ExchangeLimits] = {
    # https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api
    # (Kline/Candlestick Data: limit 1500; Open Interest Statistics: max 500, latest 30 days;
    # Order Book: limit 5..1000)
    "binanceusdm": ExchangeLimits(
        ohlcv_page=500,
        oi_page=500,
        oi_periods=("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"),
        oi_history=pd.Timedelta(days=30),
        funding_page=1000,
        long_short_page=500,
        depth_limit=1000,
    ),
    # https://bybit-exchange.github.io/docs/v5/market/open-interest (limit 1..200),
    # .../v5/market/orderbook (linear: limit 1..500)
    "bybit": ExchangeLimits(
        ohlcv_page=1000,
        oi_page=200,
        oi_periods=("5m", "15m", "30m", "1h", "4h", "1d"),
        oi_history=None,
        funding_page=200,
        long_short_page=500,
        depth_limit=500,
    ),
    # https://www.okx.com/docs-v5/en/ "Trading Statistics > Get contract open interest history"
    # (period 5m/1H/1D, limit 100, the latest 1,440 entries), "Public Data > Get funding rate
    # history" (before/after/limit only), "Market Data > Get order book" (sz up to 400)
    "okx": ExchangeLimits(
        ohlcv_page=100,
        oi_page=100,
        oi_periods=("5m", "1h", "1d"),
        oi_history=None,
        funding_page=100,
        long_short_page=100,
        depth_limit=400,
        oi_max_rows=1440,
        funding_until=False,
    ),
}

LIQUIDATION_NOTE: dict[str, str] = {
    "binanceusdm": "",
    "bybit": "liquidation prices use Binance's formula and brackets; Bybit's own formula and tiers differ by "
    "about 0.01% of the price at 50x",
    "okx": "liquidation prices use Binance's formula and brackets; OKX's own tiers may move them slightly",
}


def exchange_title(exchange: str) -> str:
    """Short display name of an exchange ("Binance"), or the id itself."""
    from core.constants import EXCHANGES

    return EXCHANGE_SHORT_NAMES.get(exchange, EXCHANGES.get(exchange, exchange))


def history_reach(exchange: str, period: pd.Timedelta) -> pd.Timedelta | None:
    """How far back open interest of ``period`` goes on ``exchange`` (None: unlimited)."""
    limits = LIMITS[exchange]
    reaches = [r for r in (limits.oi_history, period * limits.oi_max_rows if limits.oi_max_rows else None) if r is not None]
    return min(reaches) if reaches else None


def bybit_liquidation_price(entry: float, leverage: float, mmr: float, side: int, deduction_per_unit: float = 0.0) -> float:
    """Bybit's isolated-margin liquidation price of a USDT contract, no extra margin added.

    Bybit help centre, "Liquidation Price (USDT Contract)": long LP = entry - (IM - MM) / size,
    short LP = entry + (IM - MM) / size, IM = value / leverage, MM = value x MMR - MM deduction;
    per unit of size that is ``entry - side x (entry / leverage - entry x mmr + deduction)``.

    Parameters
    ----------
    entry, leverage, mmr
        Entry price, leverage, maintenance margin rate of the position's risk-limit tier.
    side
        1 for a long, -1 for a short.
    deduction_per_unit
        The tier's maintenance-margin deduction divided by the position size.
    """
    return entry - side * (entry / leverage - entry * mmr + deduction_per_unit)


# --------------------------------------------------------------------------------------------
# Open-interest shapes


def bybit_one_side(entry: Mapping) -> tuple[float, str]:
    """One side of Bybit's open interest (base units) from a ccxt record, and which field gave it.

    Bybit v5 GET /v5/market/open-interest documents ``openInterest`` as both sides summed and
    ``singleOpenInterest`` as one side (https://bybit-exchange.github.io/docs/v5/market/open-interest;
    a live sample in ccxt issue 30014). ccxt 4.5.90's ``parse_open_interest`` puts
    ``openInterest`` into ``openInterestAmount`` and keeps the raw record in ``info``.

    Returns
    -------
    (amount, how)
        ``how`` is "single" (``singleOpenInterest`` used), "halved" (only ``openInterest``: halved,
        as documented) or "missing".
    """
    info = entry.get("info") if isinstance(entry.get("info"), Mapping) else {}
    single = finite_number(info.get("singleOpenInterest"))
    if single is not None and single > 0:
        return single, "single"
    both = finite_number(entry.get("openInterestAmount"))
    if both is None:
        both = finite_number(info.get("openInterest"))
    if both is None:
        return float("nan"), "missing"
    return both / 2.0, "halved"


BYBIT_OI_NOTES: dict[str, str] = {
    "single": "Bybit open interest: one side (singleOpenInterest)",
    "halved": "Bybit sent no singleOpenInterest: its openInterest (documented as both sides summed) was halved",
}


def finite_number(value: object) -> float | None:
    """A finite float, or None."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


# --------------------------------------------------------------------------------------------
# Region blocks


def region_block_message(exchange: str, status: int, body: str = "") -> str:
    """A plain message for a refusal by region: the likely cause and what still works.

    Binance answers HTTP 451 to restricted regions (its API docs, "HTTP Return Codes"; its
    terms exclude the USA). Bybit's CDN answers HTTP 403 with a CloudFront page to US addresses
    (Bybit does not serve the USA), which is what a host in a US data centre sees.
    """
    name = exchange_title(exchange)
    still = "the other exchanges, saved data, the bundled samples and file uploads still work"
    if status == 451:
        return (f"{name} refuses requests from this region (HTTP 451), likely because the app is "
                f"hosted in a country {name} does not serve, such as the USA; {still}")
    if exchange == "bybit" and status == 403:
        via = "its CloudFront CDN" if "cloudfront" in body.lower() else "its CDN"
        return (f"Bybit refused access through {via} (HTTP 403), likely because the app is hosted in the USA, "
                f"which Bybit does not serve; {still}")
    return f"{name} refused access (HTTP 403; it blocks some regions and heavy users); {still}"
