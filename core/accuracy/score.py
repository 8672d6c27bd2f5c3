"""How well a heatmap foresaw the liquidations that really happened (``score_against_realized``).

The method is written out for users in ``SCORE_METHOD`` (shown on the app's "How it works" page);
the code below follows it step by step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.constants import candle_length
from core.grid.types import Heatmap

N_DECILES = 10
ZERO_USD = 1e-6  # model densities below a millionth of a dollar count as zero (float residue of sums)

SCORE_METHOD = """\
**How the accuracy score works**

The score asks one question of every liquidation that really happened: *did the map, drawn
before it happened, put that price among its brightest bands?*

1. **No look-ahead.** A liquidation at time *t* is compared with the map as it stood at the close
   of the candle *before* the one containing *t*. Nothing from that candle or later is used.
   Liquidations before the map's second candle, after its last candle, or in a gap between
   candles are skipped and counted.
2. **A fair window.** Only bands whose middle lies within ±10% (the window setting) of that
   candle's close are considered. A liquidation whose band is outside the window (or outside
   the map) is skipped and counted.
3. **Ranking.** Within the window, the bands of the liquidated side (longs for a long that was
   liquidated, shorts for a short) are ranked by the map's USD. The top 10% (the top-share
   setting; at least one band) are the map's "bright" bands.
4. **Hit.** The liquidation is a hit when its band is among the bright bands. **Ties** are shared:
   when its band has the same USD as others across the cut-off, it counts as the fraction of a hit
   that a random tie-break would give on average (for example, a map with no information at
   all scores exactly the top share). This is deterministic: the same inputs give the same score.
5. **Hit share** = realized USD in bright bands / realized USD scored (each liquidation weighted by
   its size).
6. **Lift over a uniform guess** = hit share / top share: 1 means no better than picking bands at
   random, 3 means three times better.
7. **Lift over "distance only"**: the same score for a naive map that only says "liquidations
   are more likely close to the price, longs below it and shorts above it". Lift above 1 means the
   model knows more than distance.
8. **Calibration.** For every liquidation, the bands of its window are sorted into ten groups
   (deciles) by the map's USD, from the dimmest to the brightest; the chart shows what share of
   the realized USD fell in each group, beside the share of the map's own USD there. A useful map
   puts much of the realized USD in its brightest decile.

Caveats: exchanges publish only a sample of their liquidations (about one per second per
symbol), and the realized price is the exchange's fill or bankruptcy price, a little beyond the
liquidation price itself. A realized liquidation from one exchange may be scored against a map
built from another's data.
"""


@dataclass(frozen=True)
class Score:
    """Result of ``score_against_realized`` (see ``SCORE_METHOD``).

    Attributes
    ----------
    hit_share
        Realized USD in the model's top bands / realized USD scored (NaN if nothing was scored).
    baseline_share
        The same for the distance-only baseline.
    lift_uniform
        ``hit_share / top_share``.
    lift_baseline
        ``hit_share / baseline_share`` (NaN if the baseline scored 0).
    uniform_share
        What a model without information scores here (k/n of each window, USD-weighted); equals
        ``top_share`` up to the rounding of k.
    hit_share_long, hit_share_short
        Hit share per liquidated side (NaN where none was scored).
    top_share, window_pct
        The settings used.
    n_realized, n_scored
        Liquidations given, and liquidations scored.
    usd_realized, usd_scored
        Their USD.
    skipped
        (reason, count) pairs for liquidations not scored; counts sum to n_realized - n_scored.
    calibration
        One row per decile of model density (1 = dimmest, 10 = brightest): ``realized_usd``,
        ``realized_share``, ``model_share`` (share of the model's window USD in that decile,
        USD-weighted over liquidations), ``band_share`` (share of the window's bands, about 0.1:
        what a map without information would get).
    per_liquidation
        One row per scored liquidation: side, price, usd, column_time (the map used), close,
        credit (0..1), baseline_credit, decile (1..10, fractional shares spread for ties: the
        decile of the band's mid-rank).
    """

    hit_share: float
    baseline_share: float
    lift_uniform: float
    lift_baseline: float
    uniform_share: float
    hit_share_long: float
    hit_share_short: float
    top_share: float
    window_pct: float
    n_realized: int
    n_scored: int
    usd_realized: float
    usd_scored: float
    skipped: tuple[tuple[str, int], ...]
    calibration: pd.DataFrame = field(compare=False, repr=False)
    per_liquidation: pd.DataFrame = field(compare=False, repr=False)

    @property
    def n_skipped(self) -> int:
        """Liquidations not scored (all reasons)."""
        return sum(count for _, count in self.skipped)

    def skipped_by_reason(self) -> dict[str, int]:
        """``skipped`` as a dict (a fresh copy)."""
        return dict(self.skipped)


# ----------------------------------------------------------------------------------------------
# Pieces


def distance_baseline(price_edges: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The "distance only" map: density falling with distance from each close, on the right side.

    Parameters
    ----------
    price_edges
        Band edges (P+1,), ascending.
    close
        Close of each candle (T,).

    Returns
    -------
    long, short
        (P, T) arrays: ``1 / (1 + |centre - close| / close)`` for bands whose centre is at or below
        the close (longs) or at or above it (shorts), 0 on the other side. Any strictly
        decreasing function of distance ranks the bands the same way, so gives the same score.
    """
    centers = (np.asarray(price_edges, float)[:-1] + np.asarray(price_edges, float)[1:]) / 2
    c = np.asarray(close, float)[None, :]
    density = 1.0 / (1.0 + np.abs(centers[:, None] - c) / c)
    long = np.where(centers[:, None] <= c, density, 0.0)
    short = np.where(centers[:, None] >= c, density, 0.0)
    return long, short


def top_count(n_bands: int, top_share: float) -> int:
    """How many bands are "top": ``round(top_share * n)``, at least 1, at most n."""
    return int(min(n_bands, max(1, round(top_share * n_bands))))


def tie_shared_credit(window: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Credit of bands with density ``values`` for being among the top ``k`` of ``window``.

    With g bands strictly denser and e bands equally dense (itself included), the band occupies
    ranks g..g+e-1 (0 = densest); a random tie-break puts it in the top k with probability
    ``clip((k - g) / e, 0, 1)``, which is the credit.

    Returns
    -------
    credit, g, e
        Arrays shaped like ``values``.
    """
    asc = np.sort(window)
    upper = np.searchsorted(asc, values, side="right")
    lower = np.searchsorted(asc, values, side="left")
    g = len(asc) - upper
    e = np.maximum(upper - lower, 1)
    return np.clip((k - g) / e, 0.0, 1.0), g, e


def decile_bounds(n_bands: int) -> np.ndarray:
    """Rank boundaries (from the densest) of the ten deciles of ``n_bands`` bands, shape (11,)."""
    return np.ceil(np.arange(N_DECILES + 1) * n_bands / N_DECILES).astype(int)


def _decile_weights(g: np.ndarray, e: np.ndarray, n_bands: int) -> np.ndarray:
    """(events, 10) share of each event's ranks g..g+e-1 lying in each decile (densest first)."""
    bounds = decile_bounds(n_bands)
    lo = np.maximum(g[:, None], bounds[None, :-1])
    hi = np.minimum((g + e)[:, None], bounds[None, 1:])
    return np.clip(hi - lo, 0, None) / e[:, None]


def _model_decile_share(window: np.ndarray) -> np.ndarray:
    """Share of the window's model USD in each decile of its bands (densest first), shape (10,)."""
    desc = np.sort(window)[::-1]
    bounds = decile_bounds(len(desc))
    cumulative = np.concatenate([[0.0], np.cumsum(desc)])
    if cumulative[-1] <= 0:
        return np.diff(bounds) / len(desc)
    return (cumulative[bounds[1:]] - cumulative[bounds[:-1]]) / cumulative[-1]


def window_bands(centers: np.ndarray, close: np.ndarray | float, window_pct: float) -> tuple[np.ndarray, np.ndarray]:
    """[a, b): the bands whose centre lies within +-window_pct of ``close`` (vectorised over closes)."""
    half = np.asarray(close, float) * window_pct / 100.0
    return (np.searchsorted(centers, close - half, "left"), np.searchsorted(centers, close + half, "right"))


def _check_inputs(heatmap: Heatmap, realized: pd.DataFrame, top_share: float, window_pct: float) -> None:
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be in (0, 1], not {top_share!r}")
    if not window_pct > 0:
        raise ValueError(f"window_pct must be positive, not {window_pct!r}")
    missing = [c for c in ("side", "price", "usd") if c not in realized.columns]
    if missing:
        raise ValueError(f"realized lacks columns {missing} (use core.accuracy.realized.read_realized)")
    if not isinstance(realized.index, pd.DatetimeIndex):
        raise ValueError("realized needs a DatetimeIndex (UTC time of each liquidation)")
    if len(heatmap.times) == 0 or len(heatmap.price_edges) < 2:
        raise ValueError("the heatmap has no candles or no price bands")
    shape = (len(heatmap.price_edges) - 1, len(heatmap.times))
    if np.shape(heatmap.long) != shape or np.shape(heatmap.short) != shape or len(heatmap.close) != shape[1]:
        raise ValueError(f"heatmap arrays do not match its bands x candles {shape}")


# ----------------------------------------------------------------------------------------------
# Entry point


def score_against_realized(
    heatmap: Heatmap,
    realized: pd.DataFrame,
    top_share: float = 0.10,
    window_pct: float = 10.0,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> Score:
    """Score ``heatmap`` against realized liquidations (method: ``SCORE_METHOD``).

    Parameters
    ----------
    heatmap
        The model's map (``core.grid.Heatmap``); never modified.
    realized
        Realized liquidations (``core.accuracy.realized.read_realized`` shape: UTC index, side, price, usd,
        optional symbol); never modified.
    top_share
        Share of the window's bands that count as the model's top bands.
    window_pct
        Half-width of the price window around the reference close, in percent.
    symbol
        Score only liquidations of this ccxt symbol (rows with an empty symbol are kept).
        Default: the heatmap's symbol if it has one; "" scores every row.
    timeframe
        Candle length; default the heatmap's.

    Returns
    -------
    Score
    """
    _check_inputs(heatmap, realized, top_share, window_pct)
    step = candle_length(timeframe or heatmap.timeframe, heatmap.times).value
    events, skipped = _eligible(heatmap, realized, step, window_pct, heatmap.symbol if symbol is None else symbol)
    scored = _score_events(heatmap, events, top_share, window_pct)
    return _summarise(scored, skipped, len(realized), float(np.nansum(realized["usd"].to_numpy(float))),
                      top_share, window_pct)


def _eligible(heatmap: Heatmap, realized: pd.DataFrame, step: int, window_pct: float, symbol: str
              ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Liquidations that can be scored, with the column (candle) each uses; counts of the rest."""
    starts = pd.DatetimeIndex(heatmap.times).as_unit("ns").asi8
    tau = pd.DatetimeIndex(realized.index).tz_convert("UTC").as_unit("ns").asi8 if realized.index.tz is not None \
        else pd.DatetimeIndex(realized.index).tz_localize("UTC").as_unit("ns").asi8
    price = realized["price"].to_numpy(float)
    usd = realized["usd"].to_numpy(float)
    side = realized["side"].to_numpy(object)
    k = np.searchsorted(starts, tau, side="right") - 1  # candle containing tau (if any)
    in_candle = (k >= 0) & (tau < starts[np.clip(k, 0, None)] + step)
    col = np.clip(k - 1, 0, None)
    edges = np.asarray(heatmap.price_edges, float)
    centers = (edges[:-1] + edges[1:]) / 2
    band = np.searchsorted(edges, price, side="right") - 1
    close = np.asarray(heatmap.close, float)[col]
    lo, hi = window_bands(centers, close, window_pct)
    checks = [
        ("other symbol", _other_symbol(realized, symbol)),
        ("unknown side", ~np.isin(side, ["long", "short"])),
        ("no price (per-minute totals)", ~np.isfinite(price)),
        ("no positive USD size", ~(np.isfinite(usd) & (usd > 0))),
        ("before the map (no earlier candle)", tau < (starts[0] + step if len(starts) else np.iinfo(np.int64).max)),
        ("after the map's last candle", tau >= (starts[-1] + step if len(starts) else np.iinfo(np.int64).min)),
        ("in a gap between candles", ~in_candle),
        ("outside the map's price range", (band < 0) | (band >= len(centers))),
        (f"outside the +-{window_pct:g}% window", (band < lo) | (band >= hi)),
    ]
    remaining = np.ones(len(realized), dtype=bool)
    skipped: dict[str, int] = {}
    for reason, failed in checks:
        hit = remaining & failed
        if (n := int(hit.sum())):
            skipped[reason] = n
        remaining &= ~hit
    events = pd.DataFrame({
        "side": side[remaining], "price": price[remaining], "usd": usd[remaining],
        "col": col[remaining], "band": band[remaining],
    }, index=realized.index[remaining])
    return events, skipped


def _other_symbol(realized: pd.DataFrame, symbol: str) -> np.ndarray:
    if not symbol or "symbol" not in realized.columns:
        return np.zeros(len(realized), dtype=bool)
    values = realized["symbol"].fillna("").astype(str).to_numpy()
    return (values != "") & (values != symbol)


def _score_events(heatmap: Heatmap, events: pd.DataFrame, top_share: float, window_pct: float) -> pd.DataFrame:
    """Credit, baseline credit, uniform expectation and decile weights for every eligible event."""
    edges = np.asarray(heatmap.price_edges, float)
    centers = (edges[:-1] + edges[1:]) / 2
    closes = np.asarray(heatmap.close, float)
    base_long, base_short = distance_baseline(edges, closes)
    model = {"long": np.asarray(heatmap.long, float), "short": np.asarray(heatmap.short, float)}
    baseline = {"long": base_long, "short": base_short}
    n = len(events)
    credit, base_credit, uniform = np.zeros(n), np.zeros(n), np.zeros(n)
    deciles, model_dec, band_dec = (np.zeros((n, N_DECILES)) for _ in range(3))
    positions = pd.Series(np.arange(n)).groupby([events["col"].to_numpy(), events["side"].to_numpy()]).indices
    for (col, side), rows in positions.items():
        a, b = (int(x) for x in window_bands(centers, closes[col], window_pct))
        window = model[side][a:b, col]
        window = np.where(window > ZERO_USD, window, 0.0)
        k = top_count(b - a, top_share)
        values = window[events["band"].to_numpy()[rows] - a]
        credit[rows], g, e = tie_shared_credit(window, values, k)
        base_window = baseline[side][a:b, col]
        base_credit[rows], _, _ = tie_shared_credit(base_window, base_window[events["band"].to_numpy()[rows] - a], k)
        uniform[rows] = k / (b - a)
        deciles[rows] = _decile_weights(g, e, b - a)
        model_dec[rows] = _model_decile_share(window)
        band_dec[rows] = np.diff(decile_bounds(b - a)) / (b - a)
    times = pd.DatetimeIndex(heatmap.times)
    mid_rank = deciles @ np.arange(N_DECILES, 0, -1)  # 10 = densest
    return events.assign(
        column_time=times[events["col"].to_numpy()] if n else pd.DatetimeIndex([], tz="UTC"),
        close=closes[events["col"].to_numpy()] if n else np.array([]),
        credit=credit, baseline_credit=base_credit, uniform=uniform, decile=mid_rank,
    ).assign(**{f"d{q}": deciles[:, q] for q in range(N_DECILES)}, **{f"m{q}": model_dec[:, q] for q in range(N_DECILES)},
              **{f"b{q}": band_dec[:, q] for q in range(N_DECILES)})


def _share(usd: np.ndarray, credit: np.ndarray) -> float:
    total = usd.sum()
    return float((usd * credit).sum() / total) if total > 0 else float("nan")


def _summarise(scored: pd.DataFrame, skipped: dict[str, int], n_realized: int, usd_realized: float,
               top_share: float, window_pct: float) -> Score:
    usd = scored["usd"].to_numpy(float)
    hit = _share(usd, scored["credit"].to_numpy())
    base = _share(usd, scored["baseline_credit"].to_numpy())
    by_side = {s: _share(usd[(m := (scored["side"] == s).to_numpy())], scored["credit"].to_numpy()[m])
               for s in ("long", "short")}
    realized_dec = np.array([(usd * scored[f"d{q}"].to_numpy()).sum() for q in range(N_DECILES)])[::-1]
    model_dec = np.array([(usd * scored[f"m{q}"].to_numpy()).sum() for q in range(N_DECILES)])[::-1]
    band_dec = np.array([(usd * scored[f"b{q}"].to_numpy()).sum() for q in range(N_DECILES)])[::-1]
    total = usd.sum()
    calibration = pd.DataFrame({
        "decile": np.arange(1, N_DECILES + 1),
        "realized_usd": realized_dec,
        "realized_share": realized_dec / total if total > 0 else np.full(N_DECILES, np.nan),
        "model_share": model_dec / total if total > 0 else np.full(N_DECILES, np.nan),
        "band_share": band_dec / total if total > 0 else np.full(N_DECILES, np.nan),
    })
    per_liq = scored[["side", "price", "usd", "column_time", "close", "credit", "baseline_credit", "decile"]].copy()
    return Score(
        hit_share=hit,
        baseline_share=base,
        lift_uniform=hit / top_share if np.isfinite(hit) else float("nan"),
        lift_baseline=hit / base if np.isfinite(hit) and base > 0 else float("nan"),
        uniform_share=_share(usd, scored["uniform"].to_numpy()),
        hit_share_long=by_side["long"],
        hit_share_short=by_side["short"],
        top_share=top_share,
        window_pct=window_pct,
        n_realized=n_realized,
        n_scored=len(scored),
        usd_realized=usd_realized,
        usd_scored=float(total),
        skipped=tuple(skipped.items()),
        calibration=calibration,
        per_liquidation=per_liq,
    )
