"""What the liquidation map says near the price, in numbers and in plain words."""

from __future__ import annotations

import pandas as pd

from core.format import format_price, format_usd
from core.grid.figures import near_price_usd
from core.grid.types import Profile

NEAR_PCTS: tuple[float, ...] = (2.0, 5.0, 10.0)
CROWDED_RATIO = 1.5  # one side "crowded" when it holds 1.5x the other side's USD within 5%


def plain_reading(profile: Profile, levels: pd.DataFrame, within_pct: float = 5.0) -> str:
    """One or two sentences a non-trader can act on, from the map near the price.

    ``levels`` is ``key_levels``'s table (price, side, usd, distance_pct).
    """
    near = nearby_table(profile, (within_pct,)).iloc[0]
    if near.long_usd + near.short_usd <= 0:
        return f"Little estimated liquidation liquidity within ±{within_pct:g}% of the price."

    def biggest(side: str) -> pd.Series | None:
        rows = levels[(levels["side"] == side) & (levels["distance_pct"].abs() <= within_pct)] if len(levels) else levels
        return rows.sort_values("usd", ascending=False).iloc[0] if len(rows) else None

    top_short, top_long = biggest("short"), biggest("long")
    if near.short_usd >= CROWDED_RATIO * near.long_usd and top_short is not None:
        return (
            f"Shorts crowded above: {format_usd(near.short_usd)} of shorts would be liquidated by a "
            f"{within_pct:g}% rise against {format_usd(near.long_usd)} of longs by a {within_pct:g}% fall. "
            f"Squeeze risk up to {format_price(top_short['price'])} ({top_short['distance_pct']:+.1f}%)."
        )
    if near.long_usd >= CROWDED_RATIO * near.short_usd and top_long is not None:
        return (
            f"Longs crowded below: {format_usd(near.long_usd)} of longs would be liquidated by a "
            f"{within_pct:g}% fall against {format_usd(near.short_usd)} of shorts by a {within_pct:g}% rise. "
            f"Flush risk down to {format_price(top_long['price'])} ({top_long['distance_pct']:+.1f}%)."
        )
    balanced = (f"Balanced: {format_usd(near.long_usd)} of longs below and {format_usd(near.short_usd)} of shorts "
                f"above within ±{within_pct:g}%.")
    if top_short is None and top_long is None:
        return f"{balanced} No big cluster within ±{within_pct:g}% on either side."

    def cluster(side: str, top: pd.Series | None) -> str:
        if top is None:
            return f"no big {side} cluster within ±{within_pct:g}%"
        return f"biggest {side} cluster at {format_price(top['price'])} ({top['distance_pct']:+.1f}%)"

    clusters = f"{cluster('short', top_short)}; {cluster('long', top_long)}."
    return f"{balanced} {clusters[0].upper()}{clusters[1:]}"


def nearby_table(profile: Profile, pcts: tuple[float, ...] = NEAR_PCTS) -> pd.DataFrame:
    """USD a move of each ``pct`` % would liquidate (longs below the price, shorts above; the
    sensitivity page's ``near_price_usd``), one row per distance.

    ``imbalance`` is ``core.grid.figures.long_short_imbalance``: (longs - shorts) / (longs + shorts),
    +1 all longs below the price, -1 all shorts above.
    """
    near = near_price_usd(profile, pcts)
    return pd.DataFrame(
        {
            "within": [f"±{pct:g}%" for pct in near.index],
            "long_usd": near["long_usd"].to_numpy(),
            "short_usd": near["short_usd"].to_numpy(),
            "imbalance": near["imbalance"].to_numpy(),
        }
    )
