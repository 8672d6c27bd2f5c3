"""Time reading a 10^6-row Binance klines CSV with core.data.files.load_files (prints medians).

Run from the repo root:  python bench/bench_files.py [--rows 1000000] [--runs 5]

The import page promises that an upload of up to two million rows is read in seconds; this is
where that is measured (tests/core/data/test_files.py checks only that it is read whole).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.data.files import load_files  # noqa: E402


def klines_csv(rows: int) -> bytes:
    """A headerless 1m klines CSV of ``rows`` rows in Binance's column order."""
    opens = (1_600_000_000_000 + np.arange(rows, dtype=np.int64) * 60_000).tolist()
    prices = (60_000 + np.arange(rows) % 1000).tolist()
    return "\n".join(f"{t},{p},{p + 5},{p - 5},{p + 1},12.5,{t + 59999},7,3,1,2,0"
                     for t, p in zip(opens, prices)).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = klines_csv(args.rows)
    seconds = []
    for _ in range(args.runs):
        start = time.perf_counter()
        market = load_files([("BTCUSDT-1m-2020-09.csv", data)])
        seconds.append(time.perf_counter() - start)
        assert len(market.candles) == args.rows
    print(f"load_files, {args.rows:,} rows ({len(data) / 2**20:,.0f} MB): median {statistics.median(seconds):.2f} s "
          f"over {args.runs} runs (min {min(seconds):.2f}, max {max(seconds):.2f})")


if __name__ == "__main__":
    main()
