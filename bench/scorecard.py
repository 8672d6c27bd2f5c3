"""The per-candle scorecard of reference v1 and the calibrated v2 on real data, and the magnets test.

    python bench/scorecard.py            (from the repo root; reads ../shared/data in place)

1. Three months, 1h (../shared/data/btc_2025-12_2026-02_hourly): candles from the hourly file's
   price columns (Binance spot), open interest from Binance's 5-minute BTCUSDT archive taken at each
   candle's close (the app's as-of rule, ``align_open_interest``); realized = the file's
   CoinGlass long/short USD per hour. Also with the hourly file's own ``oi_close`` column (the
   open interest issue 13's figures were computed with). First 7 days skipped, hours with no
   liquidation left out; then the time split (first 60% of the scored hours / last 40%).
2. The 2026-02 crash at 1m (../shared/data/btc_2026-02_crash: Binance perpetual 1m candles and
   Binance open interest): the model's liquidated USD summed per hour against the hourly realized
   liquidations of the same hours (warm-up 6 hours: the sample is three days long).
Each for reference model v1 (``ModelParams()``) and the calibrated preset "Calibrated (v2)"
(``core.model.presets``), with the move x OI and uniform baselines; fit = first 60% of the scored
hours, held-out = last 40% (the dates are printed with each part).
3. Magnets (issue 13, item 5) on the three-month 1h heatmap: the larger cluster within +-10% against
   the smaller one and against a control level at the same distance on the other side, horizon one
   week, every hour after the warm-up and one hour a day (less dependent), 95% Wilson intervals.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.accuracy.magnets import MagnetResult, magnet_test_heatmap  # noqa: E402
from core.accuracy.per_candle import (  # noqa: E402
    DEFAULT_WARMUP,
    PerCandleScorecard,
    score_heatmap,
    score_per_candle,
    scored_mask,
    time_split,
)
from core.accuracy.realized_candles import read_candle_file  # noqa: E402
from core.data.market import MarketData, align_open_interest  # noqa: E402
from core.grid import compute_heatmap  # noqa: E402
from core.model import CALIBRATED_V2, REFERENCE_V1, ModelParams, model_params  # noqa: E402

DATA = REPO.parent / "shared" / "data"
HOURLY = DATA / "btc_2025-12_2026-02_hourly"
CRASH = DATA / "btc_2026-02_crash"
SYMBOL = "BTC/USDT:USDT"


def _oi_series(path: Path, time_col: str, usd_col: str) -> pd.Series:
    """A Binance open-interest archive (ms UTC, USD) as a Series."""
    raw = pd.read_csv(path)
    return pd.Series(raw[usd_col].to_numpy(dtype="float64"), index=pd.to_datetime(raw[time_col], unit="ms", utc=True))


def hourly_market(oi_source: str = "binance") -> tuple[MarketData, pd.DataFrame]:
    """The three-month 1h market (OI: "binance" 5m archive at each close, or "file": oi_close)."""
    frame = read_candle_file(HOURLY / "btc_1h_spot_liquidations_oi.csv")
    candles = frame[["open", "high", "low", "close"]].assign(volume=0.0)
    if oi_source == "binance":
        oi = align_open_interest(_oi_series(HOURLY / "binance_BTCUSDT_oi_5m.csv", "t", "oi_usd"), candles.index, "1h")
    else:
        oi = frame["open_interest"].rename("open_interest")
    market = MarketData("binanceusdm", SYMBOL, "1h", candles, oi, source="upload",
                        provenance="../shared/data/btc_2025-12_2026-02_hourly (read in place)")
    return market, frame[["long_usd", "short_usd"]]


def crash_market() -> MarketData:
    """The 2026-02 crash: Binance perpetual 1m candles with Binance open interest at each close."""
    raw = pd.read_csv(CRASH / "binance_btcusdt_perp_1m.csv")
    candles = raw[["open", "high", "low", "close", "volume"]].astype("float64")
    candles.index = pd.to_datetime(raw["open_time"], unit="ms", utc=True)
    oi = align_open_interest(_oi_series(CRASH / "binance_btcusdt_open_interest_5m.csv", "timestamp", "oi_usd"),
                             candles.index, "1m")
    return MarketData("binanceusdm", SYMBOL, "1m", candles, oi, source="upload",
                      provenance="../shared/data/btc_2026-02_crash (read in place)")


def _fmt(x: float) -> str:
    return "  n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:5.3f}"


def print_card(title: str, card: PerCandleScorecard) -> None:
    """The scorecard as a small table."""
    print(f"\n{title}")
    print(f"  {card.n_scored} candles scored ({card.first:%Y-%m-%d %H:%M} .. {card.last:%Y-%m-%d %H:%M} UTC); "
          f"{card.n_warmup} warm-up, {card.n_quiet} without liquidation, {card.n_excluded} outside the part; "
          f"realized ${card.realized_long_usd / 1e9:.2f}bn long / ${card.realized_short_usd / 1e9:.2f}bn short")
    print(f"  {'signal':<10} {'rho L':>6} {'rho S':>6} {'rho LS':>6} {'top5 L':>6} {'top5 S':>6}")
    for s in card.signals:
        print(f"  {s.name:<10} {_fmt(s.rho_long):>6} {_fmt(s.rho_short):>6} {_fmt(s.rho_pooled):>6} "
              f"{_fmt(s.capture_long):>6} {_fmt(s.capture_short):>6}")


def print_magnets(title: str, res: MagnetResult) -> None:
    """The three races with their 95% Wilson intervals."""
    print(f"\n{title}")
    print(f"  {res.n_candles} candles tested, {res.n_without_pair} without a cluster on both sides "
          f"within +-{res.window:.0%}; horizon {res.horizon} candles, every {res.step} candle(s)")
    for race in res.races:
        lo, hi = race.interval
        print(f"  {race.name:<40} {race.wins:>5} / {race.n:<5} = {_fmt(race.share)}  95% CI [{_fmt(lo)}, {_fmt(hi)}]"
              f"  (same-candle ties {race.ties}, neither reached {race.unresolved})")


def three_months(params: ModelParams, oi_source: str, name: str) -> tuple[MarketData, object]:
    market, realized = hourly_market(oi_source)
    heatmap = compute_heatmap(market, params, price_bins=1000)
    oi = market.open_interest.to_numpy(dtype="float64")
    label = "Binance 5m OI at each close" if oi_source == "binance" else "the hourly file's oi_close (CoinGlass)"
    card = score_heatmap(heatmap, realized, oi)
    print_card(f"Three months 1h, {name}, OI = {label}: all scored hours", card)
    per = realized.reindex(heatmap.times)
    mask = scored_mask(heatmap.times, per["long_usd"].fillna(0).to_numpy(), per["short_usd"].fillna(0).to_numpy())
    fit, held = time_split(mask)
    print_card("  ... fit part (first 60%)", score_heatmap(heatmap, realized, oi, mask=fit))
    print_card("  ... held-out part (last 40%)", score_heatmap(heatmap, realized, oi, mask=held))
    return market, heatmap


def crash(params: ModelParams, name: str) -> None:
    market = crash_market()
    heatmap = compute_heatmap(market, params, price_bins=500)
    hours = pd.DatetimeIndex(heatmap.times).floor("1h")
    per_min = pd.DataFrame({"ml": heatmap.liquidated_long, "ms": heatmap.liquidated_short,
                            "high": heatmap.high, "low": heatmap.low, "close": heatmap.close,
                            "oi": market.open_interest.to_numpy(dtype="float64")}, index=heatmap.times)
    g = per_min.groupby(hours)
    hourly = pd.DataFrame({"ml": g["ml"].sum(), "ms": g["ms"].sum(), "high": g["high"].max(),
                           "low": g["low"].min(), "close": g["close"].last(), "oi": g["oi"].last()})
    realized = read_candle_file(HOURLY / "btc_1h_spot_liquidations_oi.csv")[["long_usd", "short_usd"]]
    rel = realized.reindex(hourly.index)
    card = score_per_candle(hourly.index, hourly["ml"].to_numpy(), hourly["ms"].to_numpy(),
                            rel["long_usd"].fillna(0).to_numpy(), rel["short_usd"].fillna(0).to_numpy(),
                            hourly["close"].to_numpy(), hourly["high"].to_numpy(), hourly["low"].to_numpy(),
                            hourly["oi"].to_numpy(), warmup=pd.Timedelta(hours=6))
    print_card(f"2026-02 crash: {name} at 1m (Binance perp + Binance OI), summed per hour, vs hourly realized "
               "(warm-up 6 h)", card)


def magnets(heatmap, name: str) -> None:
    """The magnets races on one three-month heatmap, every hour and one hour a day."""
    warm = int(np.searchsorted(heatmap.times, heatmap.times[0] + DEFAULT_WARMUP))
    print_magnets(f"Magnets, three months 1h, {name}, every hour after the warm-up (overlapping: CI too narrow)",
                  magnet_test_heatmap(heatmap, window=0.10, horizon=168, step=1, start=warm))
    print_magnets(f"Magnets, {name}, one hour a day (00:00 UTC after the warm-up)",
                  magnet_test_heatmap(heatmap, window=0.10, horizon=168, step=24,
                                      start=warm + int((24 - heatmap.times[warm].hour) % 24)))


def main() -> None:
    t0 = time.perf_counter()
    models = {REFERENCE_V1: ModelParams(), CALIBRATED_V2: model_params(CALIBRATED_V2)}
    assert models[REFERENCE_V1] == model_params(REFERENCE_V1)
    print("Per-candle scorecard: reference model v1 (ModelParams() defaults) and the calibrated preset v2.")
    heatmaps = {}
    for name, params in models.items():
        three_months(params, "file", name)
        _, heatmaps[name] = three_months(params, "binance", name)
    for name, params in models.items():
        crash(params, name)
    for name, heatmap in heatmaps.items():  # on the Binance-OI maps (what the app computes live)
        magnets(heatmap, name)
    print(f"\n({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
