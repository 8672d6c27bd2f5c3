"""Liquidation prices, maintenance brackets and ModelParams (core/model.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.constants import DEFAULT_LEVERAGE_WEIGHTS
from core.data.bundled import BUNDLED, load_bundled
from core.data.market import MarketData
from core.model import (
    BracketTable,
    ModelParams,
    brackets_for,
    build_levels,
    describe_margin,
    entry_grid,
    entry_prices,
    liquidation_price,
    lognormal_leverage_weights,
    long_shares,
    new_notional,
    tier_price_ratios,
    turnover_shares,
)
from tests.conftest import REPO, shared_path

# --------------------------------------------------------------------------------------------
# Golden cases
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wallet, cum, amount, entry, mmr, expected",
    [
        # ETHUSDT long, isolated: wallet balance 1,535,443.01, 3,683.979 ETH at 1,456.84, rate 10 %,
        # maintenance amount 135,365 -> 1,114.78
        (1535443.01, 135365.0, 3683.979, 1456.84, 0.10, 1114.78),
        # BTCUSDT long, isolated: 109.488 BTC at 32,481.98, rate 2.5 %, maintenance amount 16,300 -> 18,778.73
        (1535443.01, 16300.0, 109.488, 32481.98, 0.025, 18778.73),
    ],
)
def test_binance_faq_isolated_examples(wallet, cum, amount, entry, mmr, expected):
    """Binance's liquidation-price FAQ worked example (isolated; also in freqtrade's tests) is reproduced."""
    notional = amount * entry
    leverage = notional / wallet  # the isolated margin (WB) is notional / L
    got = liquidation_price("long", entry, leverage, mmr=mmr, maintenance_amount=cum, notional=notional)
    assert got == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    "other_mm, other_upnl, cum, amount, entry, mmr, expected",
    [
        (71200.81144, -56354.57, 135365.0, 3683.979, 1456.84, 0.10, 1153.26),
        (356512.508, -448192.89, 16300.0, 109.488, 32481.98, 0.025, 26316.89),
    ],
)
def test_binance_faq_cross_examples_via_backing_margin(other_mm, other_upnl, cum, amount, entry, mmr, expected):
    """The FAQ's cross-margin example matches the isolated formula with margin WB - TMM1 + UPNL1.

    In cross mode Binance's formula has WB - TMM1 + UPNL1 (wallet balance, minus the maintenance
    margin of the account's other positions, plus their unrealised PnL) where isolated mode has the
    isolated margin: the margin backing the position. So L = notional / (WB - TMM1 + UPNL1).
    """
    wallet = 1535443.01
    notional = amount * entry
    backing = wallet - other_mm + other_upnl
    got = liquidation_price("long", entry, notional / backing, mmr=mmr, maintenance_amount=cum, notional=notional)
    assert got == pytest.approx(expected, rel=1e-4)


def _recorded_positions() -> list[dict]:
    path = shared_path("ccxt_static", "binance_response_subset.json")
    doc = json.loads(path.read_text())
    return [
        entry
        for entry in doc["methods"]["fetchPositions"]
        if isinstance(entry.get("httpResponse"), list)
        and any(p.get("symbol") == "BTCUSDT" for p in entry["httpResponse"])
    ]


def test_real_binance_btcusdt_position():
    """A real BTCUSDT position recorded by ccxt gets Binance's own liquidation price (64,846.99).

    The raw position (``info``): 0.009 BTC long at 67,445.9, notional ~607.5 USDT, initial margin
    7.594 (1/80 of the notional: leverage 80x), isolatedMargin 0 and isolatedWallet 0, and ccxt
    parses marginMode "cross". It is a cross-margin position: it is not liquidated where an 80x
    isolated position would be (66,868), but when the whole cross wallet is used up. Binance's
    cross formula with one position and no other positions (TMM1 = UPNL1 = 0) is the isolated one
    with the wallet balance WB as the margin, so leverage = Q*E / WB. WB is the account's
    ``totalCrossWalletBalance`` 25.72610060 USDT recorded by the same fixture (fetchPositions via the
    account endpoint, same position updateTime). The rate and amount come from our BTCUSDT table:
    ~607.5 USDT lies in bracket 1 (0.4 %, cum 0), as ccxt's maintenanceMarginPercentage 0.004 says.
    What differs: WB is a multi-asset balance (USDT plus USDC valued at its index price), so it
    moves slightly between the recordings (hence 64,846.99 and 64,846.79); both agree to 1e-5.
    """
    table = brackets_for("BTC/USDT:USDT")
    wallet = 25.72610060
    recordings = _recorded_positions()
    assert recordings
    for entry in recordings:
        pos = next(p for p in entry["httpResponse"] if p["symbol"] == "BTCUSDT")
        amount = float(pos["positionAmt"])
        e = float(pos["entryPrice"])
        notional = abs(float(pos["notional"]))
        assert float(pos["isolatedMargin"]) == 0 and float(pos["isolatedWallet"]) == 0  # cross margin
        assert entry["parsedResponse_excerpt"]["marginMode"] == "cross"
        leverage_set = notional / float(pos["initialMargin"])
        assert leverage_set == pytest.approx(80, rel=1e-6)
        isolated_80x = liquidation_price("long", e, leverage_set, notional=notional, brackets=table)
        assert isolated_80x > 66_000  # what the same position would get in isolated mode
        side = "long" if amount > 0 else "short"
        got = liquidation_price(side, e, abs(amount) * e / wallet, notional=notional, brackets=table)
        assert got == pytest.approx(float(pos["liquidationPrice"]), rel=1e-4)


# Hand-computed, one per BTCUSDT bracket (MODEL.md table), entry 60,000:
# LP_long = (E (1 - 1/L) - cum E / N) / (1 - m),  LP_short = (E (1 + 1/L) + cum E / N) / (1 + m)
BRACKET_CASES = [
    # notional, leverage, rate, cum, expected long, expected short
    (30_000, 100, 0.004, 0, (60000 * 0.99) / 0.996, (60000 * 1.01) / 1.004),
    (300_000, 50, 0.005, 50, (58800 - 50 * 0.2) / 0.995, (61200 + 50 * 0.2) / 1.005),
    (1_000_000, 50, 0.0065, 950, (58800 - 950 * 0.06) / 0.9935, (61200 + 950 * 0.06) / 1.0065),
    (5_000_000, 20, 0.01, 11_450, (57000 - 11450 * 0.012) / 0.99, (63000 + 11450 * 0.012) / 1.01),
    (20_000_000, 10, 0.02, 131_450, (54000 - 131450 * 0.003) / 0.98, (66000 + 131450 * 0.003) / 1.02),
    (80_000_000, 10, 0.025, 481_450, (54000 - 481450 * 0.00075) / 0.975, (66000 + 481450 * 0.00075) / 1.025),
    (150_000_000, 5, 0.05, 2_981_450, (48000 - 2981450 * 0.0004) / 0.95, (72000 + 2981450 * 0.0004) / 1.05),
    (300_000_000, 3, 0.10, 14_481_450, (40000 - 14481450 * 0.0002) / 0.9, (80000 + 14481450 * 0.0002) / 1.1),
    (500_000_000, 2, 0.125, 26_481_450, (30000 - 26481450 * 0.00012) / 0.875, (90000 + 26481450 * 0.00012) / 1.125),
    (700_000_000, 2, 0.15, 41_481_450, (30000 - 41481450 * 6e-5 / 0.7) / 0.85, (90000 + 41481450 * 6e-5 / 0.7) / 1.15),
    (1_000_000_000, 2, 0.25, 121_481_450, (30000 - 121481450 * 6e-5) / 0.75, (90000 + 121481450 * 6e-5) / 1.25),
    (1_500_000_000, 1, 0.50, 421_481_450, (0 - 421481450 * 4e-5) / 0.5, (120000 + 421481450 * 4e-5) / 1.5),
]


@pytest.mark.parametrize("notional, leverage, rate, cum, long_lp, short_lp", BRACKET_CASES)
def test_liquidation_price_per_bracket(notional, leverage, rate, cum, long_lp, short_lp):
    """Each BTCUSDT bracket gives the hand-computed liquidation price, long and short."""
    table = brackets_for("BTCUSDT")
    m, amount = table.maintenance(notional)
    assert (float(m), float(amount)) == (rate, cum)
    long = liquidation_price("long", 60000.0, leverage, notional=notional, brackets=table)
    short = liquidation_price("short", 60000.0, leverage, notional=notional, brackets=table)
    assert long == pytest.approx(long_lp, rel=1e-12)
    assert short == pytest.approx(short_lp, rel=1e-12)
    # the same with the rate and amount passed by hand
    assert liquidation_price("long", 60000.0, leverage, rate, cum, notional) == pytest.approx(long_lp, rel=1e-12)


def test_ccxt_rate_only_formula_drifts_on_higher_brackets():
    """Ignoring the maintenance amount (ccxt's shortcut) is exact in bracket 1 and wrong higher up."""
    table = brackets_for("BTCUSDT")
    for notional, drift in ((30_000, False), (20_000_000, True)):
        m, _ = table.maintenance(notional)
        full = liquidation_price("long", 60000.0, 10, notional=notional, brackets=table)
        rate_only = liquidation_price("long", 60000.0, 10, mmr=float(m))
        assert (abs(full / rate_only - 1) > 1e-3) is drift


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_maintenance_margin_continuous_at_every_floor(symbol):
    """The maintenance amount makes the maintenance margin N*m - cum continuous where brackets change.

    (The liquidation price itself jumps at a floor: the rate applies to the notional at the
    liquidation price, while the bracket is picked by the position's notional.)
    """
    table = brackets_for(symbol)
    for floor in table.floors[1:]:
        above = floor * (1 + 1e-12)
        m_at, cum_at = table.maintenance(floor)  # the floor is the cap of the bracket below
        m_above, cum_above = table.maintenance(above)
        assert m_above > m_at
        assert above * m_above - cum_above == pytest.approx(floor * m_at - cum_at, rel=1e-9)


def test_bracket_cum_follows_binance_rule():
    """cum_n = floor_n * (rate_n - rate_(n-1)) + cum_(n-1) holds in both shipped tables."""
    for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT"):
        t = brackets_for(symbol)
        for n in range(1, len(t.floors)):
            expected = t.floors[n] * (t.rates[n] - t.rates[n - 1]) + t.amounts[n - 1]
            assert t.amounts[n] == pytest.approx(expected, abs=1e-6)
            assert t.caps[n - 1] == t.floors[n]


def test_shipped_table_equals_binance_snapshot():
    """Our encoded 2024-08-01 table equals Binance's raw brackets (freqtrade's ccxt snapshot)."""
    path = shared_path("binance_leverage_brackets", "freqtrade_binance_leverage_tiers_BTC_ETH_2024-08-01.json")
    snapshot = json.loads(path.read_text())["tiers"]
    for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT"):
        ours = brackets_for(symbol)
        raw = [tier["info"] for tier in snapshot[symbol]]
        assert len(raw) == len(ours.floors)
        for i, b in enumerate(raw):
            assert float(b["notionalFloor"]) == ours.floors[i]
            assert float(b["notionalCap"]) == ours.caps[i]
            assert float(b["maintMarginRatio"]) == pytest.approx(ours.rates[i], abs=1e-12)
            assert float(b["cum"]) == ours.amounts[i]
            assert float(b["initialLeverage"]) == ours.max_leverage[i]


def test_bracket_file_names_its_source():
    """The shipped bracket file says where its numbers come from and as of when."""
    doc = json.loads((REPO / "data" / "brackets" / "binance_usdm_2024-08-01.json").read_text())
    assert "Binance" in doc["source"] and doc["as_of"] == "2024-08-01"


def test_brackets_for_symbol_spellings_and_fallback():
    """BTC and ETH tables are found under any spelling; other symbols fall back to the flat rate."""
    assert brackets_for("BTCUSDT") == brackets_for("BTC/USDT:USDT") == brackets_for("btc/usdt")
    assert brackets_for("ETHUSDT").symbol == "ETH/USDT:USDT"
    assert brackets_for("SOL/USDT:USDT") is None
    params = ModelParams(brackets="exchange")
    assert params.table_for("SOL/USDT:USDT") is None
    assert "flat maintenance margin rate of 0.50%" in describe_margin(params, "SOL/USDT:USDT")
    lev, _, ratio_long, _ = tier_price_ratios(params, "SOL/USDT:USDT")
    assert np.allclose(ratio_long, (1 - 1 / lev) / (1 - 0.005))


def test_describe_margin_sentences():
    """The app can say which table or rate was used, in one sentence."""
    v1 = describe_margin(ModelParams(), "BTC/USDT:USDT")
    assert "flat maintenance margin rate of 0.50%" in v1 and "v1" in v1
    table = describe_margin(ModelParams(brackets="exchange"), "BTC/USDT:USDT", exchange="okx")
    assert "2024-08-01" in table and "BTC/USDT:USDT" in table and "approximation" in table
    big = describe_margin(ModelParams(brackets="exchange", position_notional=5e6), "BTC/USDT:USDT")
    assert "brackets 2 and 4" in big  # 100x capped at 600k (bracket 2); 5x..50x at 5M (bracket 4)
    assert "of bracket 1," in describe_margin(ModelParams(brackets="exchange"), "BTCUSDT")


def test_position_notional_capped_by_leverage_limit():
    """A 100x tier cannot hold more than 600k on BTCUSDT, so it uses bracket 2 however large the position."""
    table = brackets_for("BTCUSDT")
    assert table.max_notional(100) == 600_000
    assert table.max_notional(125) == 50_000
    assert table.max_notional(5) == 480_000_000
    lev, _, ratio_long, _ = tier_price_ratios(ModelParams(brackets=table, position_notional=1e9), "BTCUSDT")
    i = int(np.flatnonzero(lev == 100)[0])
    expected = liquidation_price("long", 1.0, 100, mmr=0.005, maintenance_amount=50, notional=600_000)
    assert ratio_long[i] == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------------------------
# Properties of the formula
# --------------------------------------------------------------------------------------------


def test_vectorised_and_scalar():
    """Arrays in give arrays out (broadcast); scalars give a float."""
    e = np.array([100.0, 200.0, 300.0])
    out = liquidation_price("short", e, np.array([10.0, 20.0, 50.0]))
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    assert isinstance(liquidation_price("long", 100.0, 10), float)
    table = brackets_for("BTCUSDT")
    mixed = liquidation_price("long", e, 20, notional=np.array([1e4, 1e6, 1e8]), brackets=table)
    assert mixed.shape == (3,)
    both = liquidation_price(np.array([1, -1]), 100.0, 10.0)
    assert np.allclose(both, [liquidation_price("long", 100.0, 10), liquidation_price("short", 100.0, 10)])


@settings(max_examples=60, deadline=None)
@given(
    entry=st.floats(1e-3, 1e6),
    lev_a=st.floats(1.01, 125),
    lev_b=st.floats(1.01, 125),
    mmr=st.floats(0, 0.0079),
)
def test_long_below_short_above_and_leverage_order(entry, lev_a, lev_b, mmr):
    """Longs liquidate below entry, shorts above, and higher leverage sits closer to entry."""
    lo, hi = sorted((lev_a, lev_b))
    long_lo, long_hi = liquidation_price("long", entry, lo, mmr), liquidation_price("long", entry, hi, mmr)
    short_lo, short_hi = liquidation_price("short", entry, lo, mmr), liquidation_price("short", entry, hi, mmr)
    assert long_lo <= long_hi < entry < short_hi <= short_lo


@settings(max_examples=40, deadline=None)
@given(entry=st.floats(1, 1e5), lev=st.floats(1, 125), scale=st.floats(0.01, 100))
def test_scale_invariance(entry, lev, scale):
    """Scaling the entry price scales the liquidation price (cum scales with the notional)."""
    a = liquidation_price("long", entry, lev, 0.01, 100.0, 1e6)
    b = liquidation_price("long", entry * scale, lev, 0.01, 100.0 * scale, 1e6 * scale)
    assert b == pytest.approx(a * scale, rel=1e-12)


def test_invalid_inputs():
    """Nonsense inputs raise rather than returning a number."""
    with pytest.raises(ValueError):
        liquidation_price("up", 100.0, 10)
    with pytest.raises(ValueError):
        liquidation_price("long", -1.0, 10)
    with pytest.raises(ValueError):
        liquidation_price("long", 100.0, 10, maintenance_amount=50.0)  # cum without notional
    with pytest.raises(ValueError):
        liquidation_price("long", 100.0, 10, brackets=brackets_for("BTCUSDT"))


# --------------------------------------------------------------------------------------------
# ModelParams and levels
# --------------------------------------------------------------------------------------------


def test_params_defaults_are_reference_v1():
    """Defaults are the reference model v1 and the parameters are hashable."""
    p = ModelParams()
    assert p.weights == pytest.approx(DEFAULT_LEVERAGE_WEIGHTS)
    assert (p.long_share, p.mmr, p.brackets, p.entry, p.decay_half_life) == (0.5, 0.005, None, "hlc3", None)
    assert not p.long_share_from_ratio
    assert hash(p) == hash(ModelParams())
    assert {p: 1}[ModelParams()] == 1


def test_v2_options_are_off_by_default():
    """ModelParams() switches no v2 option on: one entry (hlc3), the five v1 tiers, no turnover and no
    same-candle share, so its levels are exactly the v1 levels (5 per side and opening candle)."""
    p = ModelParams()
    assert (p.entry, p.turnover_per_hour, p.same_candle_share) == ("hlc3", 0.0, 0.0)
    market = load_bundled(next(iter(BUNDLED)), "1m")
    lv = build_levels(market, p)
    opened = new_notional(market, p)
    assert len(lv.long) == 5 * int((opened > 0).sum()) and lv.long.born_liquidated is None
    entry = entry_prices(market.candles)
    first = lv.long.birth[0]
    np.testing.assert_array_equal(lv.long.price[:5], entry[first] * (1 - 1 / np.array([5, 10, 25, 50, 100])) / 0.995)


def test_lognormal_ladder():
    """24 rungs from 2x to 125x, evenly spaced in log, weights lognormal around the median, summing to 1."""
    pairs = lognormal_leverage_weights(median=10, sigma=1.0)
    lev = np.array([p[0] for p in pairs])
    w = np.array([p[1] for p in pairs])
    assert len(pairs) == 24 and (lev[0], lev[-1]) == (2, 125)
    np.testing.assert_allclose(np.diff(np.log(lev)), np.log(125 / 2) / 23)
    assert w.sum() == pytest.approx(1.0)
    ratio = w / np.exp(-0.5 * np.log(lev / 10) ** 2)
    np.testing.assert_allclose(ratio, ratio[0])
    np.testing.assert_allclose(np.array(ModelParams(leverage_weights=pairs).leverage_weights), np.array(pairs))
    with pytest.raises(ValueError):
        lognormal_leverage_weights(sigma=0)


def test_range_entries_and_turnover_shares():
    """Range entries sit at (j + 0.5) / S of each candle's range; a 2-hour candle turns over 1 - (1 - r)^2."""
    c = pd.DataFrame({"open": [1.0, 1.0], "high": [4.0, 2.0], "low": [0.5, 1.0], "close": [2.0, 1.5],
                      "volume": [1.0, 1.0]}, index=pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 02:00"], tz="UTC"))
    e = entry_grid(c, "range", 4)
    np.testing.assert_allclose(e[0], 0.5 + (np.arange(4) + 0.5) / 4 * 3.5)
    np.testing.assert_allclose(entry_grid(c, "hlc3")[:, 0], entry_prices(c))
    oi = pd.Series([100.0, 90.0], index=c.index)
    market = MarketData("test", "BTC/USDT:USDT", "1h", c, oi, source="upload")
    p = ModelParams(turnover_per_hour=0.1)
    np.testing.assert_allclose(turnover_shares(market, p), [0.0, 1 - 0.9 ** 2])
    np.testing.assert_allclose(new_notional(market, p), [0.0, (1 - 0.9 ** 2) * 100.0])


def test_params_normalise_weights_and_hours():
    """Weights are normalised (a dict and pairs are equal) and a half-life in hours is a Timedelta."""
    a = ModelParams(leverage_weights={10: 1, 100: 3})
    b = ModelParams(leverage_weights=((100, 0.75), (10, 0.25)))
    assert a == b and hash(a) == hash(b)
    assert a.weights == {10: 0.25, 100: 0.75}
    assert ModelParams(decay_half_life=6).decay_half_life == pd.Timedelta(hours=6)
    hash(ModelParams(brackets=brackets_for("BTCUSDT")))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"leverage_weights": {10: 0.0}},
        {"leverage_weights": {0.5: 1.0}},
        {"long_share": 1.5},
        {"mmr": 1.0},
        {"entry": "vwap"},
        {"brackets": "binance"},
        {"decay_half_life": -1},
        {"oi_proxy": "sometimes"},
        {"entry_points": 0},
        {"turnover_per_hour": 1.0},
        {"same_candle_share": -0.1},
    ],
)
def test_params_reject_nonsense(kwargs):
    """Invalid assumptions are refused when the parameters are built."""
    with pytest.raises(ValueError):
        ModelParams(**kwargs)


def test_entry_rules():
    """The entry-price options are the named averages of the candle."""
    c = pd.DataFrame({"open": [1.0], "high": [4.0], "low": [0.5], "close": [2.0], "volume": [1.0]})
    assert entry_prices(c, "hlc3")[0] == pytest.approx(6.5 / 3)
    assert entry_prices(c, "ohlc4")[0] == pytest.approx(7.5 / 4)
    assert entry_prices(c, "close")[0] == 2.0 and entry_prices(c, "open")[0] == 1.0


def test_levels_sides_and_leverage_order_on_real_data():
    """On real data every long level lies below its entry, every short above, 100x nearest."""
    market = load_bundled("btc_2026-02_crash", "5m")
    lv = build_levels(market, ModelParams())
    entry = entry_prices(market.candles)
    assert len(lv.long) > 0 and len(lv.short) > 0
    assert np.all(lv.long.price < entry[lv.long.birth])
    assert np.all(lv.short.price > entry[lv.short.birth])
    for side in (lv.long, lv.short):
        dist = np.abs(side.price / entry[side.birth] - 1).reshape(-1, 5)
        assert np.all(np.diff(dist, axis=1) < 0)  # tiers sorted by leverage: distance falls


def test_long_share_from_ratio():
    """The long/short ratio option gives s = r / (1 + r) as of each candle's close."""
    market = load_bundled("btc_2026-09", "5m")
    s = long_shares(market, ModelParams(long_share_from_ratio=True))
    ratio = market.long_short_ratio
    t = market.candles.index[100] + pd.Timedelta(minutes=5)
    r = float(ratio[ratio.index <= t].iloc[-1])
    assert s[100] == pytest.approx(r / (1 + r))
    assert np.all(long_shares(market, ModelParams()) == 0.5)


def test_bracket_table_is_hashable_and_validated():
    """A hand-made table works like the shipped ones and bad tables are refused."""
    t = BracketTable("X/USDT:USDT", (0.0, 100.0), (100.0, 1e9), (0.01, 0.02), (50, 20), (0.0, 1.0))
    hash(t)
    assert float(t.maintenance(150.0)[1]) == 1.0
    with pytest.raises(ValueError):
        BracketTable("X", (10.0,), (20.0,), (0.01,), (50,), (0.0,))


def test_model_presets_reference_and_calibrated():
    """'Reference v1' is ModelParams() exactly; the default preset is the calibrated v2 with its
    fitted values; each whole model has a provenance text and is recognised by name."""
    from core.model import (CALIBRATED_V2, DEFAULT_PRESET, MODEL_PRESETS, PRESET_PROVENANCE, REFERENCE_V1,
                            model_params, preset_name_of)

    assert model_params(REFERENCE_V1) == ModelParams()
    assert DEFAULT_PRESET == CALIBRATED_V2
    v2 = model_params(CALIBRATED_V2)
    fitted = (v2.entry, v2.entry_points, v2.turnover_per_hour, v2.same_candle_share, v2.mmr)
    assert fitted == ("range", 9, 0.1, 0.25, 0.005)
    lev = np.array([p[0] for p in v2.leverage_weights])
    assert len(lev) == 24 and (lev.min(), lev.max()) == (2, 125)
    assert set(PRESET_PROVENANCE) == set(MODEL_PRESETS)
    assert "held" in PRESET_PROVENANCE[CALIBRATED_V2] and "MODEL.md" in PRESET_PROVENANCE[REFERENCE_V1]
    assert preset_name_of(v2) == CALIBRATED_V2 and preset_name_of(ModelParams()) == REFERENCE_V1
    assert preset_name_of(ModelParams(long_share=0.3)) is None
    assert model_params(CALIBRATED_V2, long_share=0.6).long_share == 0.6


def test_describe_leverage_lists_tiers_or_summarises_a_ladder():
    """Five tiers are listed; a 24-rung ladder is its range and weighted median."""
    from core.model import describe_leverage, lognormal_leverage_weights

    assert describe_leverage({5: 0.1, 10: 0.3, 25: 0.3, 50: 0.2, 100: 0.1}) == "5x 10%, 10x 30%, 25x 30%, 50x 20%, 100x 10%"
    text = describe_leverage(lognormal_leverage_weights())
    assert text.startswith("2x-125x, median ") and text.endswith("x")
    assert describe_leverage({2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0, 6: 0.0, 7: 1.0}) == "2x-7x, median 7x"
