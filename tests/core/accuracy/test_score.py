"""Accuracy score: constructed cases whose answer is known, plus the real 2024-03-05 cascade."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.grid import Heatmap
from core.accuracy import Score, SCORE_METHOD, score_against_realized
from core.accuracy.score import distance_baseline, tie_shared_credit, top_count
from tests.conftest import shared_path

T, P = 60, 400
TIMES = pd.date_range("2024-03-05 12:00", periods=T, freq="1min", tz="UTC")
EDGES = np.linspace(90.0, 110.0, P + 1)  # 0.05-wide bands around 100
CENTERS = (EDGES[:-1] + EDGES[1:]) / 2


def make_heatmap(long: np.ndarray, short: np.ndarray, close: np.ndarray | None = None) -> Heatmap:
    """A Heatmap built directly (keyword arguments per core/grid.py)."""
    close = np.full(T, 100.0) if close is None else close
    return Heatmap(
        times=TIMES, price_edges=EDGES, long=long, short=short,
        liquidated_long=np.zeros(T), liquidated_short=np.zeros(T),
        open=close, high=close + 0.05, low=close - 0.05, close=close, volume=np.ones(T),
        exchange="binanceusdm", symbol="BTC/USDT:USDT", timeframe="1m", source="bundled",
    )


def make_realized(n: int, seed: int, first_candle: int = 1) -> pd.DataFrame:
    """n liquidations at random times after ``first_candle``, longs below 100 and shorts above."""
    rng = np.random.default_rng(seed)
    seconds = rng.uniform(first_candle * 60, T * 60, n)
    side = rng.choice(["long", "short"], n)
    price = np.where(side == "long", rng.uniform(91.0, 99.9, n), rng.uniform(100.1, 109.0, n))
    return pd.DataFrame(
        {"side": side, "price": price, "quantity": 1.0, "usd": rng.uniform(10, 1000, n), "symbol": "BTC/USDT:USDT"},
        index=pd.DatetimeIndex(TIMES[0] + pd.to_timedelta(seconds, unit="s"), name="time"),
    ).sort_index()


def band_of(price: float) -> int:
    return int(np.searchsorted(EDGES, price, side="right") - 1)


def perfect_model(realized: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Density only in the bands (and columns used) of the realized liquidations."""
    long, short = np.zeros((P, T)), np.zeros((P, T))
    for tau, row in realized.iterrows():
        col = int(np.searchsorted(TIMES.as_unit("ns").asi8, tau.value, side="right") - 1) - 1
        (long if row["side"] == "long" else short)[band_of(row["price"]), col] += row["usd"]
    return long, short


def test_perfect_model_scores_one():
    """A map bright exactly where the liquidations later happened scores a hit share of 1."""
    realized = make_realized(30, seed=1)
    score = score_against_realized(make_heatmap(*perfect_model(realized)), realized)
    assert isinstance(score, Score)
    assert score.n_scored == 30 and score.n_skipped == 0
    assert score.hit_share == pytest.approx(1.0)
    assert score.lift_uniform == pytest.approx(10.0)
    assert score.calibration["realized_share"].iloc[-1] == pytest.approx(1.0)  # all in the brightest decile


def test_random_model_scores_about_top_share():
    """A map of noise puts about 10% of the realized USD in its top 10% of bands."""
    realized = make_realized(4000, seed=2)
    rng = np.random.default_rng(3)
    score = score_against_realized(make_heatmap(rng.random((P, T)), rng.random((P, T))), realized)
    assert score.hit_share == pytest.approx(0.10, abs=0.025)
    assert score.uniform_share == pytest.approx(0.10, abs=1e-9)
    assert score.calibration["realized_share"].to_numpy() == pytest.approx(np.full(10, 0.1), abs=0.035)


def test_distance_baseline_has_lift_one_over_itself():
    """The distance-only map, scored as a model, is exactly as good as the distance-only baseline."""
    realized = make_realized(500, seed=4)
    close = 100.0 + np.sin(np.arange(T) / 5.0)
    long, short = distance_baseline(EDGES, close)
    score = score_against_realized(make_heatmap(long, short, close), realized)
    assert score.baseline_share > 0.15  # better than uniform: the realized ones sit on the right sides
    assert score.hit_share == pytest.approx(score.baseline_share)
    assert score.lift_baseline == pytest.approx(1.0)


def test_flat_model_scores_exactly_the_uniform_share():
    """Ties are shared: a map with no information scores exactly what a uniform guess would."""
    realized = make_realized(200, seed=5)
    zeros = np.zeros((P, T))
    score = score_against_realized(make_heatmap(zeros, zeros), realized)
    assert score.hit_share == pytest.approx(score.uniform_share)
    assert score.lift_uniform == pytest.approx(score.uniform_share / 0.10)
    again = score_against_realized(make_heatmap(zeros, zeros), realized)
    assert again == score  # deterministic


def test_tie_shared_credit_by_hand():
    """Three bands tied across a cut-off of 2 above one denser band: each gets a third of a hit."""
    window = np.array([5.0, 1.0, 1.0, 1.0, 0.0])
    credit, g, e = tie_shared_credit(window, np.array([5.0, 1.0, 0.0]), k=2)
    assert credit.tolist() == pytest.approx([1.0, 1 / 3, 0.0])
    assert g.tolist() == [0, 1, 4] and e.tolist() == [1, 3, 1]
    assert top_count(200, 0.1) == 20 and top_count(3, 0.1) == 1


def test_outside_window_and_time_range_are_skipped_and_counted():
    """Liquidations the map cannot speak for are not scored, and each reason is counted."""
    realized = make_realized(20, seed=6, first_candle=2)
    extra = pd.DataFrame(
        {"side": ["long", "short", "long", "short", "long", "long"],
         "price": [80.0, 150.0, 95.0, 105.0, np.nan, 95.0],
         "quantity": 1.0, "usd": [100.0] * 6, "symbol": "BTC/USDT:USDT"},
        index=pd.DatetimeIndex([TIMES[10], TIMES[11], TIMES[0] + pd.Timedelta(seconds=30),
                                TIMES[-1] + pd.Timedelta(minutes=5), TIMES[12], TIMES[13]], name="time"),
    )
    extra.loc[extra.index[-1], "symbol"] = "ETH/USDT:USDT"
    both = pd.concat([realized, extra])
    score = score_against_realized(make_heatmap(np.ones((P, T)), np.ones((P, T))), both)
    reasons = score.skipped_by_reason()
    assert reasons == {  # 80 and 150 lie outside the bands (90..110); the +-10% window is the same here
        "other symbol": 1, "no price (per-minute totals)": 1, "before the map (no earlier candle)": 1,
        "after the map's last candle": 1, "outside the map's price range": 2,
    }
    assert score.n_scored == 20 and score.n_scored + score.n_skipped == len(both)
    narrow = score_against_realized(make_heatmap(np.ones((P, T)), np.ones((P, T))), realized, window_pct=0.5)
    assert narrow.skipped_by_reason().get("outside the +-0.5% window", 0) > 0
    assert narrow.n_scored + narrow.n_skipped == len(realized)


def test_window_skip_inside_the_price_range():
    """A liquidation inside the map's bands but beyond +-window_pct of the close is skipped."""
    realized = pd.DataFrame({"side": ["long"], "price": [92.0], "quantity": 1.0, "usd": [1.0], "symbol": ""},
                            index=pd.DatetimeIndex([TIMES[5]], name="time"))
    score = score_against_realized(make_heatmap(np.ones((P, T)), np.ones((P, T))), realized, window_pct=5.0)
    assert score.skipped_by_reason() == {"outside the +-5% window": 1} and score.n_scored == 0
    assert np.isnan(score.hit_share)


def test_no_look_ahead():
    """Changing the candle that contains a liquidation (its map column and its prices) changes nothing."""
    rng = np.random.default_rng(7)
    minutes = np.arange(3, T, 4)  # one liquidation in each of these candles
    realized = pd.DataFrame(
        {"side": rng.choice(["long", "short"], len(minutes)), "price": rng.uniform(95, 105, len(minutes)),
         "quantity": 1.0, "usd": rng.uniform(1, 10, len(minutes)), "symbol": "BTC/USDT:USDT"},
        index=pd.DatetimeIndex(TIMES[minutes] + pd.to_timedelta(rng.uniform(0, 59.9, len(minutes)), unit="s"),
                               name="time"),
    )
    long, short = rng.random((P, T)), rng.random((P, T))
    close = 100 + rng.normal(0, 0.5, T)
    before = score_against_realized(make_heatmap(long, short, close), realized)
    long2, short2, close2 = long.copy(), short.copy(), close.copy()
    long2[:, minutes] = rng.random((P, len(minutes))) * 1e6
    short2[:, minutes] = 0.0
    close2[minutes] = 103.0
    after = score_against_realized(make_heatmap(long2, short2, close2), realized)
    assert after == before
    # and the column before does matter
    long3 = long.copy()
    long3[:, minutes - 1] = 0.0
    assert score_against_realized(make_heatmap(long3, short, close), realized) != before


def test_liquidation_at_a_candle_open_uses_the_previous_column():
    """A liquidation exactly at a candle's open time is judged by the column of the candle before."""
    realized = pd.DataFrame({"side": ["long"], "price": [99.0], "quantity": 1.0, "usd": [5.0], "symbol": ""},
                            index=pd.DatetimeIndex([TIMES[10]], name="time"))
    long = np.zeros((P, T))
    long[band_of(99.0), 9] = 1.0
    score = score_against_realized(make_heatmap(long, np.zeros((P, T))), realized)
    assert score.hit_share == 1.0
    assert score.per_liquidation["column_time"].iloc[0] == TIMES[9]


def test_inputs_are_not_mutated_and_settings_validated():
    """Scoring leaves the heatmap and the realized frame as they were; bad settings are refused."""
    realized = make_realized(50, seed=8)
    long, short = np.random.default_rng(9).random((2, P, T))
    heatmap = make_heatmap(long, short)
    copies = realized.copy(), long.copy(), short.copy()
    score_against_realized(heatmap, realized)
    pd.testing.assert_frame_equal(realized, copies[0])
    assert np.array_equal(long, copies[1]) and np.array_equal(short, copies[2])
    for bad in ({"top_share": 0.0}, {"top_share": 1.5}, {"window_pct": 0.0}):
        with pytest.raises(ValueError):
            score_against_realized(heatmap, realized, **bad)


def test_calibration_shares_sum_to_one():
    """The calibration table has ten deciles whose realized, model and band shares each sum to 1."""
    realized = make_realized(300, seed=10)
    rng = np.random.default_rng(11)
    cal = score_against_realized(make_heatmap(rng.random((P, T)) ** 4, rng.random((P, T)) ** 4), realized).calibration
    assert cal["decile"].tolist() == list(range(1, 11))
    for column in ("realized_share", "model_share", "band_share"):
        assert cal[column].sum() == pytest.approx(1.0)
    assert cal["model_share"].is_monotonic_increasing  # deciles ordered by model density


def test_method_text_describes_the_rules():
    """The "How it works" text names the rules a user needs to read the score."""
    for words in ("look-ahead", "candle *before*", "Ties", "Lift", "distance", "decile"):
        assert words in SCORE_METHOD


def test_real_cascade_2024_03_05_scores_sanely():
    """The default model on the real 2024-03-05 cascade vs 1,411 real Bybit liquidations: a sane score.

    The figures themselves are reported by bench/score_2024_03_05.py; no good value is asserted.
    """
    orders = shared_path("btc_2024-03-05_cascade", "bybit_btcusdt_liquidation_orders.csv")
    grid = pytest.importorskip("core.grid")
    model = pytest.importorskip("core.model")
    if not hasattr(grid, "compute_heatmap") or not hasattr(model, "ModelParams"):
        pytest.skip("compute_heatmap / ModelParams not available yet")
    from core.data.bundled import load_bundled
    from core.accuracy import read_realized

    market = load_bundled("btc_2024-03-05_crash", "1m")  # no OI that day: volume proxy
    heatmap = grid.compute_heatmap(market, model.ModelParams())
    realized = read_realized(orders, symbol="BTC/USDT:USDT")
    score = score_against_realized(heatmap, realized)
    assert score.n_realized == 1411
    assert score.n_scored == 1411 - score.n_skipped and score.n_scored > 1000
    for share in (score.hit_share, score.baseline_share, score.uniform_share, score.hit_share_long,
                  score.hit_share_short):
        assert 0.0 <= share <= 1.0
    assert score.lift_uniform == pytest.approx(score.hit_share / 0.10)
    assert score.lift_baseline == pytest.approx(score.hit_share / score.baseline_share)
    assert score.calibration["realized_share"].sum() == pytest.approx(1.0)
    assert score.usd_scored <= score.usd_realized
    assert len(score.per_liquidation) == score.n_scored
