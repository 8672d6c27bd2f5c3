"""Calibration (core/accuracy/calibrate.py): honest time split, recovery of known values, real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.accuracy.calibrate import START, calibrate, objective, params_for
from core.grid import compute_liquidated
from core.model import CALIBRATED_V2, model_params
from tests.conftest import shared_path
from tests.core.grid.test_grid import make_market

WARMUP = pd.Timedelta(days=1)


def _synthetic(seed: int, truth: dict) -> tuple:
    """An hourly random market and 'realized' liquidations made by the model with ``truth``, plus noise."""
    market = make_market(seed, 400, vol=0.01, minutes=60)
    long, short = compute_liquidated(market, params_for(truth, model_params(CALIBRATED_V2)))
    rng = np.random.default_rng(seed)
    noise = rng.lognormal(0.0, 0.3, (2, len(long)))
    realized = pd.DataFrame({"long_usd": long * noise[0] + 1.0, "short_usd": short * noise[1] + 1.0},
                            index=market.candles.index)
    return market, realized


def test_fit_never_sees_the_held_out_part():
    """Scrambling the realized values of the held-out candles changes nothing that was fitted."""
    truth = {"median": 25.0, "sigma": 0.75, "turnover": 0.05, "same_candle": 0.5}
    market, realized = _synthetic(1, truth)
    a = calibrate(market, realized, warmup=WARMUP, rounds=1)
    cut = a.held_out.first
    scrambled = realized.copy()
    late = scrambled.index >= cut
    scrambled.loc[late] = scrambled.loc[late].to_numpy()[::-1] * 7.0
    b = calibrate(market, scrambled, warmup=WARMUP, rounds=1)
    assert a.values == b.values and a.fit == b.fit
    assert a.held_out != b.held_out


def test_fit_improves_on_its_start_and_moves_toward_the_truth():
    """On liquidations the model itself made (with noise), the fit beats its start on both parts."""
    truth = {"median": 40.0, "sigma": 0.75, "turnover": 0.02, "same_candle": 0.6}
    market, realized = _synthetic(2, truth)
    result = calibrate(market, realized, warmup=WARMUP)
    assert result.objective_fit >= objective(result.start_fit)
    assert objective(result.held_out) > objective(result.start_held_out)
    assert result.values != START
    assert result.held_out.model.rho_long > 0.8 and result.held_out.model.rho_short > 0.8


def test_too_little_data_is_refused():
    """A period too short to fit and check says so."""
    market, realized = _synthetic(3, START)
    with pytest.raises(ValueError, match="too few"):
        calibrate(market, realized.iloc[:0], warmup=WARMUP)


def test_refit_on_three_months_lands_near_the_preset():
    """The three-month hourly set: the refit lands near the shipped values and beats move x OI held out."""
    shared_path("btc_2025-12_2026-02_hourly", "btc_1h_spot_liquidations_oi.csv")
    from bench.scorecard import hourly_market

    market, realized = hourly_market("file")
    result = calibrate(market, realized)
    v = result.values
    assert 5 <= v["median"] <= 20 and 0.5 <= v["sigma"] <= 1.5
    assert 0.05 <= v["turnover"] <= 0.2 and 0.1 <= v["same_candle"] <= 0.4
    held = result.held_out
    assert held.model.rho_long > held.move_oi.rho_long and held.model.rho_short > held.move_oi.rho_short
