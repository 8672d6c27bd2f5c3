"""Convert the real sample data in ../shared/data into the compact Parquet files under data/bundled/.

Run once from the repo root: ``python scripts/build_bundled.py``. The app and the tests read only
the Parquet files; provenance is kept in core/data/bundled.py and data/bundled/SOURCES.md.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OUT = Path(__file__).resolve().parents[1] / "data" / "bundled"


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, compression="zstd", index=True)
    print(f"{path.relative_to(OUT.parent.parent)}: {len(frame)} rows, {path.stat().st_size:,} bytes")


def _utc(values: pd.Series, unit: str | None = None) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values, unit=unit, utc=True), name="time").as_unit("ns")


def build_btc_2026_09() -> None:
    src = SHARED / "btc_2026-09"
    c = pd.read_csv(src / "btc_usd_1m_derived.csv")
    candles = c[["open", "high", "low", "close", "volume"]].astype("float64").set_axis(_utc(c["ts"]))
    oi = pd.read_csv(src / "okx_btc_open_interest_5m.csv")
    oi_frame = pd.DataFrame({"oi_usd": oi["oi_usd"].astype("float64").to_numpy()}, index=_utc(oi["ts"]))
    ls = pd.read_csv(src / "okx_btc_long_short_ratio.csv")
    ls_frame = pd.DataFrame(
        {"long_short_ratio": ls["okx_btc_long_short_account_ratio"].astype("float64").to_numpy()}, index=_utc(ls["ts"])
    )
    _write(candles, OUT / "btc_2026-09" / "candles.parquet")
    _write(oi_frame, OUT / "btc_2026-09" / "open_interest.parquet")
    _write(ls_frame, OUT / "btc_2026-09" / "long_short_ratio.parquet")


def build_btc_2026_02_crash() -> None:
    src = SHARED / "btc_2026-02_crash"
    c = pd.read_csv(src / "binance_btcusdt_perp_1m.csv")
    candles = c[["open", "high", "low", "close", "volume"]].astype("float64").set_axis(_utc(c["open_time"], "ms"))
    oi = pd.read_csv(src / "binance_btcusdt_open_interest_5m.csv")
    oi_frame = pd.DataFrame({"oi_usd": oi["oi_usd"].astype("float64").to_numpy()}, index=_utc(oi["timestamp"], "ms"))
    _write(candles, OUT / "btc_2026-02_crash" / "candles.parquet")
    _write(oi_frame, OUT / "btc_2026-02_crash" / "open_interest.parquet")


def build_btc_2024_03_05() -> None:
    src = SHARED / "btc_2024-03-05_cascade"
    c = pd.read_csv(src / "binance_btcusdt_perp_1m.csv")
    candles = (
        c[["open", "high", "low", "close", "volume_btc"]]
        .rename(columns={"volume_btc": "volume"})
        .astype("float64")
        .set_axis(_utc(c["open_time_ms"], "ms"))
    )
    _write(candles, OUT / "btc_2024-03-05_crash" / "candles.parquet")


if __name__ == "__main__":
    build_btc_2026_09()
    build_btc_2026_02_crash()
    build_btc_2024_03_05()
