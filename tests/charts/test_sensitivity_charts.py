"""Every dollar axis of the pictures says B for billions (d3's SI format writes G)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.charts import (
    colour_legend,
    difference_legend,
    profile_chart,
    profile_comparison_chart,
    shared_legend,
    sweep_chart,
)
from core.data.bundled import load_bundled
from core.grid import compute_heatmap
from core.model import ModelParams
from core.sensitivity_sweeps import SWEEPS


def _dollar_axes(spec) -> list[dict]:
    """Every axis (or legend) dict of a Vega-Lite spec whose number format is in dollars."""
    found = []
    if isinstance(spec, dict):
        if str(spec.get("format", "")).startswith("$"):
            found.append(spec)
        for value in spec.values():
            found += _dollar_axes(value)
    elif isinstance(spec, list):
        for value in spec:
            found += _dollar_axes(value)
    return found


@pytest.fixture(scope="module")
def maps():
    market = load_bundled("btc_2026-02_crash", "1h")
    return (compute_heatmap(market, ModelParams(), price_bins=80),
            compute_heatmap(market, ModelParams(long_share=0.35), price_bins=80))


def test_every_dollar_axis_turns_g_into_b(maps):
    default, chosen = maps
    sweep = pd.DataFrame({"value": [1e3, 1e5, 1e7], "long_usd_5pct": [3e9, 1e9, 2e9], "short_usd_5pct": [1e9] * 3,
                          "cluster_above_pct": [1.0, np.nan, 2.0], "cluster_below_pct": [1.0, 1.5, 2.0]})
    charts = [
        shared_legend(2e9), difference_legend(2e9), colour_legend(2e9),
        profile_comparison_chart(chosen.profile(), default.profile()),
        profile_chart(default.profile()),
        sweep_chart(sweep, SWEEPS["pos"], 1e5, 5.0),
    ]
    for chart in charts:
        axes = _dollar_axes(chart.to_dict())
        assert axes, f"{type(chart).__name__} has no dollar axis"
        for axis in axes:
            assert "'G', 'B'" in axis.get("labelExpr", "") and "'k', 'K'" in axis.get("labelExpr", ""), axis
