"""The words of the heatmap picture's PNG export (core.charts.canvas.export_labels, file_stem)."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from core.charts.canvas import export_labels, file_stem


def test_file_stem_names_market_exchange_timeframe_and_day():
    """BTC/USDT:USDT on binance, 5m, from 5 Feb 2026 -> the name a user finds in Downloads."""
    stem = file_stem("BTC/USDT:USDT", "binance", "5m", pd.Timestamp("2026-02-05 21:00", tz="UTC"))
    assert stem == "BTCUSDT_binance_5m_2026-02-05_liquidation-heatmap"


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=8))
def test_file_stem_is_always_a_safe_file_name(symbol, exchange, timeframe):
    """Whatever the names hold (an imported file's label, say), the stem has no path or odd characters."""
    stem = file_stem(symbol, exchange, timeframe, pd.Timestamp("2026-02-05"))
    assert re.fullmatch(r"[A-Za-z0-9._-]+", stem) and "/" not in stem and len(stem.split("_")) >= 5


def test_labels_say_window_with_year_model_and_estimate():
    times = pd.date_range("2026-02-05 21:00", periods=73, freq="5min", tz="UTC")
    labels = export_labels("BTC", "Binance USD-M", "BTC/USDT:USDT", "binance", "5m", times, "Calibrated (v2)")
    assert labels.title == "BTC liquidation heatmap · Binance USD-M · 5m candles"
    assert labels.details == ("05 Feb 2026 21:00 – 06 Feb 2026 03:00 UTC · model: Calibrated (v2)"
                              " · a model estimate, not exchange data")
    assert labels.file_stem == "BTCUSDT_binance_5m_2026-02-05_liquidation-heatmap"
