"""core.charts.market: the open interest is a neutral line on its own range, not a $0 fill in a side's colour."""

from __future__ import annotations

import json

import numpy as np

from core.charts.market import OI_COLOR, market_chart, oi_domain
from core.constants import LONG_COLOR, SHORT_COLOR
from core.data.bundled import load_bundled


def test_open_interest_is_neutral_and_scaled_to_its_range():
    """The OI panel uses neither side's colour and its y-domain hugs the data (not from $0)."""
    market = load_bundled("btc_2026-02_crash", "15m")
    spec = market_chart(market).to_dict()
    oi_panel = json.dumps(spec["vconcat"][1])
    assert SHORT_COLOR not in oi_panel and LONG_COLOR not in oi_panel and OI_COLOR in oi_panel
    oi = market.open_interest.to_numpy(dtype="float64")
    lo, hi = oi_domain(oi)
    assert 0 < lo < np.nanmin(oi) and np.nanmax(oi) < hi
    assert spec["vconcat"][0]["width"] == "container"


def test_domain_of_no_open_interest_is_none_and_the_chart_still_builds():
    """A sample without open interest (Mar 2024) gives no domain and a chart with an empty OI panel."""
    market = load_bundled("btc_2024-03-05_crash", "15m")
    assert oi_domain(market.open_interest.to_numpy(dtype="float64")) is None
    assert len(market_chart(market, width=900).to_dict()["vconcat"]) == 2
