"""MarketData validation, open-interest alignment and the bundled real datasets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import BUNDLED, load_bundled
from core.data.market import MarketData, align_open_interest, clean_candles, resample_candles


def _candles(n: int = 10, start: str = "2026-01-01") -> pd.DataFrame:
    idx = pd.date_range(start, periods=n, freq="1min", tz="UTC")
    close = 100 + np.arange(n, dtype=float)
    return pd.DataFrame({"open": close - 0.5, "high": close + 1, "low": close - 1, "close": close, "volume": 1.0}, index=idx)


def test_market_data_constructible_from_the_five_required_fields():
    """The public constructor needs only exchange, symbol, timeframe, candles and open interest."""
    c = _candles()
    m = MarketData("binanceusdm", "BTC/USDT:USDT", "1m", c, pd.Series(1.0, index=c.index))
    assert m.source == "live" and m.funding is None and m.last_price == 109.0


def test_market_data_rejects_misaligned_open_interest():
    c = _candles()
    with pytest.raises(ValueError, match="index"):
        MarketData("okx", "BTC/USDT:USDT", "1m", c, pd.Series(1.0, index=c.index[:-1]))


def test_clean_candles_sorts_dedups_and_counts_what_it_dropped():
    """Unsorted, duplicated, NaN, non-positive and inconsistent rows are fixed or dropped, and counted."""
    c = _candles(8)
    raw = pd.concat([c.iloc[::-1], c.iloc[[2]]])
    raw.iloc[0, raw.columns.get_loc("close")] = np.nan        # NaN price
    raw.iloc[1, raw.columns.get_loc("low")] = -5.0            # non-positive
    raw.iloc[2, raw.columns.get_loc("high")] = 1.0            # high below open/close
    clean, notes = clean_candles(raw)
    assert clean.index.is_monotonic_increasing and clean.index.is_unique
    assert len(clean) == 5
    text = " ".join(notes)
    assert "sorted" in text and "1 duplicate" in text
    assert "2 candle(s) with missing or non-positive" in text and "1 candle(s) with high/low inconsistent" in text
    assert (clean["high"] >= clean[["open", "close"]].max(axis=1)).all()


def test_clean_candles_keeps_gaps_as_gaps():
    c = _candles(10).drop(index=_candles(10).index[3:6])
    clean, _ = clean_candles(c)
    assert len(clean) == 7  # nothing invented


def test_clean_candles_does_not_mutate_input():
    c = _candles()
    before = c.copy()
    clean_candles(c.iloc[::-1])
    pd.testing.assert_frame_equal(c, before)


def test_align_open_interest_uses_latest_observation_at_or_before_the_close():
    """A 1m candle's OI is the last 5m observation stamped at or before its close (no look-ahead)."""
    idx = pd.date_range("2026-01-01 00:00", periods=11, freq="1min", tz="UTC")
    oi = pd.Series([10.0, 20.0, 30.0], index=pd.date_range("2026-01-01 00:00", periods=3, freq="5min", tz="UTC"))
    out = align_open_interest(oi, idx, "1m")
    # candle 00:04 closes at 00:05 -> sees 20; candle 00:03 closes at 00:04 -> sees 10
    assert out.iloc[3] == 10.0 and out.iloc[4] == 20.0 and out.iloc[9] == 30.0 and out.iloc[8] == 20.0


def test_align_open_interest_leaves_unknown_as_nan():
    idx = pd.date_range("2026-01-01", periods=5, freq="1h", tz="UTC")
    oi = pd.Series([5.0], index=[pd.Timestamp("2026-01-01 02:30", tz="UTC")])
    out = align_open_interest(oi, idx, "1h", max_age=pd.Timedelta(hours=1))
    assert out.isna().tolist() == [True, True, False, True, True]


def test_resample_keeps_ohlc_semantics():
    c = _candles(10)
    r = resample_candles(c, "5m")
    assert len(r) == 2
    assert r["open"].iloc[0] == c["open"].iloc[0] and r["close"].iloc[0] == c["close"].iloc[4]
    assert r["high"].iloc[1] == c["high"].iloc[5:].max() and r["volume"].iloc[0] == 5.0


@pytest.mark.parametrize("key", list(BUNDLED))
@pytest.mark.parametrize("timeframe", ["1m", "5m", "1h"])
def test_bundled_datasets_load_offline_and_validate(key, timeframe):
    """Every bundled dataset loads (no network), is clean, and carries its provenance line."""
    m = load_bundled(key, timeframe)
    assert m.source == "bundled" and m.provenance and m.notes[0] == m.provenance
    c = m.candles
    assert c.index.is_monotonic_increasing and c.index.is_unique and str(c.index.tz) == "UTC"
    assert (c[["open", "high", "low", "close"]] > 0).all().all()
    assert m.has_open_interest == BUNDLED[key].has_open_interest


def test_bundled_default_is_three_real_days_of_btc():
    m = load_bundled("btc_2026-09", "1m")
    assert m.candles.index[0] == pd.Timestamp("2026-09-21 03:00", tz="UTC")
    assert 81_000 < m.candles["close"].min() < m.candles["close"].max() < 88_000
    assert 2.7e9 < m.open_interest.min() and m.open_interest.max() < 3.5e9


def test_bundled_lookback_trims_to_the_end():
    m = load_bundled("btc_2026-02_crash", "5m", "12h")
    span = m.candles.index[-1] - m.candles.index[0]
    assert pd.Timedelta(hours=11) < span <= pd.Timedelta(hours=12)
