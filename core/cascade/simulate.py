"""Liquidation cascades: finding them in a replay, and a what-if simulation of one.

Two pure parts, no Streamlit:

* Detection (``detect_cascades_arrays``, ``detect_cascades``): the windows of a heatmap where the
  model's liquidated notional and the price move both spike, merged into episodes and ranked by
  size. The rule is written out in ``CASCADE_RULE`` (the app shows it).
* Simulation (``simulate_cascade``, ``simulate_from_profile``): push the price by a shock, liquidate
  the levels it crosses as market orders, let that flow move the price further through an impact
  rule, and repeat until no new level is crossed. ``depth_from_volume`` gives an offline estimate
  of the book depth the impact rule needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.format import format_usd

# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------

#: Consistency constant that makes 1.4826 * MAD estimate a normal distribution's standard deviation.
MAD_TO_SIGMA = 1.4826
#: Same for the mean absolute deviation (sqrt(pi / 2)); the usual fallback when the MAD is 0.
MEAN_AD_TO_SIGMA = 1.2533

DEFAULT_LIQ_Z = 3.0
DEFAULT_MOVE_Z = 2.0
DEFAULT_MIN_MOVE_PCT = 1.0
DEFAULT_MIN_GAP = pd.Timedelta(minutes=30)
DEFAULT_GAP_CANDLES = 2

CASCADE_RULE = (
    "How cascades are found. For every candle we take two numbers: the notional the model says was "
    "liquidated in it (longs + shorts, USD) and how far the price moved in it (the true range: from "
    "the lower of the low and the previous close to the higher of the high and the previous close, "
    "in % of the previous close, so wicks and gaps count). Each is turned into a robust z-score "
    "against the whole window shown: (value - median) / (1.4826 x median absolute deviation); where "
    "more than half of the candles liquidated nothing, the mean absolute deviation x 1.2533 is the "
    "scale instead. A candle is hot when its liquidation z-score is at least "
    f"{DEFAULT_LIQ_Z:g} and its move z-score at least {DEFAULT_MOVE_Z:g}. Hot candles whose open "
    f"times are at most max(2 candles, {int(DEFAULT_MIN_GAP.total_seconds() // 60)} minutes) apart "
    "form one episode, from the open of its first hot candle to the close of its last. An episode's "
    "move is measured from the close before it to the furthest low or high inside it; episodes "
    f"that move less than {DEFAULT_MIN_MOVE_PCT:g}% are dropped. Episodes are ranked by liquidated "
    "USD x |move| (the score), largest first. Because both numbers are compared with the window's "
    "own typical candle, the same rule works on 1-minute and on 1-hour candles."
)

DETECTION_COLUMNS: tuple[str, ...] = (
    "start",
    "end",
    "move_pct",
    "long_usd",
    "short_usd",
    "total_usd",
    "peak_time",
    "score",
    "summary",
    "first_index",
    "last_index",
    "peak_usd",
    "hot_candles",
)


def robust_zscore(values: np.ndarray) -> np.ndarray:
    """Robust z-scores: ``(x - median) / scale`` with a MAD scale (mean-AD fallback).

    Parameters
    ----------
    values
        1-D array; NaN entries are ignored for the statistics and give NaN scores.

    Returns
    -------
    numpy.ndarray
        Same shape as ``values``. ``scale`` is ``1.4826 * MAD``; when the MAD is 0 (more than half
        of the values equal the median, e.g. candles in which nothing was liquidated) it is
        ``1.2533 * mean(|x - median|)``; when that is 0 too, nothing stands out and all scores are 0.
    """
    x = np.asarray(values, dtype=float)
    out = np.full(x.shape, np.nan)
    finite = np.isfinite(x)
    if not finite.any():
        return out
    med = float(np.median(x[finite]))
    dev = np.abs(x[finite] - med)
    scale = MAD_TO_SIGMA * float(np.median(dev))
    if scale <= 0:
        scale = MEAN_AD_TO_SIGMA * float(np.mean(dev))
    out[finite] = 0.0 if scale <= 0 else (x[finite] - med) / scale
    return out


def true_range_pct(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Per-candle true range in % of the previous close (the first candle uses its own open).

    ``(max(high_t, close_{t-1}) - min(low_t, close_{t-1})) / close_{t-1} * 100``: the absolute move
    of the candle including its wicks and any gap from the previous close.
    """
    o = np.asarray(open_, dtype=float)
    h = np.asarray(high, dtype=float)
    lo = np.asarray(low, dtype=float)
    c = np.asarray(close, dtype=float)
    if len(c) == 0:
        return np.zeros(0)
    prev = np.concatenate([o[:1], c[:-1]])
    return (np.maximum(h, prev) - np.minimum(lo, prev)) / prev * 100.0


def _infer_step(times: pd.DatetimeIndex) -> pd.Timedelta:
    if len(times) < 2:
        return pd.Timedelta(minutes=1)
    ns = pd.DatetimeIndex(times).as_unit("ns").asi8
    return pd.Timedelta(int(np.median(np.diff(ns)))).round("s") or pd.Timedelta(minutes=1)


def _format_time(t: pd.Timestamp, with_day: bool) -> str:
    t = t.tz_convert("UTC") if t.tzinfo is not None else t
    return f"{t.day} {t:%b %H:%M}" if with_day else f"{t:%H:%M}"


def cascade_summary(
    start: pd.Timestamp, end: pd.Timestamp, move_pct: float, long_usd: float, short_usd: float
) -> str:
    """One plain line: ``5 Feb 14:05 -> 16:40 UTC: -6.2%, $412M longs / $3.0M shorts liquidated``."""
    same_day = start.normalize() == (end - pd.Timedelta(microseconds=1)).normalize() or end == start
    right = _format_time(end, with_day=not same_day)
    return (
        f"{_format_time(start, True)} -> {right} UTC: {move_pct:+.1f}%, "
        f"{format_usd(long_usd)} longs / {format_usd(short_usd)} shorts liquidated"
    )


def _empty_detection() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in DETECTION_COLUMNS})
    for c in ("start", "end", "peak_time"):
        frame[c] = pd.Series(dtype="datetime64[ns, UTC]")
    for c in ("first_index", "last_index", "hot_candles"):
        frame[c] = pd.Series(dtype="int64")
    frame["summary"] = pd.Series(dtype="object")
    return frame


def hot_candles(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    liq_long: np.ndarray,
    liq_short: np.ndarray,
    liq_z: float = DEFAULT_LIQ_Z,
    move_z: float = DEFAULT_MOVE_Z,
) -> np.ndarray:
    """Boolean mask of the candles where liquidations and the price move both spike.

    See ``detect_cascades_arrays`` for the rule; this is its first step, exposed for charts
    (e.g. marking hot candles on the replay).
    """
    liq = np.asarray(liq_long, dtype=float) + np.asarray(liq_short, dtype=float)
    z_liq = robust_zscore(liq)
    z_move = robust_zscore(true_range_pct(open_, high, low, close))
    with np.errstate(invalid="ignore"):
        return (z_liq >= liq_z) & (z_move >= move_z) & (liq > 0)


def detect_cascades_arrays(
    times,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    liq_long: np.ndarray,
    liq_short: np.ndarray,
    *,
    top: int | None = 5,
    liq_z: float = DEFAULT_LIQ_Z,
    move_z: float = DEFAULT_MOVE_Z,
    max_gap: pd.Timedelta | None = None,
    min_move_pct: float = DEFAULT_MIN_MOVE_PCT,
    rank_by: str = "usd_x_move",
    step: pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Find the episodes where modelled liquidations and the price move both spike.

    The rule (also in ``CASCADE_RULE``, shown by the app):

    1. Per candle t: liquidated notional ``L_t = liq_long_t + liq_short_t`` (USD) and the true range
       ``R_t`` in % of the previous close (``true_range_pct``: wicks and gaps count).
    2. Robust z-scores of both against the whole window (``robust_zscore``: median and
       1.4826 x MAD; mean absolute deviation x 1.2533 where the MAD is 0, as it is when most
       candles liquidated nothing).
    3. A candle is hot when ``z(L_t) >= liq_z`` and ``z(R_t) >= move_z`` (and ``L_t > 0``).
    4. Hot candles whose open times are at most ``max_gap`` apart merge into one episode, from the
       open of its first hot candle to the close of its last (``end = last open + step``).
    5. Per episode: ``move_pct`` from the close before the episode (the first open if the episode
       starts the window) to the furthest low or high inside it, signed (the one further away);
       long, short and total liquidated USD; the candle with the most liquidated USD
       (``peak_time``, ``peak_usd``). Episodes whose ``|move_pct| < min_move_pct`` are dropped.
    6. Ranked by ``score``: ``total_usd * |move_pct| / 100`` (``rank_by="usd_x_move"``, default) or
       ``total_usd`` (``rank_by="usd"``), largest first.

    Because both series are scored against the window's own typical candle, the thresholds mean
    the same on 1-minute and 1-hour candles; the gap tolerance is in time, not in candles.

    Parameters
    ----------
    times
        Candle open times (anything ``pd.DatetimeIndex`` accepts; naive times are taken as UTC).
    open_, high, low, close
        Candle prices, shape (T,).
    liq_long, liq_short
        Modelled liquidated notional per candle (USD), shape (T,).
    top
        Keep the ``top`` largest episodes (``None``: all).
    liq_z, move_z
        Thresholds on the robust z-scores.
    max_gap
        Largest gap between the open times of two hot candles of one episode; default
        ``max(2 * step, 30 minutes)``.
    min_move_pct
        Smallest ``|move_pct|`` an episode must have.
    rank_by
        ``"usd_x_move"`` or ``"usd"``.
    step
        Candle length; default the median spacing of ``times``.

    Returns
    -------
    pandas.DataFrame
        One row per episode, ranked, index 0..n-1, columns ``DETECTION_COLUMNS``: start, end,
        move_pct, long_usd, short_usd, total_usd, peak_time, score, summary, first_index and
        last_index (positions of the first and last hot candle, inclusive), peak_usd, hot_candles
        (how many hot candles). Empty (same columns) when nothing qualifies.
    """
    if rank_by not in ("usd_x_move", "usd"):
        raise ValueError(f"rank_by must be 'usd_x_move' or 'usd', not {rank_by!r}")
    idx = pd.DatetimeIndex(times)
    idx = (idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")).as_unit("ns")
    arrays = [np.asarray(a, dtype=float) for a in (open_, high, low, close, liq_long, liq_short)]
    n = len(idx)
    if any(len(a) != n for a in arrays):
        raise ValueError("times and all per-candle arrays must have the same length")
    o, h, lo, c, ll, ls = arrays
    if n == 0:
        return _empty_detection()
    step = _infer_step(idx) if step is None else pd.Timedelta(step)
    gap = max(DEFAULT_GAP_CANDLES * step, DEFAULT_MIN_GAP) if max_gap is None else pd.Timedelta(max_gap)

    hot = np.flatnonzero(hot_candles(o, h, lo, c, ll, ls, liq_z=liq_z, move_z=move_z))
    if len(hot) == 0:
        return _empty_detection()
    t_ns = idx.asi8
    breaks = np.flatnonzero(np.diff(t_ns[hot]) > gap.value)
    groups = np.split(hot, breaks + 1)

    liq = ll + ls
    rows = []
    for g in groups:
        first, last = int(g[0]), int(g[-1])
        ref = c[first - 1] if first > 0 else o[first]
        down = np.min(lo[first : last + 1]) / ref - 1.0
        up = np.max(h[first : last + 1]) / ref - 1.0
        move = 100.0 * (down if -down >= up else up)
        if abs(move) < min_move_pct:
            continue
        long_usd = float(ll[first : last + 1].sum())
        short_usd = float(ls[first : last + 1].sum())
        total = long_usd + short_usd
        peak = first + int(np.argmax(liq[first : last + 1]))
        start, end = idx[first], idx[last] + step
        rows.append(
            {
                "start": start,
                "end": end,
                "move_pct": float(move),
                "long_usd": long_usd,
                "short_usd": short_usd,
                "total_usd": total,
                "peak_time": idx[peak],
                "score": total * abs(move) / 100.0 if rank_by == "usd_x_move" else total,
                "summary": cascade_summary(start, end, move, long_usd, short_usd),
                "first_index": first,
                "last_index": last,
                "peak_usd": float(liq[peak]),
                "hot_candles": len(g),
            }
        )
    if not rows:
        return _empty_detection()
    frame = pd.DataFrame(rows, columns=list(DETECTION_COLUMNS))
    frame = frame.sort_values(["score", "start"], ascending=[False, True], kind="stable")
    if top is not None:
        frame = frame.head(top)
    return frame.reset_index(drop=True)


def detect_cascades(heatmap, top: int | None = 5, **rule) -> pd.DataFrame:
    """Cascades in a ``Heatmap`` (its modelled liquidations and candles), ranked by size.

    Parameters
    ----------
    heatmap
        A ``core.grid.Heatmap`` (anything with ``times``, ``open``, ``high``, ``low``, ``close``,
        ``liquidated_long``, ``liquidated_short`` and optionally ``timeframe``).
    top
        Keep the ``top`` largest episodes (``None``: all).
    **rule
        Keyword arguments of ``detect_cascades_arrays`` (``liq_z``, ``move_z``, ``max_gap``,
        ``min_move_pct``, ``rank_by``, ``step``).

    Returns
    -------
    pandas.DataFrame
        See ``detect_cascades_arrays``.
    """
    if "step" not in rule and getattr(heatmap, "timeframe", ""):
        try:
            from core.constants import timeframe_delta

            rule["step"] = timeframe_delta(heatmap.timeframe)
        except ValueError:
            pass
    return detect_cascades_arrays(
        heatmap.times,
        heatmap.open,
        heatmap.high,
        heatmap.low,
        heatmap.close,
        heatmap.liquidated_long,
        heatmap.liquidated_short,
        top=top,
        **rule,
    )


# --------------------------------------------------------------------------------------------
# What-if simulation
# --------------------------------------------------------------------------------------------

IMPACT_RULES: tuple[str, ...] = ("linear", "sqrt")
#: Crossing tolerance in percentage points: a band whose centre is within this of the price
#: counts as crossed (keeps a book and its mirror image exactly symmetric under rounding).
CROSS_TOLERANCE_PCT = 1e-9
#: ``depth_from_volume``: resting USD within 1% of the price, as a share of a typical hour's volume.
DEFAULT_DEPTH_FACTOR = 0.1

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
        opening = (
            f"A {abs(shock):.1f}% {verb} from {self.start_price:,.0f} to {after_shock:,.0f}"
        )
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
            f"a {abs(self.total_move_pct):.1f}% move, {self.amplification:.2f}x the initial shock."
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


def _candles_of(source) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, pd.Timedelta | None]:
    if hasattr(source, "liquidated_long") or (hasattr(source, "times") and hasattr(source, "volume")):
        times, close, volume = pd.DatetimeIndex(source.times), source.close, source.volume
        timeframe = getattr(source, "timeframe", "")
    else:
        candles = getattr(source, "candles", source)
        if not isinstance(candles, pd.DataFrame):
            raise TypeError("depth_from_volume needs a Heatmap, a MarketData or a candles DataFrame")
        times, close, volume = pd.DatetimeIndex(candles.index), candles["close"], candles["volume"]
        timeframe = getattr(source, "timeframe", "")
    step = None
    if timeframe:
        from core.constants import timeframe_delta

        try:
            step = timeframe_delta(timeframe)
        except ValueError:
            step = None
    return times, np.asarray(close, dtype=float), np.asarray(volume, dtype=float), step


def depth_from_volume(source, factor: float = DEFAULT_DEPTH_FACTOR) -> float:
    """Rough book depth (USD that moves the price 1%) from the window's traded volume; offline only.

    Heuristic: ``factor`` x the median hourly quote volume. Quote volume per candle is
    ``volume * close`` (volume in base units); candles are summed into clock hours, and an hour
    covered only in part (gaps, the window's edges) is scaled up to a full hour; candles longer than
    an hour count at their hourly rate. The default ``factor`` (0.1) assumes that the resting
    orders within 1% of the price are worth about a tenth of what trades in a typical hour. It is a
    rule of thumb for when no order book is at hand, not a measurement; the live order-book depth
    from the data layer replaces it.

    Parameters
    ----------
    source
        A ``Heatmap``, a ``MarketData`` or a candles DataFrame (UTC index; close, volume).
    factor
        Depth as a share of the median hourly quote volume (> 0).

    Returns
    -------
    float
        USD per 1% move; NaN when there is no volume.
    """
    if not factor > 0:
        raise ValueError("factor must be positive")
    times, close, volume, step = _candles_of(source)
    quote = close * volume
    ok = np.isfinite(quote)
    if not ok.any() or len(times) == 0:
        return float("nan")
    if step is None:
        step = _infer_step(times)
    hours = step / pd.Timedelta(hours=1)
    if hours >= 1:
        rates = quote[ok] / hours
    else:
        frame = pd.DataFrame({"quote": quote[ok], "cover": hours}, index=times[ok])
        per_hour = frame.groupby(frame.index.floor("h")).sum()
        rates = (per_hour["quote"] / per_hour["cover"].clip(upper=1.0)).to_numpy()
    rates = rates[rates > 0]
    return float(np.median(rates) * factor) if len(rates) else float("nan")


# --------------------------------------------------------------------------------------------
# Which depth the what-if uses
# --------------------------------------------------------------------------------------------

#: Floor of the offline depth estimate: USD that moves the price 1%, as a share of the open
#: interest. Where volume and open interest come from one market (the bundled Binance Feb 2026
#: crash), ``depth_from_volume`` is about 1.6% of the median open interest; forced orders on one
#: venue are also absorbed by other venues' books through arbitrage, so 2% is used. The floor
#: matters where the window's volume comes from a small market (the bundled Sep 2026 sample's
#: price and volume are bitFlyer's, its open interest OKX's: the volume rule gives $0.4M per 1%
#: against $3.4B of open interest, and any shock would cascade to zero).
DEPTH_OI_SHARE = 0.02
#: Last resort when there is neither volume nor open interest to go by (USD per 1%).
PLACEHOLDER_DEPTH_USD = 10e6


@dataclass(frozen=True)
class DepthEstimate:
    """The book depth the what-if starts from, and where it came from in plain words.

    ``source`` is "order book", "volume", "open interest" or "placeholder".
    """

    usd_per_pct: float
    source: str
    explanation: str


def typical_open_interest(series) -> float:
    """Sum over markets of each one's median open interest (USD); NaN when none is known.

    ``series``: an iterable of open-interest Series (NaN where unknown), one per market.
    """
    medians = [float(s.median()) for s in series if s is not None and s.notna().any()]
    return float(sum(medians)) if medians else float("nan")


def _positive(value) -> bool:
    return value is not None and bool(np.isfinite(value)) and value > 0


def estimate_depth(
    volume_depth: float,
    open_interest_usd: float,
    book_depth: float | None = None,
    oi_share: float = DEPTH_OI_SHARE,
    oi_is_model: bool = False,
) -> DepthEstimate:
    """Choose the depth (USD per 1% move) for the what-if.

    1. The live order book (``book_depth``), when there is one.
    2. Otherwise the larger of ``volume_depth`` (``depth_from_volume``) and the floor
       ``oi_share * open_interest_usd`` (``DEPTH_OI_SHARE``: see there why).
    3. ``PLACEHOLDER_DEPTH_USD`` when neither is known.

    ``oi_is_model``: the open interest is the model's own open positions (no open-interest
    history; the volume proxy), which the explanation says.
    """
    if _positive(book_depth):
        return DepthEstimate(float(book_depth), "order book",
                             "live order book: bids within 1% below the price and asks within 1% above, averaged")
    oi_words = "the model's open positions (no open-interest history)" if oi_is_model else "the median open interest"
    floor = oi_share * open_interest_usd if _positive(open_interest_usd) else float("nan")
    if _positive(volume_depth) and not (_positive(floor) and floor > volume_depth):
        return DepthEstimate(float(volume_depth), "volume",
                             "estimated from traded volume: a tenth of a typical hour's volume rests within 1% of the price")
    if _positive(floor):
        return DepthEstimate(float(floor), "open interest",
                             f"{oi_share:.0%} of {oi_words} ({format_usd(open_interest_usd)}), a floor: the "
                             f"window's volume alone suggests only {format_usd(volume_depth) if _positive(volume_depth) else 'nothing'}")
    return DepthEstimate(PLACEHOLDER_DEPTH_USD, "placeholder",
                         "no volume or open interest to estimate it from: a placeholder, set it yourself")
