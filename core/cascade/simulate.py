"""What-if liquidation cascade: push the price by a shock, liquidate the levels it crosses as market
orders, let that flow move the price further through an impact rule, and repeat until no new
level is crossed (``simulate_cascade``, ``simulate_from_profile``). ``core.cascade.depth`` gives
the book depth the impact rule needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.format import article, format_usd

IMPACT_RULES: tuple[str, ...] = ("linear", "sqrt")
#: Crossing tolerance in percentage points: a band whose centre is within this of the price
#: counts as crossed (keeps a book and its mirror image exactly symmetric under rounding).
CROSS_TOLERANCE_PCT = 1e-9
#: ``depth_from_volume``: resting USD within 1% of the price, as a share of a typical hour's volume.

STEP_COLUMNS: tuple[str, ...] = (
    "step",
    "price",
    "liquidated_long_usd",
    "liquidated_short_usd",
    "cumulative_usd",
    "move_pct",
    "total_move_pct",
)


def impact_pct(flow_usd: float, depth_usd_per_pct: float, impact: str = "linear") -> float:
    """Price move (in % of the starting price) caused by ``flow_usd`` of market orders.

    Parameters
    ----------
    flow_usd
        Market-order notional pushed into the book (USD, >= 0).
    depth_usd_per_pct
        Book depth: the USD that moves the price by 1%.
    impact
        ``"linear"``: ``flow / depth`` (a book with the same depth at every price: $depth per 1%).
        ``"sqrt"``: ``sqrt(flow / depth)``, the square-root impact law (a metaorder's impact grows
        with the square root of its size; here scaled so that ``depth`` USD still moves the price
        1%). Below ``depth`` the square root moves the price more than the linear rule, above it
        less.
    """
    if impact not in IMPACT_RULES:
        raise ValueError(f"impact must be one of {IMPACT_RULES}, not {impact!r}")
    if not depth_usd_per_pct > 0:
        raise ValueError("depth_usd_per_pct must be positive")
    ratio = max(float(flow_usd), 0.0) / float(depth_usd_per_pct)
    return ratio if impact == "linear" else float(np.sqrt(ratio))


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CascadeResult:
    """Outcome of ``simulate_cascade``.

    Attributes
    ----------
    steps
        One row per step: step 0 is the initial shock, step k >= 1 the move caused by the
        liquidation flow so far. Columns ``STEP_COLUMNS``: step, price (after the step),
        liquidated_long_usd and liquidated_short_usd (newly liquidated at that price),
        cumulative_usd, move_pct (this step's move, % of the starting price, signed) and
        total_move_pct (the move so far).
    start_price, final_price
        Price before the shock and where the cascade stops.
    initial_shock_pct, total_move_pct
        Signed, in % of the starting price (negative: down).
    amplification
        ``total_move_pct / initial_shock_pct`` (1.0: no amplification).
    liquidated_long_usd, liquidated_short_usd
        Totals liquidated in the cascade.
    remaining_long, remaining_short
        The book after the cascade (read-only arrays, same shape as the input).
    stopped_because
        Plain words: why the cascade ended.
    impact, depth_usd_per_pct
        The impact rule and depth used.
    """

    steps: pd.DataFrame
    start_price: float
    final_price: float
    initial_shock_pct: float
    total_move_pct: float
    amplification: float
    liquidated_long_usd: float
    liquidated_short_usd: float
    remaining_long: np.ndarray
    remaining_short: np.ndarray
    stopped_because: str
    impact: str = "linear"
    depth_usd_per_pct: float = field(default=float("nan"))

    @property
    def n_steps(self) -> int:
        """Number of impact steps after the initial shock."""
        return max(len(self.steps) - 1, 0)

    def story(self) -> str:
        """The cascade in plain sentences, for the page."""
        shock = self.initial_shock_pct
        if shock == 0:
            return f"No shock: the price stays at {self.start_price:,.0f}."
        falling = shock < 0
        verb, side = ("drop", "longs") if falling else ("rise", "shorts")
        after_shock = float(self.steps["price"].iloc[0])
        first_usd = float(self.steps["cumulative_usd"].iloc[0])
        size = f"{abs(shock):.1f}"
        opening = f"{article(size).capitalize()} {size}% {verb} from {self.start_price:,.0f} to {after_shock:,.0f}"
        if first_usd <= 0:
            return (
                f"{opening} crosses no {side} liquidation levels, so nothing is forced to "
                f"{'sell' if falling else 'buy'}: the move stays {abs(shock):.1f}% (1.00x)."
            )
        flow = "sell" if falling else "buy"
        text = f"{opening} liquidates {format_usd(first_usd)} of {side}"
        if self.n_steps >= 1:
            further = float(self.steps["move_pct"].iloc[1])
            text += (
                f", whose forced market orders {flow} into the book and push the price a further "
                f"{abs(further):.1f}% ({self.impact} impact, {format_usd(self.depth_usd_per_pct)} "
                "moves it 1%)"
            )
        total_usd = self.liquidated_long_usd + self.liquidated_short_usd
        plural = "" if self.n_steps == 1 else "s"
        text += (
            f". In all {format_usd(total_usd)} of {side} are liquidated; the cascade stops at "
            f"{self.final_price:,.0f} after {self.n_steps} step{plural} ({self.stopped_because}): "
            f"{article(f'{abs(self.total_move_pct):.1f}')} {abs(self.total_move_pct):.1f}% move, "
            f"{self.amplification:.2f}x the initial shock."
        )
        return text


def _validate_book(price_edges, long_usd, short_usd) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    edges = np.asarray(price_edges, dtype=float)
    long_ = np.asarray(long_usd, dtype=float)
    short = np.asarray(short_usd, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError("price_edges must be a 1-D ascending array with at least 2 edges")
    if long_.shape != (len(edges) - 1,) or short.shape != long_.shape:
        raise ValueError("long_usd and short_usd need one value per band (len(price_edges) - 1)")
    if np.any(~np.isfinite(long_)) or np.any(~np.isfinite(short)) or (long_ < 0).any() or (short < 0).any():
        raise ValueError("long_usd and short_usd must be finite and non-negative")
    return edges, long_, short


def simulate_cascade(
    price_edges: np.ndarray,
    long_usd: np.ndarray,
    short_usd: np.ndarray,
    price: float,
    shock_pct: float,
    depth_usd_per_pct: float,
    impact: str = "linear",
    max_steps: int = 50,
) -> CascadeResult:
    """What if the price were pushed by ``shock_pct``: how far would the liquidations carry it?

    Rule
    ----
    * All moves are in % of the starting ``price`` and add up: after the shock the price is
      ``price * (1 + shock_pct / 100)``; a fall is a negative ``shock_pct``.
    * A band is liquidated once the price reaches its centre (``centre >= price`` on a fall,
      ``<=`` on a rise); only bands on the far side of the starting price count (long bands
      strictly below it on a fall, short bands strictly above it on a rise: a level on the
      wrong side would already have been liquidated, so it is left as it is). Each band is
      liquidated once and taken out of the book.
    * Liquidated longs are sold at market, liquidated shorts bought, so the flow pushes the price
      further the same way. The whole flow so far is one metaorder: after step k the price sits at
      ``shock + impact(cumulative flow)`` (``impact_pct``: linear ``flow / depth`` or square-root
      ``sqrt(flow / depth)``, where ``depth_usd_per_pct`` USD moves the price 1%). For the linear
      rule this is the same as adding each step's ``flow / depth``.
    * Repeat until a step crosses no new band, ``max_steps`` impact steps have run (the last
      step's flow is then not applied), or the price reaches zero.

    The final move is the smallest fixed point ``M = |shock| + impact(book crossed by M)`` at or
    beyond the shock, so a bigger shock never liquidates less, a deeper book never cascades
    further, and the iteration ends after at most one step per band.

    Parameters
    ----------
    price_edges
        Band edges, ascending, shape (P+1,).
    long_usd, short_usd
        USD of long and short liquidation levels per band, shape (P,), non-negative. Not modified.
    price
        Starting price (> 0).
    shock_pct
        Initial move in % (negative: down).
    depth_usd_per_pct
        Book depth: USD of market orders that move the price by 1% (> 0).
    impact
        ``"linear"`` or ``"sqrt"``.
    max_steps
        Largest number of impact steps after the shock (>= 0).

    Returns
    -------
    CascadeResult
    """
    edges, long_, short = _validate_book(price_edges, long_usd, short_usd)
    if not (np.isfinite(price) and price > 0):
        raise ValueError("price must be positive")
    if not np.isfinite(shock_pct):
        raise ValueError("shock_pct must be finite")
    if max_steps < 0:
        raise ValueError("max_steps must be >= 0")
    impact_pct(0.0, depth_usd_per_pct, impact)  # validates impact and depth
    price = float(price)
    shock = float(shock_pct)
    falling = shock < 0
    sign = -1.0 if falling else 1.0
    remaining_long, remaining_short = long_.copy(), short.copy()

    def result(rows: list[dict], move: float, liq_long: float, liq_short: float, why: str) -> CascadeResult:
        steps = pd.DataFrame(rows, columns=list(STEP_COLUMNS))
        steps["step"] = steps["step"].astype("int64")
        total = sign * move
        return CascadeResult(
            steps=steps,
            start_price=price,
            final_price=max(price * (1 + total / 100.0), 0.0),
            initial_shock_pct=shock,
            total_move_pct=total,
            amplification=total / shock if shock != 0 else 1.0,
            liquidated_long_usd=liq_long,
            liquidated_short_usd=liq_short,
            remaining_long=_readonly(remaining_long),
            remaining_short=_readonly(remaining_short),
            stopped_because=why,
            impact=impact,
            depth_usd_per_pct=float(depth_usd_per_pct),
        )

    if shock == 0:
        row = dict(step=0, price=price, liquidated_long_usd=0.0, liquidated_short_usd=0.0,
                   cumulative_usd=0.0, move_pct=0.0, total_move_pct=0.0)
        return result([row], 0.0, 0.0, 0.0, "there was no shock")

    book = long_ if falling else short
    centres = (edges[:-1] + edges[1:]) / 2
    distance = sign * (centres - price) / price * 100.0  # % beyond the start, in the move's direction
    eligible = np.flatnonzero((distance > 0) & (book > 0))
    order = eligible[np.argsort(distance[eligible], kind="stable")]
    sorted_distance = distance[order]

    def crossed_count(move: float) -> int:
        return int(np.searchsorted(sorted_distance, move + CROSS_TOLERANCE_PCT, side="right"))

    rows: list[dict] = []
    move = min(abs(shock), 100.0) if falling else abs(shock)
    done = 0  # bands of ``order`` liquidated so far
    cumulative = 0.0
    previous_move = 0.0
    why = ""
    for step in range(max_steps + 1):
        if step > 0:
            move = abs(shock) + impact_pct(cumulative, depth_usd_per_pct, impact)
            if falling:
                move = min(move, 100.0)
        reach = crossed_count(move)
        new = order[done:reach]
        new_usd = float(book[new].sum())
        cumulative += new_usd
        done = reach
        rows.append(
            dict(
                step=step,
                price=max(price * (1 + sign * move / 100.0), 0.0),
                liquidated_long_usd=new_usd if falling else 0.0,
                liquidated_short_usd=0.0 if falling else new_usd,
                cumulative_usd=cumulative,
                move_pct=sign * (move - previous_move),
                total_move_pct=sign * move,
            )
        )
        previous_move = move
        if len(new) == 0:
            why = "the shock crossed no liquidation levels" if step == 0 else "no new levels were crossed"
            break
        if falling and move >= 100.0:
            why = "the price reached zero"
            break
    else:
        why = f"the step limit ({max_steps}) was reached"

    liquidated = order[:done]
    if falling:
        remaining_long[liquidated] = 0.0
    else:
        remaining_short[liquidated] = 0.0
    liq_total = float(book[liquidated].sum())
    return result(rows, move, liq_total if falling else 0.0, 0.0 if falling else liq_total, why)


def simulate_from_profile(
    profile,
    shock_pct: float,
    depth_usd_per_pct: float,
    impact: str = "linear",
    max_steps: int = 50,
) -> CascadeResult:
    """``simulate_cascade`` on a liquidation map (``core.grid.Profile``) from its own price."""
    return simulate_cascade(
        profile.price_edges,
        profile.long,
        profile.short,
        profile.price,
        shock_pct,
        depth_usd_per_pct,
        impact=impact,
        max_steps=max_steps,
    )
