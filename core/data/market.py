"""``MarketData``: the one shape every data source produces, and the rules that make it clean.

Validation (applied to everything an exchange or a file returns):
  * timestamps sorted, de-duplicated (the last row of a duplicate wins), UTC;
  * rows with a NaN or non-positive price are dropped, and rows where
    ``high < max(open, close)`` or ``low > min(open, close)``;
  * gaps are kept as gaps (no candle is invented);
  * what was dropped is counted in ``MarketData.notes``.

Open-interest alignment rule (``align_open_interest``): an open-interest observation stamped
at time tau is the open interest as of tau. A candle's OI is the latest observation stamped at or
before the candle's close (open time + timeframe); nothing from the future is used. Candles before
the first observation have NaN (unknown), and so do candles more than ``max_age`` after the last
observation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.constants import SOURCES, timeframe_delta

CANDLE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class MarketData:
    """Candles and open interest of one market over one window.

    Parameters
    ----------
    exchange, symbol, timeframe
        ccxt exchange id (or a dataset label), ccxt unified symbol, candle timeframe ("5m").
    candles
        DataFrame on a UTC DatetimeIndex (candle open time) with float columns
        open, high, low, close, volume (volume in base units).
    open_interest
        Series of open interest in USD notional at each candle's close, same index as ``candles``
        (NaN where unknown).
    funding, long_short_ratio
        Optional Series (funding rate per funding event; long/short account ratio), UTC index.
    source
        "live", "snapshot", "bundled" or "upload".
    fetched_at
        When the data was fetched (UTC); for bundled data, when the sample ends.
    notes
        Plain-language notes for the user: fallbacks, dropped rows, proxies, provenance.
    last_candle_forming
        True when the last candle was still open when fetched.
    provenance
        One line saying where the data comes from (shown wherever the data is shown).
    data_id
        Content identity: equal ids mean the same data, so it can key caches and saved state.
        Uploads: ``upload:`` + sha256 of the uploaded bytes (order-independent); bundled data:
        ``bundled:`` + dataset key and view; live data: exchange, market, timeframe, lookback and
        the fetch time bucket. Left empty, it is derived from the content (``content_id``).
    window_start
        Open time of the first candle to show; the candles before it are the model's memory
        (history it runs on so the window does not start empty). None: everything is the window.
    """

    exchange: str
    symbol: str
    timeframe: str
    candles: pd.DataFrame
    open_interest: pd.Series
    funding: pd.Series | None = None
    long_short_ratio: pd.Series | None = None
    source: str = "live"
    fetched_at: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now(tz="UTC"))
    notes: tuple[str, ...] = ()
    last_candle_forming: bool = False
    provenance: str = ""
    data_id: str = ""
    window_start: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {self.source!r}")
        missing = [c for c in CANDLE_COLUMNS if c not in self.candles.columns]
        if missing:
            raise ValueError(f"candles lack columns {missing}")
        if not isinstance(self.candles.index, pd.DatetimeIndex) or self.candles.index.tz is None:
            raise ValueError("candles need a tz-aware (UTC) DatetimeIndex")
        if not self.open_interest.index.equals(self.candles.index):
            raise ValueError("open_interest must share the candles' index (use align_open_interest)")
        if not self.data_id:
            object.__setattr__(self, "data_id", content_id(self))

    @property
    def has_open_interest(self) -> bool:
        """True when at least two candles have a known open interest (so changes can be taken)."""
        return int(np.count_nonzero(~np.isnan(self.open_interest.to_numpy(dtype="float64", na_value=np.nan)))) >= 2

    @property
    def memory(self) -> pd.Timedelta:
        """Span of candles before ``window_start`` (the model's memory); 0 without one."""
        idx = self.candles.index
        if self.window_start is None or not len(idx) or self.window_start <= idx[0]:
            return pd.Timedelta(0)
        return min(pd.Timestamp(self.window_start), idx[-1]) - idx[0]

    @property
    def window_candles(self) -> pd.DataFrame:
        """The candles of the displayed window (from ``window_start``; all of them without memory)."""
        if self.window_start is None:
            return self.candles
        return self.candles.loc[self.candles.index >= self.window_start]

    @property
    def last_price(self) -> float:
        """Close of the last candle."""
        return float(self.candles["close"].iloc[-1])

    def with_notes(self, *notes: str) -> "MarketData":
        """A copy with ``notes`` appended (MarketData is frozen); the data, so ``data_id``, is kept."""
        return replace(self, notes=self.notes + tuple(n for n in notes if n))

    def window(self, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> "MarketData":
        """A copy restricted to candles whose open time lies in ``[start, end]``.

        Its ``data_id`` is derived from this one's and the candles kept (the same window of the
        same data has the same id; the whole data keeps its id).
        """
        idx = self.candles.index
        mask = np.ones(len(idx), dtype=bool)
        if start is not None:
            mask &= idx >= start
        if end is not None:
            mask &= idx <= end
        kept = idx[mask]
        same = bool(mask.all())
        view = "" if same or not len(kept) else f"{kept[0].value}-{kept[-1].value}"
        return replace(
            self,
            data_id=self.data_id if same else derived_id(self.data_id, "window", view),
            candles=self.candles.loc[mask].copy(),
            open_interest=self.open_interest.loc[mask].copy(),
            last_candle_forming=self.last_candle_forming and bool(mask[-1]) if len(mask) else False,
        )


def short_hash(*parts: object) -> str:
    """First 16 hex digits of the sha256 of ``parts`` (joined by a separator no part holds)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(str(part).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()[:16]


def bytes_id(blobs: Iterable[bytes]) -> str:
    """sha256 identity of several byte strings, independent of their order (16 hex digits)."""
    digests = sorted(hashlib.sha256(blob).hexdigest() for blob in blobs)
    return short_hash(*digests)


def derived_id(parent: str, *how: object) -> str:
    """Identity of data derived from ``parent`` by ``how`` (a resampling, a window, ...)."""
    return f"{parent.split('~')[0]}~{short_hash(parent, *how)}"


def combined_id(ids: Iterable[str]) -> str:
    """Identity of an aggregate of several markets: changes when any member's id changes
    (independent of their order)."""
    return "agg:" + short_hash(*sorted(ids))


def content_id(market: "MarketData") -> str:
    """``content:`` + a hash of everything a MarketData holds as data (candles, open interest,
    funding, long/short ratio, market and timeframe); the fallback when no id is given."""
    parts: list[object] = [market.exchange, market.symbol, market.timeframe]
    for series in (market.candles, market.open_interest, market.funding, market.long_short_ratio):
        if series is None:
            parts.append("-")
            continue
        hashed = pd.util.hash_pandas_object(series, index=True).to_numpy()
        parts.append(hashlib.sha256(hashed.tobytes()).hexdigest())
    if market.window_start is not None:
        parts.append(f"window_start={pd.Timestamp(market.window_start).value}")
    return "content:" + short_hash(*parts)


def clean_candles(raw: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Validate candles and say what was dropped.

    ``raw`` has a DatetimeIndex (or a ``timestamp`` column in ms) and the OHLCV columns.
    Returns the clean candles (float64 columns, UTC index, sorted, unique) and notes.
    """
    frame = raw.copy()
    if "timestamp" in frame.columns:
        frame.index = pd.to_datetime(frame.pop("timestamp"), unit="ms", utc=True)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError("candles need a DatetimeIndex or a 'timestamp' column in ms")
    frame.index = frame.index.tz_localize("UTC") if frame.index.tz is None else frame.index.tz_convert("UTC")
    frame.index = frame.index.as_unit("ns")
    frame.index.name = "time"
    notes: list[str] = []
    n0 = len(frame)
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        notes.append("candles arrived out of order and were sorted")
    frame = frame[~frame.index.duplicated(keep="last")]
    if (dups := n0 - len(frame)):
        notes.append(f"{dups} duplicate candle(s) dropped")

    # The checks on NumPy arrays (DataFrame methods here cost more than the fetch's parsing).
    values = np.empty((len(frame), len(CANDLE_COLUMNS)))
    for i, name in enumerate(CANDLE_COLUMNS):
        values[:, i] = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    o, h, lo, c, v = values.T
    prices = values[:, :4]
    with np.errstate(invalid="ignore"):
        bad_price = np.isnan(prices).any(axis=1) | (prices <= 0).any(axis=1)
        inconsistent = ~bad_price & ((h < np.fmax(o, c)) | (lo > np.fmin(o, c)))
    values[:, 4] = np.clip(np.where(np.isnan(v), 0.0, v), 0.0, None)
    if (n := int(bad_price.sum())):
        notes.append(f"{n} candle(s) with missing or non-positive prices dropped")
    if (n := int(inconsistent.sum())):
        notes.append(f"{n} candle(s) with high/low inconsistent with open/close dropped")
    keep = ~(bad_price | inconsistent)
    frame = pd.DataFrame(values[keep], index=frame.index[keep], columns=list(CANDLE_COLUMNS))
    return frame, tuple(notes)


def align_open_interest(
    oi: pd.Series, candle_index: pd.DatetimeIndex, timeframe: str, max_age: pd.Timedelta | None = None
) -> pd.Series:
    """Open interest (USD) at each candle's close, by the as-of rule in the module docstring.

    Parameters
    ----------
    oi
        Observations in USD on a UTC DatetimeIndex (any period: 5m, 1h, ...).
    candle_index
        Candle open times.
    timeframe
        Candle timeframe; the close is open + timeframe.
    max_age
        Observations older than this at a candle's close are not used (NaN). Default: one day.
    """
    out = pd.Series(np.nan, index=candle_index, name="open_interest", dtype="float64")
    obs = pd.to_numeric(oi, errors="coerce").astype("float64")
    obs = obs[obs.notna() & (obs > 0)]
    obs = obs[~obs.index.duplicated(keep="last")].sort_index()
    if obs.empty or len(candle_index) == 0:
        return out
    closes = candle_index + timeframe_delta(timeframe)
    obs_times = obs.index.as_unit("ns").asi8
    pos = np.searchsorted(obs_times, closes.as_unit("ns").asi8, side="right") - 1
    valid = pos >= 0
    age_limit = (max_age if max_age is not None else pd.Timedelta(days=1)).value
    ages = np.where(valid, closes.as_unit("ns").asi8 - obs_times[np.clip(pos, 0, None)], 0)
    valid &= ages <= age_limit
    values = np.where(valid, obs.to_numpy()[np.clip(pos, 0, None)], np.nan)
    return pd.Series(values, index=candle_index, name="open_interest", dtype="float64")


def resample_candles(candles: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Aggregate clean candles to a coarser ``timeframe`` (empty periods stay gaps)."""
    rule = timeframe_delta(timeframe)
    grouped = candles.resample(rule, label="left", closed="left")
    out = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(),
        }
    )
    return out.dropna(subset=["open", "high", "low", "close"])
