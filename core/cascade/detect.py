"""Cascade detection for the replay: windows of a heatmap where the model's liquidated notional and
the price move both spike, merged into episodes and ranked by size. The rule is written out in
``CASCADE_RULE`` (the app shows it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.constants import candle_length
from core.format import format_usd


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
    step = candle_length("", idx) if step is None else pd.Timedelta(step)
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
    rule.setdefault("step", candle_length(getattr(heatmap, "timeframe", ""), heatmap.times))
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
