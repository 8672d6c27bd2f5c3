"""Refit model v2 on the three-month hourly set and time it (issue 13, item 4).

    python bench/bench_calibrate.py        (from the repo root; reads ../shared/data in place)

Fits the ladder median/sigma, turnover and same-candle share on the first 60% of the scored hours
(``core.accuracy.calibrate``) and prints the fitted values, both scorecards, the starting preset's
held-out scorecard and the time it took. The preset "Calibrated (v2)" ships median 10, sigma 1.0,
turnover 0.1/h, same-candle share 0.25.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.scorecard import hourly_market, print_card  # noqa: E402
from core.accuracy.calibrate import calibrate  # noqa: E402


def main() -> None:
    market, realized = hourly_market("file")
    t0 = time.perf_counter()
    result = calibrate(market, realized)
    took = time.perf_counter() - t0
    print(f"Fitted on {len(market.candles)} hourly candles in {took:.1f} s ({result.evaluations} model runs):")
    print("  " + ", ".join(f"{k} {v:.3g}" for k, v in result.values.items()))
    print_card("Fitted model, fit part", result.fit)
    print_card("Fitted model, held-out part", result.held_out)
    print_card("Starting preset (Calibrated (v2)), held-out part", result.start_held_out)


if __name__ == "__main__":
    main()
