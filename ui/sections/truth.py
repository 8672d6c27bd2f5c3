"""How it works, the truth sections: the per-candle score in plain words, model v2 and the
calibrated preset with its provenance, and the magnets test with its interval (issue 13).
The figures come from core.accuracy.findings (re-measured by its test)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.accuracy.findings import (
    MAGNETS_READING,
    MAGNETS_VS_CONTROL,
    PER_CANDLE_FIGURES,
    PERFECT_HELD_OUT_CAPTURE,
    SPLIT_DATES,
)
from core.model import CALIBRATED_V2, DEFAULT_PRESET, PRESET_PROVENANCE, REFERENCE_V1

SCORE_WORDS = """
For every hour the model says how much of each side it liquidated: the positions whose liquidation price was
traded through in that hour. Exchanges publish how much they really liquidated per hour (CoinGlass collects it
across exchanges). We compare the two series **hour by hour**:

- **ρ (Spearman rank correlation)**: sort the hours by the model's amount and by the real amount; 1 means the
  same order, 0 no relation. Ranks ignore the dollar scale, which differs (the model sees one exchange's open
  interest, the realized totals cover several).
- **Top 5%**: the share of the real liquidated USD that fell in the model's 5% biggest hours (a blind guess gets 5%).

The model must beat a naive **move x open interest** baseline (how far price moved against each side times the
open interest, nothing else). The first week is skipped (the model starts empty) and the test is **honest in
time**: values were fitted on the first 60% of the hours only and checked on the last 40%, which the fit never saw.
"""

V2_WORDS = """
Model v2 keeps every formula of v1 and adds four options, each off in the reference model:

1. **Entries across the candle's range**: new positions are spread over nine prices from the candle's low to its
   high instead of one typical price.
2. **A leverage ladder up to the exchange's maximum**: 24 leverages from 2x to 125x (Binance's BTC limit), weighted
   like a bell curve in log scale around 10x, instead of five tiers.
3. **Turnover**: every hour 10% of the open interest is closed and reopened at the current prices, so old
   positions fade out (half of a level is gone after about 6.6 hours) and the map follows the market.
4. **Same-candle liquidations**: a quarter of the positions whose liquidation price lies inside their own candle's
   range is liquidated in that candle (high-leverage positions opened near the extreme of a wick).
"""


def figures_table() -> pd.DataFrame:
    """The per-candle figures as rows (model, part) and columns per side."""
    rows = [{"model": model, "part": f"{part} ({SPLIT_DATES[part]})", "ρ longs": f[0], "ρ shorts": f[1],
             "top 5% longs": f[2], "top 5% shorts": f[3]} for (model, part), f in PER_CANDLE_FIGURES.items()]
    return pd.DataFrame(rows).sort_values("part", kind="stable").set_index(["part", "model"])


def per_candle_method() -> None:
    st.header("Hour by hour: does the model say when?")
    st.markdown(SCORE_WORDS)
    st.dataframe(figures_table(), column_config={c: st.column_config.NumberColumn(format="%.3f")
                                                 for c in ("ρ longs", "ρ shorts", "top 5% longs", "top 5% shorts")})
    st.caption(f"BTC, three months of hourly liquidations (1 Dec 2025 – 28 Feb 2026). A perfect ranking would "
               f"capture {PERFECT_HELD_OUT_CAPTURE[0]:.0%} (longs) / {PERFECT_HELD_OUT_CAPTURE[1]:.0%} (shorts) in "
               "its top 5% hours of the held-out month, so no model can reach 65% / 50% there. "
               "Run the same score on your own period on the *Import & accuracy* page.")


def model_v2() -> None:
    st.header("Model v2 and the calibrated preset")
    st.markdown(V2_WORDS)
    st.markdown(f"**{CALIBRATED_V2}** (the app's default model): {PRESET_PROVENANCE[CALIBRATED_V2]}")
    st.markdown(f"**{REFERENCE_V1}**: {PRESET_PROVENANCE[REFERENCE_V1]}")
    if DEFAULT_PRESET == CALIBRATED_V2:
        st.caption("The calibrated preset is the default because it beats both the reference v1 and the naive "
                   "baseline on every held-out figure; the reference v1 stays available, reproducible to the cent.")


def magnets() -> None:
    st.header("Do big clusters attract price?")
    st.markdown(
        "A common claim: price is pulled toward large clusters of liquidation levels. The test: every hour, take the "
        "largest long cluster below and the largest short cluster above within ±10%, and see which price reaches "
        "first within a week: the larger one, or a control level at the same distance on the other side.")
    rows = [{"model": name, "larger first": wins, "decided hours": n, "share": share,
             "95% interval": f"{lo:.1%} – {hi:.1%}"} for name, (wins, n, share, lo, hi) in MAGNETS_VS_CONTROL.items()]
    st.dataframe(pd.DataFrame(rows).set_index("model"),
                 column_config={"share": st.column_config.NumberColumn(format="%.3f")})
    st.markdown(MAGNETS_READING)
