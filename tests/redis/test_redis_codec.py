"""The shared values: every ``MarketData`` field comes back exactly from its blob, depth and coin
lists from their JSON; damaged or foreign bytes are refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.bundled import DEFAULT_DATASET, load_bundled
from core.data.market import CANDLE_COLUMNS, MarketData
from core.data.depth import Depth
from core.data.market_codec import MAGIC, decode_market, encode_market
from core.data.shared_services import decode_depth, decode_names, encode_depth, encode_names


def assert_same_market(a: MarketData, b: MarketData) -> None:
    """Every dataclass field equal (frames exactly, dtypes and index included)."""
    for spec in dataclasses.fields(a):
        x, y = getattr(a, spec.name), getattr(b, spec.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_freq=False)
        elif isinstance(x, pd.Series):
            pd.testing.assert_series_equal(x, y, check_freq=False)
        else:
            assert x == y, spec.name
            assert type(x) is type(y), spec.name


def market_with(n: int, seed: int, *, funding: bool, ratio: bool) -> MarketData:
    """A synthetic market of ``n`` 5-minute candles (NaN open interest at the start, like live data)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-09-21", periods=n, freq="5min", tz="UTC", name="time")
    close = 60_000 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    candles = pd.DataFrame(
        {
            "open": close * (1 + rng.normal(0, 1e-4, n)),
            "high": close * 1.002,
            "low": close * 0.998,
            "close": close,
            "volume": rng.exponential(50, n),
        },
        index=index,
    )
    candles["high"] = candles[["open", "high", "close"]].max(axis=1)
    candles["low"] = candles[["open", "low", "close"]].min(axis=1)
    oi = pd.Series(rng.uniform(1e9, 2e9, n), index=index, name="open_interest")
    oi.iloc[: min(3, n)] = np.nan
    events = pd.date_range("2026-09-21", periods=3, freq="8h", tz="UTC")
    return MarketData(
        exchange="bybit",
        symbol="BTC/USDT:USDT",
        timeframe="5m",
        candles=candles,
        open_interest=oi,
        funding=pd.Series(rng.normal(1e-4, 1e-5, 3), index=events, name="funding") if funding else None,
        long_short_ratio=pd.Series(rng.uniform(0.5, 2, 3), index=events, name="long_short_ratio") if ratio else None,
        source="live",
        fetched_at=pd.Timestamp("2026-09-24 12:34:56.789", tz="UTC"),
        notes=("2 rows dropped", "open interest from OKX"),
        last_candle_forming=bool(seed % 2),
        provenance="Bybit public API",
    )


def test_bundled_market_round_trips_exactly_and_smaller_than_its_frames():
    """The bundled sample comes back field for field, in fewer bytes than its raw float columns."""
    market = load_bundled(DEFAULT_DATASET, "5m", None)
    blob = encode_market(market)
    assert blob.startswith(MAGIC)
    assert_same_market(market, decode_market(blob))
    raw = market.candles[list(CANDLE_COLUMNS)].to_numpy().nbytes + market.open_interest.to_numpy().nbytes
    assert len(blob) < raw


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 400), seed=st.integers(0, 2**16), funding=st.booleans(), ratio=st.booleans())
def test_any_market_round_trips(n, seed, funding, ratio):
    """Any market (optional series present or not, NaN open interest) decodes to an equal market."""
    market = market_with(n, seed, funding=funding, ratio=ratio)
    assert_same_market(market, decode_market(encode_market(market)))


def test_empty_market_round_trips():
    """A market with no candles (an exchange answering nothing) round-trips too."""
    full = market_with(5, 1, funding=False, ratio=False)
    empty = full.window(start=pd.Timestamp("2030-01-01", tz="UTC"))
    assert empty.candles.empty
    assert_same_market(empty, decode_market(encode_market(empty)))


def test_encoding_does_not_mutate_the_market():
    """Encoding leaves the market's frames untouched."""
    market = market_with(50, 3, funding=True, ratio=True)
    before = market.candles.copy(), market.open_interest.copy()
    encode_market(market)
    pd.testing.assert_frame_equal(market.candles, before[0])
    pd.testing.assert_series_equal(market.open_interest, before[1])


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"",
        lambda b: b"PKL1" + b[4:],
        lambda b: b[:4] + bytes([99]) + b[5:],
        lambda b: b[: len(b) // 2],
        lambda b: b[:9] + b"{not json" + b[18:],
    ],
    ids=["empty", "wrong magic", "other version", "truncated", "bad header"],
)
def test_damaged_blobs_raise_value_error(damage):
    """Bytes that are not a whole blob of this version raise ValueError (callers treat it as a miss)."""
    blob = encode_market(market_with(30, 2, funding=True, ratio=False))
    with pytest.raises(ValueError):
        decode_market(damage(blob))


# Depth and coin lists (JSON): the other results the replicas share.

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(usd=finite, seen=finite, reach=finite, note=st.text(max_size=300))
def test_any_depth_round_trips(usd, seen, reach, note):
    """Every field of a ``Depth`` comes back exactly (floats bit for bit, the note as written)."""
    depth = Depth(usd, seen, reach, note)
    back = decode_depth(encode_depth(depth))
    assert back == depth and all(type(getattr(back, f)) is float for f in ("usd", "seen_usd", "reach"))


@given(names=st.lists(st.text(max_size=30), max_size=50).map(tuple))
def test_any_coin_list_round_trips(names):
    """A coin list comes back as the same tuple, in order."""
    assert decode_names(encode_names(names)) == names


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\xff",
        b"[]",
        b'{"usd": 1, "seen_usd": 1, "reach": 1}',
        b'{"usd": true, "seen_usd": 1, "reach": 1, "note": ""}',
        b'{"usd": "1", "seen_usd": 1, "reach": 1, "note": ""}',
        encode_market(load_bundled(DEFAULT_DATASET, "1h")),
    ],
)
def test_foreign_bytes_are_not_a_depth(blob):
    """Bytes that are not a depth raise ValueError (the shared cache then treats them as a miss)."""
    with pytest.raises(ValueError):
        decode_depth(blob)


@pytest.mark.parametrize("blob", [b"", b"{}", b'["BTC/USDT:USDT", 1]', b'"BTC"'])
def test_foreign_bytes_are_not_a_coin_list(blob):
    """Bytes that are not a list of strings raise ValueError."""
    with pytest.raises(ValueError):
        decode_names(blob)


@pytest.mark.parametrize(
    ("encode", "value"),
    [(encode_depth, 1.5), (encode_depth, Depth(float("nan"), 1.0, 1.0)), (encode_names, ["BTC"]), (encode_names, (1,))],
)
def test_what_a_codec_cannot_carry_is_refused_when_encoding(encode, value):
    """A wrong type or a NaN is refused (the value then stays in the process that computed it)."""
    with pytest.raises((TypeError, ValueError)):
        encode(value)
