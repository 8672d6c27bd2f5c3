"""Time the liquidation engine (core.grid.compute_heatmap) against the per-level reference.

Run from the repo root:  python bench/bench_engine.py [--runs 7] [--ref-candles 1000]

(a) the bundled real datasets at 1m, 500 price bands;
(b) a synthetic 30-day 1m market (43,200 candles, price and open interest random walks), 500 bands;
(b2) the same 43,200 candles under the calibrated preset v2 (9 entries x 24 leverages, turnover:
    a level set every candle; ``level_resolution`` 0.001 thins entries on narrow 1m candles) and
    v2 exact (``level_resolution`` 0: 216 levels per candle and side);
(c) the what-if cascade (core.cascade.simulate_cascade, sqrt impact, a -3% shock) on the last
    liquidation map of the bundled Feb 2026 crash (5m, 500 bands): median of 30 runs.

The reference is the brute force of tests/core/grid/test_grid.py (MODEL.md followed literally, one level at
a time, candle by candle), run in the same process on the same inputs. It is far too slow for
43,200 candles, so it runs on the first ``--ref-candles`` candles of each market, where the engine
is timed too; the ratio is reported at that size, and the 43,200-candle figure is the engine alone.

Each engine run drops the previous heatmap first (a 43,200 x 500 grid is 173 MB per side); the
first run also pays for fresh memory (in a VM the first touch of each page is slow), so medians
are over the runs after two warm-up runs.
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

from core.cascade import depth_from_volume, simulate_cascade  # noqa: E402
from core.data.bundled import BUNDLED, load_bundled  # noqa: E402
from core.data.market import MarketData  # noqa: E402
from core.grid import compute_heatmap  # noqa: E402
from core.model import CALIBRATED_V2, ModelParams, model_params  # noqa: E402
from tests.core.grid.test_grid import reference_heatmap  # noqa: E402

BANDS = 500


def synthetic_market(n: int = 43_200, seed: int = 0) -> MarketData:
    """A 1m market of ``n`` candles: BTC-like price random walk with wicks, OI random walk (USD)."""
    rng = np.random.default_rng(seed)
    close = 60_000.0 * np.exp(np.cumsum(rng.normal(0, 0.0007, n)))
    open_ = np.concatenate(([60_000.0], close[:-1]))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.0004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.0004, n)))
    idx = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC")
    candles = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": rng.uniform(50, 500, n)}, index=idx
    )
    oi = pd.Series(5e9 * np.exp(np.cumsum(rng.normal(0, 0.0005, n))), index=idx, name="open_interest")
    return MarketData("synthetic", "BTC/USDT:USDT", "1m", candles, oi, source="upload")


def head(market: MarketData, n: int) -> MarketData:
    """The first ``n`` candles of a market."""
    return replace(market, candles=market.candles.iloc[:n].copy(), open_interest=market.open_interest.iloc[:n].copy())


def time_engine(market: MarketData, params: ModelParams, runs: int) -> tuple[float, list[float]]:
    """Median seconds of ``compute_heatmap`` over ``runs`` runs after two warm-up runs."""
    times = []
    for i in range(runs + 2):
        start = time.perf_counter()
        hm = compute_heatmap(market, params, price_bins=BANDS)
        elapsed = time.perf_counter() - start
        del hm
        if i >= 2:
            times.append(elapsed)
    return statistics.median(times), times


def time_reference(market: MarketData, params: ModelParams) -> float:
    """Seconds of one run of the per-level reference on the engine's own price axis."""
    edges = compute_heatmap(market, params, price_bins=BANDS).price_edges
    start = time.perf_counter()
    reference_heatmap(market, params, edges)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed engine runs per case (median)")
    parser.add_argument("--ref-candles", type=int, default=1000, help="candles for the reference comparison")
    args = parser.parse_args()
    params = ModelParams()

    print(f"engine: compute_heatmap, {BANDS} bands, reference model v1 defaults; median of {args.runs} runs\n")
    print("(a) bundled real data, 1m")
    for key in BUNDLED:
        market = load_bundled(key, "1m")
        med, _ = time_engine(market, params, args.runs)
        small = head(market, args.ref_candles)
        med_small, _ = time_engine(small, params, args.runs)
        ref = time_reference(small, params)
        print(
            f"  {key:22s} {len(market.candles):6d} candles: engine {med * 1e3:7.1f} ms | first {len(small.candles)} "
            f"candles: engine {med_small * 1e3:6.1f} ms, reference {ref:6.2f} s, ratio {ref / med_small:7.0f}x"
        )

    print("\n(b) synthetic 30 days of 1m candles (43,200), OI random walk")
    market = synthetic_market()
    med, runs = time_engine(market, params, args.runs)
    spread = ", ".join(f"{t * 1e3:.0f}" for t in runs)
    print(f"  engine {med * 1e3:7.1f} ms median, {min(runs) * 1e3:.1f} ms best (runs: {spread} ms)")
    print("  (the machine is shared: the best run shows the engine on an idle CPU)")
    for n in (args.ref_candles, 2 * args.ref_candles):
        small = head(market, n)
        med_small, _ = time_engine(small, params, args.runs)
        ref = time_reference(small, params)
        print(
            f"  first {n:5d} candles: engine {med_small * 1e3:6.1f} ms, reference {ref:6.2f} s, "
            f"ratio {ref / med_small:7.0f}x"
        )
    print(
        "  the reference is not run on 43,200 candles: its cost grows with levels x lifetime "
        "(roughly N^2 here), hours rather than seconds"
    )
    print("\n(b2) the same 43,200 candles, calibrated preset v2")
    v2 = model_params(CALIBRATED_V2)
    cases = (("v2 (preset, level_resolution 0.001)", v2), ("v2 exact (level_resolution 0)", replace(v2, level_resolution=0.0)))
    for label, p in cases:
        runs_v2 = max(3, args.runs // 2)
        med, runs = time_engine(market, p, runs_v2)
        print(f"  {label:38s} engine {med * 1e3:7.1f} ms median, {min(runs) * 1e3:.1f} ms best of {runs_v2}")
    print("\n(c) what-if cascade on the last map of btc_2026-02_crash (5m, 500 bands), -3% shock, sqrt impact")
    crash = compute_heatmap(load_bundled("btc_2026-02_crash", "5m"), params, price_bins=BANDS)
    profile, depth = crash.profile(-1), depth_from_volume(crash)
    timings = []
    for _ in range(30):
        start = time.perf_counter()
        simulate_cascade(profile.price_edges, profile.long, profile.short, profile.price, -3.0, depth, "sqrt")
        timings.append(time.perf_counter() - start)
    print(f"  simulate_cascade {statistics.median(timings) * 1e3:6.2f} ms median of 30 (target: under 10 ms)")


if __name__ == "__main__":
    main()
