"""Time the leverage-sensitivity page: a slider change and a 21-value sweep, server side.

Run from the repo root:  python bench/bench_sensitivity.py [--runs 7]

Markets: the bundled 3-day sample (btc_2026-09, 5m, 858 candles) and a synthetic 7-day 5m market
(2,016 candles; price and open interest as random walks with a daily rhythm in volume).

(a) Core calls of one redraw after a slider change, exactly what the page runs when nothing it
    needs is cached except the default model's heatmap: the chosen heatmap on the shared axis,
    the summary deltas, the shared-scale rasters, the difference raster, every chart built and
    serialised to Vega-Lite JSON (what Streamlit sends), and the sweep of the selected assumption
    (its cache key includes the assumptions, so a slider change recomputes it).
(b) The sweep alone: 21 values of the 100x tier's share, and of the decay half-life.
(c) AppTest: a rerun of the page after moving the 100x slider (the page only; app.py is not
    re-executed on an AppTest rerun), the 7-day market given as an "uploaded" market.

Each figure is the median of ``--runs`` runs after one warm-up run; a different slider value each
run keeps the caches cold for the chosen assumptions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.charts import default_view_range  # noqa: E402
from core.data.bundled import load_bundled  # noqa: E402
from core.data.market import MarketData  # noqa: E402
from core.grid import comparison_axis, comparison_bins, compute_heatmap, summary_deltas, sweep  # noqa: E402
from core.model import ModelParams  # noqa: E402
from core.charts import (
    compared_heatmap_chart,
    difference_cells,
    difference_chart,
    difference_legend,
    difference_raster,
    hover_cells,
    profile_comparison_chart,
    shared_legend,
    shared_rasters,
    sweep_chart,
)
from core.sensitivity_state import SensitivityState  # noqa: E402
from core.sensitivity_sweeps import SWEEPS, current_value, sweep_values  # noqa: E402


def week_of_5m(seed: int = 7) -> MarketData:
    """A synthetic 7-day 5m BTC market: log-price random walk, OI drifting with noise."""
    n = 7 * 24 * 12
    rng = np.random.default_rng(seed)
    steps = rng.standard_t(df=4, size=n) * 0.0012
    close = 84_000.0 * np.exp(np.cumsum(steps))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0.0, 0.0008, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    hours = np.arange(n) / 12.0
    volume = 40.0 * (1.5 + np.sin(hours / 24.0 * 2 * np.pi)) * rng.lognormal(0.0, 0.4, n)
    index = pd.date_range("2026-03-02", periods=n, freq="5min", tz="UTC")
    candles = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index)
    oi = pd.Series(7e9 * np.exp(np.cumsum(rng.normal(0.00002, 0.0015, n))), index=index)
    return MarketData("binanceusdm", "BTC/USDT:USDT", "5m", candles, oi, source="upload")


def median_seconds(fn, runs: int) -> float:
    """Median wall time of ``fn(i)`` over ``runs`` runs after one warm-up (i = 0..runs)."""
    fn(-1)
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def redraw(market: MarketData, default_hm, axis, bins: int, state: SensitivityState, with_sweep: bool = True) -> None:
    """Everything the page computes after a slider change (default heatmap already cached);
    ``with_sweep=False`` leaves out the sweep (its section only)."""
    params = state.to_model()
    chosen = compute_heatmap(market, params, price_bins=bins, price_range=axis)
    deltas = summary_deltas(default_hm, chosen)
    view = default_view_range(default_hm)
    rasters = shared_rasters([default_hm, chosen], "both", view, max_cols=440, max_rows=320)
    diff = difference_raster(chosen, default_hm, "both", view, max_cols=440, max_rows=320)
    cells = [hover_cells(hm, view) for hm in (default_hm, chosen)]
    charts = [compared_heatmap_chart(hm, r, c, 440, 320) for hm, r, c in zip((default_hm, chosen), rasters, cells)]
    charts += [difference_chart(chosen, diff, difference_cells(cells[1], cells[0]), 440, 320),
               profile_comparison_chart(chosen.profile(), default_hm.profile(), view, 380, 320),
               shared_legend(rasters[0].vmax, 440), difference_legend(diff.vmax, 440)]
    if with_sweep:
        frame = sweep(market, params, SWEEPS[state.sw].field, sweep_values(state.sw, params), (state.sx,), bins, axis)
        charts.append(sweep_chart(frame, SWEEPS[state.sw], current_value(state.sw, params), state.sx))
    for chart in charts:
        json.dumps(chart.to_dict())
    assert len(deltas)


def bench_market(name: str, market: MarketData, runs: int) -> dict[str, float]:
    """(a) and (b) for one market."""
    axis = comparison_axis([market])
    bins = comparison_bins(len(market.candles))
    default_hm = compute_heatmap(market, ModelParams(), price_bins=bins, price_range=axis)
    out = {
        "redraw after a slider change (all)": median_seconds(
            lambda i: redraw(market, default_hm, axis, bins, SensitivityState(w100=41 + i)), runs),
        "  of which pictures and metrics": median_seconds(
            lambda i: redraw(market, default_hm, axis, bins, SensitivityState(w100=61 + i), False), runs),
        "sweep, 21 values of the 100x share": median_seconds(
            lambda i: sweep(market, replace(ModelParams(), long_share=0.4 + 0.01 * i), "weight_100x",
                            SWEEPS["w100"].values, (5.0,), bins, axis), runs),
        "sweep, 21 values of the decay half-life": median_seconds(
            lambda i: sweep(market, replace(ModelParams(), long_share=0.4 + 0.01 * i), "decay_half_life",
                            SWEEPS["decay"].values, (5.0,), bins, axis), runs),
    }
    print(f"\n{name}: {len(market.candles)} candles, {bins} price bands")
    for label, seconds in out.items():
        print(f"  {label:<42} median {seconds * 1000:7.0f} ms")
    return out


def bench_apptest(market: MarketData | None, runs: int) -> float:
    """(c) Median AppTest rerun after moving the 100x slider."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    if market is None:
        at.query_params["src"] = "btc_2026-09"
    else:
        at.query_params["src"] = "upload"
        at.session_state["upload_market"] = market
    at.run()
    at.switch_page("app_pages/sensitivity.py").run()
    assert not at.exception, [e.message for e in at.exception]

    def move(i: int) -> None:
        at.slider(key="sensitivity_w100").set_value(50 + i).run()
        assert not at.exception

    return median_seconds(move, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sample = load_bundled("btc_2026-09", "5m")
    week = week_of_5m()
    bench_market("Bundled 3-day sample (btc_2026-09, 5m)", sample, args.runs)
    bench_market("Synthetic 7 days of 5m", week, args.runs)
    print("\nAppTest rerun of the page after a slider change (includes AppTest's own overhead):")
    for label, market in (("3-day sample", None), ("7 days of 5m", week)):
        print(f"  {label:<42} median {bench_apptest(market, args.runs) * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
