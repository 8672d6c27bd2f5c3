"""Measured figures the pages quote (How it works), with where they come from.

Each figure is the output of ``bench/scorecard.py`` on ../shared/data (three months of real BTC
hourly liquidations, 2025-12-01 .. 2026-02-28); ``tests/core/accuracy/test_findings.py``
recomputes them from the data and fails when they drift, so the text cannot go stale.
"""

from __future__ import annotations

# (model, part) -> (rho long, rho short, top-5% capture long, top-5% capture short); OI: the hourly
# file's oi_close; fit = the first 60% of the scored hours, held-out = the last 40%.
SPLIT_DATES = {"fit": "11 Dec 2025 – 28 Jan 2026", "held-out": "28 Jan – 28 Feb 2026"}
PER_CANDLE_FIGURES: dict[tuple[str, str], tuple[float, float, float, float]] = {
    ("Reference v1", "fit"): (0.611, 0.579, 0.614, 0.578),
    ("Reference v1", "held-out"): (0.695, 0.569, 0.608, 0.321),
    ("Move x OI baseline", "fit"): (0.700, 0.698, 0.577, 0.583),
    ("Move x OI baseline", "held-out"): (0.797, 0.742, 0.593, 0.299),
    ("Calibrated (v2)", "fit"): (0.798, 0.790, 0.640, 0.635),
    ("Calibrated (v2)", "held-out"): (0.870, 0.819, 0.642, 0.375),
}
PERFECT_HELD_OUT_CAPTURE = (0.665, 0.460)  # realized ranking itself, held-out part

# Magnets, every hour after the warm-up, Binance 5m OI: "larger cluster reached before a control
# level at the same distance on the other side": (wins, decided, share, 95% Wilson low, high).
MAGNETS_VS_CONTROL: dict[str, tuple[int, int, float, float, float]] = {
    "Reference v1": (818, 1061, 0.771, 0.745, 0.795),
    "Calibrated (v2)": (694, 1263, 0.549, 0.522, 0.577),
}

MAGNETS_READING = (
    "Under reference v1 the larger cluster is reached before an equally distant control level on the other side "
    "in {v1[2]:.0%} of decided hours (95% CI {v1[3]:.0%}–{v1[4]:.0%}); under the calibrated v2, whose map ranks "
    "liquidation hours far better, only {v2[2]:.0%} ({v2[3]:.0%}–{v2[4]:.0%}), close to the coin flip of 50%. "
    "So the seed claim that price is pulled toward big clusters is not supported: under v1 the 'larger' cluster "
    "is mostly the nearer one, which price reaches first anyway. The hours overlap (one week horizon, every hour), "
    "so the intervals are too narrow; one hour a day gives the same picture with wider intervals."
).format(v1=MAGNETS_VS_CONTROL["Reference v1"], v2=MAGNETS_VS_CONTROL["Calibrated (v2)"])
