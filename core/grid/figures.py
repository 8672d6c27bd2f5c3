"""Figures of one liquidation map: clusters, key levels, USD near the price and its imbalance.

* USD at risk within X % of the price: long USD between ``price * (1 - X/100)`` and the price,
  short USD between the price and ``price * (1 + X/100)``; a band that straddles a window edge
  counts pro rata to its overlap (``near_price_usd``);
* imbalance within X % (``long_short_imbalance``, the one definition every page uses):
  ``(long - short) / (long + short)``, in [-1, 1], 0 when both are 0; positive means more is at
  risk below the price (a fall would liquidate more than a rise), negative more above it;
* the nearest major cluster above and below the price: among the ``n`` largest clusters of
  ``key_levels`` (default 10), the nearest one priced above / below, as a distance in percent of
  the price (positive both ways), with its price and USD; and the USD-weighted mean distance of
  those major clusters (``cluster_mean_distance_pct``).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from core.grid.types import Heatmap, Profile

DEFAULT_WITHIN_PCT: tuple[float, ...] = (2, 5, 10)
MAJOR_CLUSTERS = 10


def as_profile(view: Heatmap | Profile, at: int = -1) -> Profile:
    """A ``Profile`` from a heatmap (at candle ``at``) or a profile (returned as is)."""
    return view.profile(at) if isinstance(view, Heatmap) else view


def _overlap(edges: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Share (0..1) of each band that lies inside [lo, hi]."""
    left = np.maximum(edges[:-1], lo)
    right = np.minimum(edges[1:], hi)
    width = np.diff(edges)
    return np.clip((right - left) / np.where(width > 0, width, 1.0), 0.0, 1.0)


def long_short_imbalance(long_usd: float, short_usd: float) -> float:
    """``(long - short) / (long + short)``: +1 all at risk below the price (longs), -1 all above
    (shorts), 0 balanced or empty. The one imbalance of the app (module docstring)."""
    total = long_usd + short_usd
    return (long_usd - short_usd) / total if total > 0 else 0.0


def near_price_usd(view: Heatmap | Profile, pcts: Iterable[float] = DEFAULT_WITHIN_PCT, at: int = -1) -> pd.DataFrame:
    """USD at risk near the price: longs within X % below it, shorts within X % above it.

    Parameters
    ----------
    view
        A ``Heatmap`` (its column ``at``) or a ``Profile``.
    pcts
        Window half-widths in percent of the price.
    at
        Candle index for a heatmap.

    Returns
    -------
    pd.DataFrame
        Indexed by pct, columns long_usd, short_usd, total_usd, imbalance (see module docstring).
    """
    rows = near_rows(as_profile(view, at), pcts)
    frame = pd.DataFrame(rows, columns=["pct", "long_usd", "short_usd", "total_usd", "imbalance"])
    return frame.set_index("pct")


def near_rows(prof: Profile, pcts: Iterable[float]) -> list[tuple[float, float, float, float, float]]:
    """(pct, long, short, total, imbalance) for each window: ``near_price_usd`` without pandas."""
    rows = []
    for pct in pcts:
        x = float(pct) / 100.0
        if x < 0:
            raise ValueError("window widths must be non-negative percentages")
        long = float(np.dot(prof.long, _overlap(prof.price_edges, prof.price * (1 - x), prof.price)))
        short = float(np.dot(prof.short, _overlap(prof.price_edges, prof.price, prof.price * (1 + x))))
        rows.append((float(pct), long, short, long + short, long_short_imbalance(long, short)))
    return rows


def _top_clusters(prof: Profile, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Price, USD and signed distance (%) of the ``n`` largest clusters (``key_levels``'s rows,
    without building a DataFrame: the sweep calls this once per value)."""
    centers = (prof.price_edges[:-1] + prof.price_edges[1:]) / 2
    found = [(usd[lo : hi + 1], centers[lo : hi + 1], total) for usd in (prof.long, prof.short)
             for lo, hi, total in find_clusters(usd)]
    if not found:
        return np.empty(0), np.empty(0), np.empty(0)
    usd = np.array([t for _, _, t in found])
    order = np.argsort(-usd, kind="stable")[:n]
    price = np.array([float(np.average(c, weights=w)) if t > 0 else float(c[0])
                      for w, c, t in (found[i] for i in order)])  # only the n kept: a profile has hundreds
    return price, usd[order], (price / prof.price - 1.0) * 100.0


def nearest_clusters(view: Heatmap | Profile, n: int = MAJOR_CLUSTERS, at: int = -1) -> dict[str, float]:
    """Distance (%, positive), price and USD of the nearest major cluster above and below the price.

    Major clusters are the ``n`` largest of ``key_levels``. NaN where there is none on a side.
    Also ``cluster_mean_distance_pct``: the USD-weighted mean distance of the major clusters.
    """
    price, usd, distance = _top_clusters(as_profile(view, at), n)
    spread = float(np.average(np.abs(distance), weights=usd)) if usd.sum() > 0 else np.nan
    out: dict[str, float] = {"cluster_mean_distance_pct": spread}
    for name, pick in (("above", distance > 0), ("below", distance < 0)):
        if not pick.any():
            out.update({f"cluster_{name}_pct": np.nan, f"cluster_{name}_price": np.nan, f"cluster_{name}_usd": np.nan})
            continue
        i = np.flatnonzero(pick)[np.argmin(np.abs(distance[pick]))]
        out.update({f"cluster_{name}_pct": float(abs(distance[i])), f"cluster_{name}_price": float(price[i]),
                    f"cluster_{name}_usd": float(usd[i])})
    return out


def map_reach_pct(view: Heatmap | Profile, at: int = -1) -> dict[str, float]:
    """How far the map reaches from the price, in % (both positive): ``above`` to its top edge,
    ``below`` to its bottom edge; the range ``nearest_clusters`` searches ("none within +30%")."""
    prof = as_profile(view, at)
    return {"above": max(float(prof.price_edges[-1]) / prof.price - 1.0, 0.0) * 100.0,
            "below": max(1.0 - float(prof.price_edges[0]) / prof.price, 0.0) * 100.0}


def find_clusters(usd: np.ndarray) -> list[tuple[int, int, float]]:
    """Clusters of one side's profile: (first band, last band, USD), in no particular order.

    A cluster is a local maximum (the left end of a plateau) together with the adjacent bands that
    fall away from it monotonically while holding at least half of its USD (its full width at half
    maximum). Peaks are taken largest first; a band belongs to one cluster only.
    """
    y = np.asarray(usd, dtype="float64")
    p = len(y)
    if p == 0 or not np.any(y > 0):
        return []
    left = np.concatenate(([-np.inf], y[:-1]))
    right = np.concatenate((y[1:], [-np.inf]))
    peaks = np.flatnonzero((y > 0) & (y > left) & (y >= right))
    peaks = peaks[np.argsort(-y[peaks], kind="stable")]
    taken = np.zeros(p, dtype=bool)
    out: list[tuple[int, int, float]] = []
    for b in peaks:  # at most P/2 peaks of a 1-D profile
        if taken[b]:
            continue
        half = y[b] / 2.0
        lo = b
        while lo > 0 and not taken[lo - 1] and half <= y[lo - 1] <= y[lo]:
            lo -= 1
        hi = b
        while hi < p - 1 and not taken[hi + 1] and half <= y[hi + 1] <= y[hi]:
            hi += 1
        taken[lo : hi + 1] = True
        out.append((int(lo), int(hi), float(y[lo : hi + 1].sum())))
    return out


def key_levels(heatmap: "Heatmap | Profile", n: int = 10, at: int = -1) -> pd.DataFrame:
    """The ``n`` largest liquidation clusters at candle ``at``, both sides together.

    A cluster is a local maximum of a side's USD per band plus its adjacent bands down to half its
    height (see ``find_clusters``), so one wide cluster is one row, not several bands.

    Parameters
    ----------
    heatmap
        A ``Heatmap`` (its profile at ``at`` is used) or a ``Profile`` (``at`` ignored).
    n
        How many clusters to return (largest USD first).
    at
        Candle index for a ``Heatmap``.

    Returns
    -------
    pd.DataFrame
        Columns price_low, price_high (band edges of the cluster), price (USD-weighted mean of the
        band centres), side ("long"/"short"), usd, distance_pct (signed, from the profile's price).
    """
    prof = as_profile(heatmap, at)
    edges = prof.price_edges
    centers = (edges[:-1] + edges[1:]) / 2
    rows = []
    for side, usd in (("long", prof.long), ("short", prof.short)):
        for lo, hi, total in find_clusters(usd):
            weights = usd[lo : hi + 1]
            price = float(np.average(centers[lo : hi + 1], weights=weights)) if total > 0 else float(centers[lo])
            rows.append((float(edges[lo]), float(edges[hi + 1]), price, side, total))
    cols = ["price_low", "price_high", "price", "side", "usd", "distance_pct"]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object" if c == "side" else "float64") for c in cols})
    frame = pd.DataFrame(rows, columns=cols[:-1])
    frame["distance_pct"] = (frame["price"] / prof.price - 1.0) * 100.0
    return frame.sort_values("usd", ascending=False, kind="stable").head(n).reset_index(drop=True)
