"""Order-book depth: USD needed to move the price by 1%, and whether the book showed all of it.

An exchange serves only the top levels of the book (Binance 1,000, Bybit 500, OKX 400). For BTC
at a 0.1 tick those may span far less than 1% of the price: summing them understates the depth
and so overstates the impact of a cascade. ``book_depth`` therefore checks that each side reaches
the band's edge; where it does not, the side's notional is scaled up by band / reach (the book
assumed as deep per % beyond what was seen as within it) and a note says so.

The scale-up is capped at ``MAX_DEPTH_SCALE`` (20x: a side is extrapolated from at least 5% of
the band). A few levels at the top of the book say little about the depth a whole percent away:
OKX's recorded reply of two levels (0.15 USD wide at 43,466) would otherwise be scaled about
2,900x, into a 1% depth of billions. Past the cap the depth is a lower bound, and the note says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.data.clients import LiveSession
from core.data.errors import DataUnavailable
from core.data.failures import PARSE_ERRORS

DEPTH_BAND = 0.01
MAX_DEPTH_SCALE = 20.0  # at most band / reach = 20x: a side is extrapolated from >= 5% of the band


@dataclass(frozen=True)
class Depth:
    """Order-book depth within ``band`` of the mid.

    Parameters
    ----------
    usd
        Average of bid and ask notional within the band (USD), scaled where a side did not reach
        the band's edge.
    seen_usd
        The same from the levels served only (a lower bound of the true depth).
    reach
        Fraction of the band the shallower side covered (1.0: the book reached the edge).
    note
        Plain words when the book did not reach the edge ("" otherwise).
    """

    usd: float
    seen_usd: float
    reach: float
    note: str = ""


def book_depth(book: Mapping, contract_size: float, band: float, session: LiveSession) -> Depth:
    """Depth of a ccxt order book within ``band`` of the mid (see the module docstring)."""
    try:
        bids = np.asarray([lvl[:2] for lvl in book.get("bids") or []], dtype="float64").reshape(-1, 2)
        asks = np.asarray([lvl[:2] for lvl in book.get("asks") or []], dtype="float64").reshape(-1, 2)
    except PARSE_ERRORS as error:
        raise DataUnavailable(f"{session.title} sent an order book we could not read", "bad_response", session.exchange) from error
    if len(bids) == 0 or len(asks) == 0:
        raise DataUnavailable(f"{session.title} returned an empty order book", "no_data", session.exchange)
    mid = (bids[:, 0].max() + asks[:, 0].min()) / 2
    bid_in = bids[:, 0] >= mid * (1 - band)
    ask_in = asks[:, 0] <= mid * (1 + band)
    bid_usd = float(np.nansum(np.where(bid_in, bids[:, 0] * bids[:, 1], 0.0))) * contract_size
    ask_usd = float(np.nansum(np.where(ask_in, asks[:, 0] * asks[:, 1], 0.0))) * contract_size
    bid_reach = min(1.0, (mid - bids[:, 0].min()) / (mid * band))
    ask_reach = min(1.0, (asks[:, 0].max() - mid) / (mid * band))
    seen = (bid_usd + ask_usd) / 2
    floor = 1.0 / MAX_DEPTH_SCALE
    scaled = (bid_usd / max(bid_reach, floor) + ask_usd / max(ask_reach, floor)) / 2
    reach = min(bid_reach, ask_reach)
    if reach >= 1.0:
        return Depth(seen, seen, 1.0)
    shown = f"{session.title}'s order book showed only {reach * band * 100:.2f}% of the {band * 100:.0f}% band (${seen:,.0f} seen)"
    if reach < floor:
        note = (f"{shown}, too little to extrapolate to the band's edge: the depth was scaled up at most "
                f"{MAX_DEPTH_SCALE:.0f}x (${scaled:,.0f}), so the true depth may be larger and the simulated impact smaller")
    else:
        note = (f"{shown}; the depth was extrapolated to the band's edge (${scaled:,.0f}), "
                "so the simulated impact is not overstated")
    return Depth(scaled, seen, float(reach), note)
