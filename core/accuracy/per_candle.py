"""The per-candle score: does the model say *when* liquidations happen, candle by candle?

For every candle the model says how much USD of each side it liquidated
(``Heatmap.liquidated_long/short``: the levels that price traded through in that candle). Real
exchanges publish how much they did liquidate (per-candle totals such as CoinGlass's hourly
history, or single orders binned to candles, see ``core.accuracy.realized_candles``). Two numbers
per side compare the two series over time:

* **Spearman rank correlation** (rho): the Pearson correlation of the two series' ranks, ties
  given their average rank (the textbook definition, e.g. Spearman 1904; Kendall & Gibbons, *Rank
  Correlation Methods*). 1 means the model orders the candles exactly as reality does; 0 means no
  relation. Ranks make the dollar scale irrelevant, which matters because the realized totals come
  from several exchanges while the model sees one exchange's open interest.
* **Top-5% capture**: the share of the realized USD that fell in the model's top 5% candles
  (``ceil(0.05 * n)`` candles; candles tied at the boundary share the remaining places equally,
  so the score does not depend on their order). A signal that knows nothing captures 5% on average.

Both are also given for two baselines, so the model has to earn its complexity:

* **move x open interest**: long = max(0, prev_close - low) / prev_close x OI_prev, short =
  max(0, high - prev_close) / prev_close x OI_prev (how far price moved against each side, times
  the open interest at the previous close: no positions, no leverage, no memory);
* **uniform**: the same value for every candle (rho is undefined, reported as NaN; capture is
  exactly the top share: the floor).

Which candles are scored: the first ``warmup`` (7 days by default) are skipped, because the model
starts empty and needs time to accumulate positions; candles where nothing at all was liquidated
(long + short = 0, usually a gap in the recording) are left out. "Pooled" ranks both sides' candles
together (2n pairs). A signal value that is NaN counts as 0 (no signal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_WARMUP = pd.Timedelta(days=7)
DEFAULT_TOP_SHARE = 0.05
DEFAULT_FIT_SHARE = 0.6


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values``, tied values sharing the average of their ranks (float64)."""
    x = np.asarray(values, dtype="float64")
    n = len(x)
    if n == 0:
        return np.zeros(0)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.flatnonzero(np.concatenate(([True], xs[1:] != xs[:-1])))
    ends = np.concatenate((starts[1:], [n]))  # exclusive
    mean_rank = (starts + 1 + ends) / 2.0  # average of ranks starts+1 .. ends
    ranks = np.empty(n)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of two equally long series (average ranks for ties).

    NaN when fewer than two pairs or when either series is constant (rho is undefined then).
    """
    a = np.asarray(x, dtype="float64")
    b = np.asarray(y, dtype="float64")
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("spearman needs two 1-D series of the same length")
    if len(a) < 2 or np.any(~np.isfinite(a)) or np.any(~np.isfinite(b)):
        if len(a) >= 2:
            raise ValueError("spearman needs finite values")
        return math.nan
    ra, rb = average_ranks(a), average_ranks(b)
    da, db = ra - ra.mean(), rb - rb.mean()
    denom = math.sqrt(float(da @ da) * float(db @ db))
    if denom == 0.0:
        return math.nan
    return float(np.clip((da @ db) / denom, -1.0, 1.0))


def top_capture(signal: np.ndarray, realized: np.ndarray, top_share: float = DEFAULT_TOP_SHARE) -> float:
    """Share of the realized USD that fell in the signal's top ``top_share`` candles.

    ``k = ceil(top_share * n)`` candles are taken, largest signal first. Candles tied with the
    k-th value share the places left after the strictly larger ones equally (each gets credit
    ``places / tied``), so the result does not depend on the order of ties. NaN when nothing was
    realized.
    """
    s = np.asarray(signal, dtype="float64")
    r = np.asarray(realized, dtype="float64")
    if s.shape != r.shape or s.ndim != 1:
        raise ValueError("top_capture needs two 1-D series of the same length")
    if not 0.0 < top_share <= 1.0:
        raise ValueError("top_share must lie in (0, 1]")
    total = float(r.sum())
    if len(s) == 0 or total <= 0:
        return math.nan
    k = min(len(s), math.ceil(top_share * len(s) - 1e-9))
    kth = np.sort(s)[::-1][k - 1]
    above = s > kth
    tied = s == kth
    credit = above.astype("float64")
    credit[tied] = (k - int(above.sum())) / int(tied.sum())
    return float((credit * r).sum() / total)


def move_oi_baseline(
    close: np.ndarray, high: np.ndarray, low: np.ndarray, open_interest: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The naive move x open interest signal per candle: (long, short).

    long_t = max(0, close_{t-1} - low_t) / close_{t-1} x OI_{t-1};
    short_t = max(0, high_t - close_{t-1}) / close_{t-1} x OI_{t-1}.
    The previous row is the previous candle given (a gap is not bridged by anything smarter).
    0 for the first candle and where the previous close or open interest is unknown.
    """
    c, h, lo, oi = (np.asarray(v, dtype="float64") for v in (close, high, low, open_interest))
    n = len(c)
    if not len(h) == len(lo) == len(oi) == n:
        raise ValueError("close, high, low and open interest must be equally long")
    prev_c = np.concatenate(([np.nan], c[:-1]))[:n]
    prev_oi = np.concatenate(([np.nan], oi[:-1]))[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        long = np.maximum(0.0, prev_c - lo) / prev_c * prev_oi
        short = np.maximum(0.0, h - prev_c) / prev_c * prev_oi
    ok = np.isfinite(prev_c) & (prev_c > 0) & np.isfinite(prev_oi)
    return np.where(ok & np.isfinite(long), long, 0.0), np.where(ok & np.isfinite(short), short, 0.0)


def scored_mask(
    times: pd.DatetimeIndex,
    realized_long: np.ndarray,
    realized_short: np.ndarray,
    warmup: pd.Timedelta = DEFAULT_WARMUP,
) -> np.ndarray:
    """Candles that are scored: at or after ``times[0] + warmup``, with some realized liquidation."""
    t = pd.DatetimeIndex(times)
    rl = np.asarray(realized_long, dtype="float64")
    rs = np.asarray(realized_short, dtype="float64")
    if not len(t) == len(rl) == len(rs):
        raise ValueError("times and realized series must be equally long")
    if len(t) == 0:
        return np.zeros(0, dtype=bool)
    total = np.nan_to_num(rl) + np.nan_to_num(rs)
    return np.asarray(t >= t[0] + pd.Timedelta(warmup)) & (total > 0)


def time_split(mask: np.ndarray, fit_share: float = DEFAULT_FIT_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Split the scored candles in time: the first ``fit_share`` of them, and the rest (held out)."""
    m = np.asarray(mask, dtype=bool)
    if not 0.0 < fit_share < 1.0:
        raise ValueError("fit_share must lie in (0, 1)")
    pos = np.flatnonzero(m)
    cut = int(math.floor(fit_share * len(pos)))
    fit = np.zeros_like(m)
    fit[pos[:cut]] = True
    return fit, m & ~fit


@dataclass(frozen=True)
class SignalScore:
    """How well one signal ranks the scored candles (see the module docstring)."""

    name: str
    rho_long: float
    rho_short: float
    rho_pooled: float
    capture_long: float
    capture_short: float


@dataclass(frozen=True)
class PerCandleScorecard:
    """The per-candle score of the model and the two baselines over the scored candles.

    ``n_scored`` candles were scored; ``n_warmup`` skipped as warm-up and ``n_quiet`` (after the
    warm-up) left out because nothing was liquidated; ``n_excluded`` were outside the mask given.
    """

    model: SignalScore
    move_oi: SignalScore
    uniform: SignalScore
    n_scored: int
    n_warmup: int
    n_quiet: int
    n_excluded: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    realized_long_usd: float
    realized_short_usd: float
    top_share: float
    warmup: pd.Timedelta

    @property
    def signals(self) -> tuple[SignalScore, ...]:
        """Model, move x OI baseline, uniform baseline, in that order."""
        return (self.model, self.move_oi, self.uniform)

    def table(self) -> pd.DataFrame:
        """One row per signal: rho long/short/pooled and top capture long/short."""
        return pd.DataFrame(
            [
                {
                    "signal": s.name,
                    "rho_long": s.rho_long,
                    "rho_short": s.rho_short,
                    "rho_pooled": s.rho_pooled,
                    "capture_long": s.capture_long,
                    "capture_short": s.capture_short,
                }
                for s in self.signals
            ]
        ).set_index("signal")


def score_signal(
    name: str,
    signal_long: np.ndarray,
    signal_short: np.ndarray,
    realized_long: np.ndarray,
    realized_short: np.ndarray,
    top_share: float = DEFAULT_TOP_SHARE,
) -> SignalScore:
    """Rho per side and pooled, top capture per side, of one signal on already selected candles."""
    sl, ss = (np.nan_to_num(np.asarray(v, dtype="float64"), nan=0.0) for v in (signal_long, signal_short))
    rl, rs = (np.nan_to_num(np.asarray(v, dtype="float64"), nan=0.0) for v in (realized_long, realized_short))
    return SignalScore(
        name=name,
        rho_long=spearman(sl, rl),
        rho_short=spearman(ss, rs),
        rho_pooled=spearman(np.concatenate((sl, ss)), np.concatenate((rl, rs))),
        capture_long=top_capture(sl, rl, top_share),
        capture_short=top_capture(ss, rs, top_share),
    )


def score_per_candle(
    times: pd.DatetimeIndex,
    model_long: np.ndarray,
    model_short: np.ndarray,
    realized_long: np.ndarray,
    realized_short: np.ndarray,
    close: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    open_interest: np.ndarray,
    warmup: pd.Timedelta = DEFAULT_WARMUP,
    top_share: float = DEFAULT_TOP_SHARE,
    mask: np.ndarray | None = None,
) -> PerCandleScorecard:
    """The per-candle scorecard of the model against realized liquidations and both baselines.

    Parameters
    ----------
    times
        Candle open times (T,), ascending.
    model_long, model_short
        The model's liquidated USD per candle (``Heatmap.liquidated_long/short``).
    realized_long, realized_short
        Realized USD per candle (``core.accuracy.realized_candles``).
    close, high, low, open_interest
        The candles and open interest at each close (USD), for the move x OI baseline.
    warmup
        Span at the start that is not scored.
    top_share
        Share of candles taken for the top capture (0.05).
    mask
        Optional extra selection (T,) of candles (e.g. one part of a time split); it is combined
        with the warm-up and the no-liquidation rule.
    """
    t = pd.DatetimeIndex(times)
    n = len(t)
    arrays = [np.asarray(v, dtype="float64") for v in (model_long, model_short, realized_long, realized_short)]
    if any(len(a) != n for a in arrays):
        raise ValueError("every per-candle series must have one value per candle")
    ml, ms, rl, rs = arrays
    base_long, base_short = move_oi_baseline(close, high, low, open_interest)
    after_warmup = np.asarray(t >= t[0] + pd.Timedelta(warmup)) if n else np.zeros(0, dtype=bool)
    keep = scored_mask(t, rl, rs, warmup)
    extra = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if len(extra) != n:
        raise ValueError("mask must have one value per candle")
    sel = keep & extra
    rl_s, rs_s = np.nan_to_num(rl[sel]), np.nan_to_num(rs[sel])
    uniform = np.ones(int(sel.sum()))
    return PerCandleScorecard(
        model=score_signal("model", ml[sel], ms[sel], rl_s, rs_s, top_share),
        move_oi=score_signal("move x OI", base_long[sel], base_short[sel], rl_s, rs_s, top_share),
        uniform=score_signal("uniform", uniform, uniform, rl_s, rs_s, top_share),
        n_scored=int(sel.sum()),
        n_warmup=int((~after_warmup).sum()),
        n_quiet=int((after_warmup & ~keep).sum()),
        n_excluded=int((keep & ~extra).sum()),
        first=t[sel][0] if sel.any() else None,
        last=t[sel][-1] if sel.any() else None,
        realized_long_usd=float(rl_s.sum()),
        realized_short_usd=float(rs_s.sum()),
        top_share=float(top_share),
        warmup=pd.Timedelta(warmup),
    )


def score_heatmap(
    heatmap: object,
    realized: pd.DataFrame,
    open_interest: np.ndarray,
    warmup: pd.Timedelta = DEFAULT_WARMUP,
    top_share: float = DEFAULT_TOP_SHARE,
    mask: np.ndarray | None = None,
) -> PerCandleScorecard:
    """``score_per_candle`` for a ``Heatmap`` and realized USD per candle on its candles.

    ``realized`` has columns ``long_usd`` and ``short_usd`` on the heatmap's candle times (missing
    candles count as nothing realized); ``open_interest`` is the market's OI at each close (USD).
    """
    times = pd.DatetimeIndex(heatmap.times)
    per = realized.reindex(times)
    return score_per_candle(
        times,
        heatmap.liquidated_long,
        heatmap.liquidated_short,
        per["long_usd"].to_numpy(dtype="float64", na_value=0.0),
        per["short_usd"].to_numpy(dtype="float64", na_value=0.0),
        heatmap.close,
        heatmap.high,
        heatmap.low,
        open_interest,
        warmup=warmup,
        top_share=top_share,
        mask=mask,
    )


def candle_table(
    times: pd.DatetimeIndex,
    model_long: np.ndarray,
    model_short: np.ndarray,
    realized_long: np.ndarray,
    realized_short: np.ndarray,
    close: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    open_interest: np.ndarray,
) -> pd.DataFrame:
    """Model, realized and move x OI baseline USD per candle and side (for the per-candle chart).

    Columns ``model_long``, ``model_short``, ``realized_long``, ``realized_short``,
    ``baseline_long``, ``baseline_short`` on the candle times.
    """
    base_long, base_short = move_oi_baseline(close, high, low, open_interest)
    cols = {
        "model_long": model_long, "model_short": model_short,
        "realized_long": realized_long, "realized_short": realized_short,
        "baseline_long": base_long, "baseline_short": base_short,
    }
    return pd.DataFrame({k: np.asarray(v, dtype="float64") for k, v in cols.items()}, index=pd.DatetimeIndex(times))


def biggest_misses(table: pd.DataFrame, mask: np.ndarray, n: int = 10) -> pd.DataFrame:
    """The ``n`` scored candle-sides the model ranked furthest below where reality put them.

    Within the scored candles (``mask``), each side's model and realized values become percentile
    ranks (average ranks / count); the miss is realized percentile minus model percentile (1 = the
    biggest realized candle that the model thought the quietest). Columns time, side, realized_usd,
    model_usd, miss; largest miss first (ties: larger realized USD first).
    """
    m = np.asarray(mask, dtype=bool)
    rows = []
    for side in ("long", "short"):
        realized = np.nan_to_num(table[f"realized_{side}"].to_numpy(dtype="float64")[m])
        model = np.nan_to_num(table[f"model_{side}"].to_numpy(dtype="float64")[m])
        if len(realized) == 0:
            continue
        miss = (average_ranks(realized) - average_ranks(model)) / len(realized)
        rows.append(pd.DataFrame({"time": table.index[m], "side": side, "realized_usd": realized,
                                  "model_usd": model, "miss": miss}))
    if not rows:
        return pd.DataFrame(columns=["time", "side", "realized_usd", "model_usd", "miss"])
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["miss", "realized_usd"], ascending=[False, False], kind="stable").head(n).reset_index(drop=True)
