"""Score the reference model v1 against the real liquidations of the 2024-03-05 cascade.

    python bench/score_2024_03_05.py            (from the repo root)

Market: the bundled Binance BTCUSDT perpetual 1m candles of 2024-03-05 05:55 to 03-06 00:07 UTC
(no open-interest history exists for that day: the model runs on its volume proxy). Realized:
1,411 real Bybit BTCUSDT liquidation orders, read in place from ../shared/data (never copied).
The map is Binance-based and the liquidations are Bybit's: a cross-exchange test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.data.bundled import load_bundled  # noqa: E402
from core.grid import compute_heatmap  # noqa: E402
from core.model import ModelParams  # noqa: E402
from core.accuracy import Score, read_realized, score_against_realized  # noqa: E402

ORDERS = REPO.parent / "shared" / "data" / "btc_2024-03-05_cascade" / "bybit_btcusdt_liquidation_orders.csv"


def run(top_share: float = 0.10, window_pct: float = 10.0, price_bins: int = 500) -> Score:
    """The score of the default model on the cascade (the figures this script prints)."""
    market = load_bundled("btc_2024-03-05_crash", "1m")
    heatmap = compute_heatmap(market, ModelParams(), price_bins=price_bins)
    realized = read_realized(ORDERS, symbol="BTC/USDT:USDT")
    return score_against_realized(heatmap, realized, top_share=top_share, window_pct=window_pct)


def report(score: Score) -> str:
    """Plain-text summary of a score."""
    lines = [
        f"top share {score.top_share:.0%}, window +-{score.window_pct:g}%",
        f"  scored {score.n_scored:,} of {score.n_realized:,} liquidations "
        f"(${score.usd_scored:,.0f} of ${score.usd_realized:,.0f}); skipped: {score.skipped_by_reason() or 'none'}",
        f"  hit share {score.hit_share:.3f} (longs {score.hit_share_long:.3f}, shorts {score.hit_share_short:.3f}); "
        f"uniform {score.uniform_share:.3f}; distance-only baseline {score.baseline_share:.3f}",
        f"  lift over uniform {score.lift_uniform:.2f}; lift over distance-only {score.lift_baseline:.2f}",
    ]
    return "\n".join(lines)


def main() -> None:
    start = time.perf_counter()
    main_score = run()
    print(report(main_score))
    print("  calibration (decile 10 = the map's brightest bands):")
    print(main_score.calibration.round(4).to_string(index=False))
    for top_share, window in ((0.05, 10.0), (0.20, 10.0), (0.10, 5.0)):
        print(report(run(top_share, window)))
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
