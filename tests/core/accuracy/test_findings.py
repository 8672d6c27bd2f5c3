"""The figures How it works quotes (core/accuracy/findings.py) are what the data gives today."""

from __future__ import annotations

import numpy as np
import pytest

from core.accuracy.findings import MAGNETS_VS_CONTROL, PER_CANDLE_FIGURES
from core.accuracy.magnets import magnet_test_heatmap
from core.accuracy.per_candle import DEFAULT_WARMUP, score_heatmap, scored_mask, time_split
from core.grid import compute_heatmap
from core.model import model_params
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def hourly():
    shared_path("btc_2025-12_2026-02_hourly", "binance_BTCUSDT_oi_5m.csv")
    from bench.scorecard import hourly_market

    return {src: hourly_market(src) for src in ("file", "binance")}


def _parts(heatmap, realized):
    per = realized.reindex(heatmap.times)
    mask = scored_mask(heatmap.times, per["long_usd"].fillna(0).to_numpy(), per["short_usd"].fillna(0).to_numpy())
    return dict(zip(("fit", "held-out"), time_split(mask)))


@pytest.mark.parametrize("name", ["Reference v1", "Calibrated (v2)"])
def test_per_candle_figures(hourly, name):
    market, realized = hourly["file"]
    hm = compute_heatmap(market, model_params(name), price_bins=200)
    oi = market.open_interest.to_numpy(dtype="float64")
    for part, mask in _parts(hm, realized).items():
        card = score_heatmap(hm, realized, oi, mask=mask)
        m, b = card.model, card.move_oi
        got = (m.rho_long, m.rho_short, m.capture_long, m.capture_short)
        np.testing.assert_allclose(got, PER_CANDLE_FIGURES[(name, part)], atol=0.0015)
        base = (b.rho_long, b.rho_short, b.capture_long, b.capture_short)
        np.testing.assert_allclose(base, PER_CANDLE_FIGURES[("Move x OI baseline", part)], atol=0.0015)


@pytest.mark.parametrize("name", ["Reference v1", "Calibrated (v2)"])
def test_magnet_figures(hourly, name):
    market, _ = hourly["binance"]
    hm = compute_heatmap(market, model_params(name), price_bins=1000)
    warm = int(np.searchsorted(hm.times, hm.times[0] + DEFAULT_WARMUP))
    race = magnet_test_heatmap(hm, window=0.10, horizon=168, step=1, start=warm).larger_vs_control
    wins, n, share, lo, hi = MAGNETS_VS_CONTROL[name]
    assert (race.wins, race.n) == (wins, n)
    np.testing.assert_allclose((race.share, *race.interval), (share, lo, hi), atol=0.0006)
