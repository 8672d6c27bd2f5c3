"""Size and speed of the shared cache's market blobs, and what a Redis hit costs a replica.

Run from the repo root:  python bench/bench_shared_cache.py [--runs 21]

Markets: the bundled BTC sample at 5m (3 days) and a synthetic 30-day 1m market (43,200 candles,
with funding and long/short series). For each: the blob's bytes against the raw float columns and
a Parquet file of the same frames (what the last-good store writes), the encode and decode
medians, and the median of ``SharedCache.single_flight`` served from Redis (one MGET + decode) on a
redis-server started here on a free loopback port (Debian's /usr/bin/redis-server).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.data.bundled import DEFAULT_DATASET, load_bundled  # noqa: E402
from core.data.market import CANDLE_COLUMNS, MarketData  # noqa: E402
from core.data.market_codec import decode_market, encode_market  # noqa: E402
from core.data.shared_cache import SharedCache  # noqa: E402
from core.data.shared_services import MARKET_CODEC  # noqa: E402
from tests.redis.redis_server import RedisServer, redis_binary  # noqa: E402


def synthetic_month() -> MarketData:
    """30 days of 1m candles, random-walk price and open interest, 8-hourly funding, hourly long/short."""
    rng = np.random.default_rng(7)
    n = 30 * 1440
    index = pd.date_range("2026-08-01", periods=n, freq="1min", tz="UTC", name="time")
    close = 60_000 * np.exp(np.cumsum(rng.normal(0, 5e-4, n)))
    spread = np.abs(rng.normal(0, 2e-4, n)) * close
    open_ = np.r_[close[0], close[:-1]]
    candles = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.exponential(40, n),
        },
        index=index,
    )
    oi = pd.Series(2e9 * np.exp(np.cumsum(rng.normal(0, 1e-4, n))), index=index, name="open_interest")
    funding_times = pd.date_range("2026-08-01", periods=90, freq="8h", tz="UTC")
    ratio_times = pd.date_range("2026-08-01", periods=720, freq="1h", tz="UTC")
    return MarketData(
        exchange="binanceusdm",
        symbol="BTC/USDT:USDT",
        timeframe="1m",
        candles=candles,
        open_interest=oi,
        funding=pd.Series(rng.normal(1e-4, 3e-5, 90), index=funding_times, name="funding"),
        long_short_ratio=pd.Series(rng.uniform(0.6, 1.8, 720), index=ratio_times, name="long_short_ratio"),
        fetched_at=index[-1] + pd.Timedelta(minutes=1),
        provenance="synthetic",
    )


def median_ms(call: Callable[[], object], runs: int) -> float:
    """Median wall time of ``call`` in milliseconds (after one warm-up call)."""
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def parquet_bytes(market: MarketData) -> int:
    """Bytes of a Parquet file of the candles and open interest (the last-good store's layout)."""
    frame = market.candles[list(CANDLE_COLUMNS)].assign(open_interest=market.open_interest.to_numpy())
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame.reset_index(names="time"), preserve_index=False), sink)
    return sink.getbuffer().nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    binary = redis_binary()
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    markets = {"bundled BTC 5m (3 days)": load_bundled(DEFAULT_DATASET, "5m", None), "synthetic 1m (30 days)": synthetic_month()}
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(binary, Path(tmp))
        server.start()
        try:
            shared = SharedCache.from_url(server.url)
            for title, market in markets.items():
                blob = encode_market(market)
                raw = (market.candles.to_numpy().nbytes + market.candles.index.asi8.nbytes
                       + market.open_interest.to_numpy().nbytes)
                shared.put(title, blob, ttl=600)
                hit = median_ms(lambda t=title, m=market: shared.single_flight(t, lambda: m, 600, MARKET_CODEC), args.runs)
                print(f"{title}: {len(market.candles):,} candles")
                print(f"  blob {len(blob):,} B = {len(blob) / raw:.2f} x raw columns with times ({raw:,} B);")
                print(f"  Parquet of the same frames {parquet_bytes(market):,} B")
                print(f"  encode {median_ms(lambda m=market: encode_market(m), args.runs):.1f} ms median,")
                print(f"  decode {median_ms(lambda b=blob: decode_market(b), args.runs):.1f} ms median,")
                print(f"  single_flight served from Redis {hit:.1f} ms median ({args.runs} runs)")
        finally:
            server.kill()


if __name__ == "__main__":
    main()
