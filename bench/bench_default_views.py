"""Time the app's default views under reference v1 and the calibrated v2 (the default model).

Run from the repo root:  python bench/bench_default_views.py [--runs 5]

Views (500 price bands, as ``ui.cache.heatmap``; 7 days of model memory where the data has it):
the bundled samples at their default timeframes (3 quiet days at 5m, the Feb 2026 crash at 1m and
5m), and a synthetic 7-day 1m window (10,080 candles) with 7 days of memory, both as live data
supplies it (memory at 1h: 168 candles) and at 1m (10,080 more candles, the worst case).
Prints the median of ``--runs`` runs after one warm-up run, server-side compute only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_engine import synthetic_market  # noqa: E402
from core.data.bundled import load_bundled  # noqa: E402
from core.data.market import MarketData  # noqa: E402
from core.grid import compute_heatmap  # noqa: E402
from core.model import CALIBRATED_V2, REFERENCE_V1, model_params  # noqa: E402

BANDS = 500
MEMORY = pd.Timedelta(days=7)


def with_hourly_memory(window: MarketData, hours: int = 168, seed: int = 1) -> MarketData:
    """``window`` preceded by ``hours`` 1h candles (what live data fetches for a 1m window's memory)."""
    rng = np.random.default_rng(seed)
    first = window.candles.index[0]
    idx = pd.date_range(end=first - pd.Timedelta(hours=1), periods=hours, freq="1h")
    start = float(window.candles["open"].iloc[0])
    close = start * np.exp(np.cumsum(rng.normal(0, 0.005, hours))[::-1] - np.cumsum(rng.normal(0, 0.005, hours))[-1])
    open_ = np.concatenate(([close[0]], close[:-1]))
    hist = pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.002,
                         "low": np.minimum(open_, close) * 0.998, "close": close,
                         "volume": rng.uniform(1e3, 5e3, hours)}, index=idx)
    oi0 = float(window.open_interest.iloc[0])
    oi = pd.Series(oi0 * np.exp(np.cumsum(rng.normal(0, 0.003, hours)) * 0.1), index=idx)
    return replace(window, candles=pd.concat([hist, window.candles]),
                   open_interest=pd.concat([oi, window.open_interest]).rename(window.open_interest.name),
                   window_start=first)


def views() -> dict[str, MarketData]:
    """Name -> market of each default view."""
    out = {
        "sample 3 quiet days, 5m (3d)": load_bundled("btc_2026-09", "5m", "3d", memory=MEMORY),
        "sample Feb 2026 crash, 5m (3d)": load_bundled("btc_2026-02_crash", "5m", "3d", memory=MEMORY),
        "sample Feb 2026 crash, 1m (24h)": load_bundled("btc_2026-02_crash", "1m", "24h", memory=MEMORY),
    }
    week = synthetic_market(10_080)
    out["7d 1m + 7d memory at 1h (live)"] = with_hourly_memory(week)
    both = synthetic_market(20_160)
    out["7d 1m + 7d memory at 1m (worst)"] = replace(both, window_start=both.candles.index[10_080])
    return out


def median_time(market: MarketData, params, runs: int) -> float:
    compute_heatmap(market, params, price_bins=BANDS)  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        compute_heatmap(market, params, price_bins=BANDS)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    models = {"v1": model_params(REFERENCE_V1), "v2": model_params(CALIBRATED_V2),
              "v2 exact": model_params(CALIBRATED_V2, level_resolution=0.0)}
    print(f"{'view':36s} {'candles':>8s} " + " ".join(f"{k:>9s}" for k in models))
    for name, market in views().items():
        cells = [f"{median_time(market, p, args.runs):8.3f}s" for p in models.values()]
        print(f"{name:36s} {len(market.candles):8,d} " + " ".join(f"{c:>9s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
