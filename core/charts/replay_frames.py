"""Charts for the cascade replay page (no Streamlit): the heatmap growing up to a replay time with
the liquidation map beside it, the model's liquidations and the real volume per period, detected
cascades, and the what-if cascade path.

A replay frame must be cheap (the server draws several a second, and the browser shares the same
two cores), so the replay chart is split in three:

* a **template** (``replay_template``): the Vega-Lite spec, built once per data and view with
  Altair, whose layers read *named* datasets; every axis and scale is fixed to the whole window, so
  the heatmap visibly grows from left to right and bars never rescale while it plays;
* a **backdrop** (``replay_backdrop``), also once per data and view: the whole window's heatmap
  image and price path. The template covers everything after the replay time with an opaque mask
  (the "now" dataset), so a frame shows only what was known then; the backdrop's datasets are the
  same bytes in every frame, so the browser never decodes the image again while it plays;
* the **frame** (``replay_frame``): the few small tables that do change at candle ``t`` (the
  replay time, the bars up to ``t``, the liquidation map at ``t``).

``replay_spec(template, frame)`` joins them. A frame costs a few milliseconds (a few hundred rows;
the price bands' labels of the map are computed once, in the layout). Times in the datasets are
epoch milliseconds (UTC scales throughout).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image

from core.charts.colours import ember_lut, ember_rgba
from core.charts.heatmap import profile_frame
from core.charts.raster import Raster, block_mean, group_edges, raster_of, side_grid, visible_rows
from core.constants import candle_length
from core.format import format_price, format_price_bands, format_usd
from core.grid.bands import highlight_top
from core.grid.types import Heatmap, Profile

#: Frame resolution: enough for a ~800 px wide chart, small enough to encode in a few ms.
REPLAY_MAX_COLS = 600
REPLAY_MAX_ROWS = 300
#: The backdrop's columns: one per candle up to this many, so the mask at a candle's close cuts
#: between two pixel columns; beyond it a column is narrower than a screen pixel of the chart.
BACKDROP_COLS = 1200
#: Most bars in the flow panels; the bar span is the shortest of ``BAR_SPANS`` that fits.
MAX_BARS = 200
BAR_SPANS: tuple[pd.Timedelta, ...] = tuple(
    pd.Timedelta(s) for s in ("1min", "5min", "15min", "30min", "1h", "2h", "4h", "12h", "1D")
)
#: Most points of the price path (each a group's last close): one per candle up to this many.
PATH_POINTS = 1200
#: Rows of the liquidation map beside the replay (as on the heatmap page).
PROFILE_ROWS = 120
#: What a frame sends (changes with the replay time) and what the backdrop sends once per replay.
DATASETS: tuple[str, ...] = ("now", "flows", "volume", "map_bars", "map_cum", "map_price")
BACKDROP: tuple[str, ...] = ("image", "path")


# --------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------


def replay_index(times: pd.DatetimeIndex, moment) -> int:
    """Position of the last candle opening at or before ``moment`` (0 when it is before them all).

    ``moment`` may be naive (read as UTC, as a time slider returns it) or timezone-aware.
    """
    if len(times) == 0:
        raise ValueError("no candles")
    ts = pd.Timestamp(moment)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    pos = int(np.searchsorted(pd.DatetimeIndex(times).as_unit("ns").asi8, ts.as_unit("ns").value, side="right")) - 1
    return min(max(pos, 0), len(times) - 1)


def slider_time(times: pd.DatetimeIndex, t: int):
    """Candle ``t``'s open time as a naive UTC ``datetime`` (what a time slider holds)."""
    return times[t].tz_convert("UTC").tz_localize(None).to_pydatetime()


def frame_step(step: pd.Timedelta, market_per_second: pd.Timedelta, fps: float) -> int:
    """Candles to advance per frame so that ``market_per_second`` of market time plays each second."""
    if fps <= 0 or step <= pd.Timedelta(0):
        raise ValueError("fps and the candle length must be positive")
    return max(1, int(round(market_per_second / step / fps)))


def bar_span(hm: Heatmap, max_bars: int = MAX_BARS) -> pd.Timedelta:
    """The shortest of ``BAR_SPANS`` (at least one candle) that splits the window into <= ``max_bars``."""
    step = candle_length(hm.timeframe, hm.times)
    window = (hm.times[-1] - hm.times[0]) + step if len(hm.times) else step
    for span in BAR_SPANS:
        if span >= step and window / span <= max_bars:
            return span
    return BAR_SPANS[-1]


def span_words(span: pd.Timedelta) -> str:
    """A bar span in words: "15 min", "1 h", "1 d"."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 1440:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} d"


def _ms(times) -> np.ndarray:
    """Epoch milliseconds of UTC timestamps (what the datasets carry)."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8 // 1_000_000


# --------------------------------------------------------------------------------------------
# Frame data (pure numpy / pandas)
# --------------------------------------------------------------------------------------------


def replay_raster(
    hm: Heatmap,
    t: int,
    vmax: float,
    price_range: tuple[float, float] | None = None,
    side: str = "both",
    max_cols: int = REPLAY_MAX_COLS,
    max_rows: int = REPLAY_MAX_ROWS,
) -> Raster:
    """The heatmap's candles 0..``t`` coloured on a fixed scale [0, ``vmax``] into one PNG.

    Columns are grouped as for the whole window (``group_edges(T, max_cols)``) and cut at ``t``:
    the last group holds only the candles up to ``t`` (no look-ahead), and every earlier pixel
    column is the same in every frame. ``vmax`` should come from the whole window (e.g.
    ``render_raster(...).vmax``) so colours do not shift as the replay advances.
    """
    n = len(hm.times)
    if not 0 <= t < n:
        raise IndexError(f"candle {t} is out of range for {n} candles")
    rows = visible_rows(hm, price_range)
    grid = side_grid(hm, side)[rows, : t + 1]
    full = group_edges(n, max_cols)
    c_edges = np.append(full[full < t + 1], t + 1)
    r_edges = group_edges(grid.shape[0], max_rows)
    cells = block_mean(grid, r_edges, c_edges)
    return raster_of(hm, rows, ember_rgba(cells, vmax), vmax, upto=t)


def replay_colour_top(hm: Heatmap, highlight: float, side: str = "both") -> float:
    """Top of the replay's colour scale at ``highlight`` (0..100, the heatmap page's "Highlight":
    stronger = a lower top = a brighter picture): ``core.grid.bands.highlight_top`` of the cells of the
    *whole* window (every band, every candle), so it is the same in every frame and at every zoom.
    1.0 when the window is empty.
    """
    return highlight_top(side_grid(hm, side), highlight)


def period_flows(hm: Heatmap, t: int | None = None, max_bars: int = MAX_BARS) -> pd.DataFrame:
    """Per period (``bar_span``) up to candle ``t`` (default: all): the model's liquidated long and
    short USD and the real traded volume in USD (volume x close), summed over the period's candles.

    Returns
    -------
    pandas.DataFrame
        Columns t0, t1 (period start and end, UTC; the last period ends at candle ``t``'s close),
        long_usd, short_usd, volume_usd.
    """
    last = len(hm.times) - 1 if t is None else t
    span = bar_span(hm, max_bars)
    times = hm.times[: last + 1].as_unit("ns")
    keys = times.floor(span).asi8
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    t0 = pd.DatetimeIndex(keys[starts]).tz_localize("UTC")
    t1 = np.minimum(t0 + span, times[-1] + candle_length(hm.timeframe, hm.times))

    def sums(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.nan_to_num(np.asarray(values[: last + 1], dtype=float)), starts)

    return pd.DataFrame({
        "t0": t0, "t1": t1,
        "long_usd": sums(hm.liquidated_long), "short_usd": sums(hm.liquidated_short),
        "volume_usd": sums(hm.volume * hm.close),
    })


def _flow_rows(flows: pd.DataFrame) -> pd.DataFrame:
    """Bars of the liquidation panel: longs drawn downwards (negative), shorts upwards."""
    t0, t1 = _ms(flows["t0"]), _ms(flows["t1"])  # numpy throughout: this runs once per replay frame
    when = flows["t0"].dt.strftime("%d %b %H:%M").to_numpy()
    columns: dict[str, list] = {"t0": [], "t1": [], "side": [], "signed": [], "when": [], "amount": []}
    for side, column, sign in (("Longs", "long_usd", -1.0), ("Shorts", "short_usd", 1.0)):
        usd = flows[column].to_numpy()
        keep = usd > 0
        columns["t0"].append(t0[keep])
        columns["t1"].append(t1[keep])
        columns["side"].append(np.full(int(keep.sum()), side, dtype=object))
        columns["signed"].append(sign * usd[keep])
        columns["when"].append(when[keep])
        columns["amount"].append(np.array([format_usd(v) for v in usd[keep]], dtype=object))
    return pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})


def _volume_rows(flows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "t0": _ms(flows["t0"]), "t1": _ms(flows["t1"]), "usd": flows["volume_usd"].to_numpy(),
        "when": flows["t0"].dt.strftime("%d %b %H:%M").to_numpy(),
        "amount": [format_usd(v) for v in flows["volume_usd"]],
    })


def map_band_labels(hm: Heatmap, price_range: tuple[float, float]) -> np.ndarray:
    """The price band of each row of the replay's liquidation map in words ("62,000 – 62,150"): the
    rows are the same at every candle (``hm.price_edges``), so this is computed once per replay."""
    frame = profile_frame(hm.profile(0), price_range, max_rows=PROFILE_ROWS)
    return np.array(format_price_bands(frame["p0"], frame["p1"]), dtype=object)


def _map_rows(profile: Profile, price_range: tuple[float, float],
              labels: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bars and cumulative curves of the liquidation map (``core.charts.profile_frame``); ``labels``
    are the rows' band labels (``map_band_labels``), computed here when not given."""
    frame = profile_frame(profile, price_range, max_rows=PROFILE_ROWS)
    if labels is None or len(labels) != len(frame):
        labels = np.array(format_price_bands(frame["p0"], frame["p1"]), dtype=object)
    bars = []
    cums = []
    for side, usd, cum in (("Longs", "long_usd", "cum_long"), ("Shorts", "short_usd", "cum_short")):
        keep = (frame[usd] > 0).to_numpy()
        b = frame[keep]
        bars.append(pd.DataFrame({
            "p0": b["p0"].to_numpy(), "p1": b["p1"].to_numpy(), "side": side, "usd": b[usd].to_numpy(),
            "band": labels[keep], "amount": [format_usd(v) for v in b[usd]],
        }))
        c = frame.dropna(subset=[cum])
        cums.append(pd.DataFrame({"mid": ((c["p0"] + c["p1"]) / 2).to_numpy(), "side": side, "cum": c[cum].to_numpy()}))
    return pd.concat(bars, ignore_index=True), pd.concat(cums, ignore_index=True)


def moment_summary(hm: Heatmap, t: int) -> str:
    """One line about candle ``t``, named by its open time like the replay's time slider: its close
    price, the move since the window began, and what the model liquidated in it and so far."""
    change = hm.close[t] / hm.open[0] - 1.0
    so_far_long = float(hm.liquidated_long[: t + 1].sum())
    so_far_short = float(hm.liquidated_short[: t + 1].sum())
    return (
        f"{hm.times[t]:%a %d %b %H:%M} UTC candle · close {format_price(hm.close[t])} ({change:+.1%} in the window) · "
        f"this candle: {format_usd(hm.liquidated_long[t])} longs / {format_usd(hm.liquidated_short[t])} shorts "
        f"liquidated · so far: {format_usd(so_far_long)} longs / {format_usd(so_far_short)} shorts liquidated (model)"
    )


@dataclass(frozen=True)
class ReplayLayout:
    """What stays fixed while the replay plays: axes, scales, shading and sizes."""

    t_start: int  # epoch ms of the first open
    t_end: int  # epoch ms of the last close
    price_range: tuple[float, float]
    vmax: float
    span: pd.Timedelta
    liq_top: float  # largest long or short USD of one period
    volume_top: float
    map_top: float  # largest USD of one map band over the window
    cum_top: float  # largest cumulative USD of the map over the window
    windows: pd.DataFrame  # detected cascades: start, end (ms), rank, summary
    map_labels: np.ndarray  # the map's price band labels (``map_band_labels``)
    width: int = 640
    height: int = 380
    map_width: int = 210


def cascade_windows(cascades: pd.DataFrame) -> pd.DataFrame:
    """Detected cascades as shaded windows: start and end (epoch ms), rank label ("#1"), summary."""
    return pd.DataFrame({
        "start": _ms(cascades["start"]), "end": _ms(cascades["end"]),
        "rank": [f"#{i + 1}" for i in range(len(cascades))],
        "lane": [3 + 15 * (i % 2) for i in range(len(cascades))],  # pixel row of the label (neighbours apart)
        "summary": cascades["summary"].astype(str).to_numpy(),
    })


def replay_layout(
    hm: Heatmap,
    price_range: tuple[float, float],
    vmax: float,
    cascades: pd.DataFrame,
    width: int = 640,
    height: int = 380,
    max_bars: int = MAX_BARS,
) -> ReplayLayout:
    """The fixed frame of a replay of ``hm``: whole-window axes and the largest values of each panel."""
    flows = period_flows(hm, None, max_bars)
    rows = visible_rows(hm, price_range)
    r_edges = group_edges(rows.stop - rows.start, PROFILE_ROWS)
    band_usd = np.add.reduceat(np.maximum(hm.long[rows], hm.short[rows]), r_edges[:-1], axis=0)
    totals = np.maximum(hm.long[rows].sum(axis=0), hm.short[rows].sum(axis=0))
    return ReplayLayout(
        t_start=int(_ms(hm.times[:1])[0]),
        t_end=int(_ms(hm.times[-1:] + candle_length(hm.timeframe, hm.times))[0]),
        price_range=(float(price_range[0]), float(price_range[1])),
        vmax=float(vmax),
        span=bar_span(hm, max_bars),
        liq_top=float(max(flows["long_usd"].max(), flows["short_usd"].max(), 1.0)),
        volume_top=float(max(flows["volume_usd"].max(), 1.0)),
        map_top=float(max(band_usd.max(initial=0.0), 1.0)),
        cum_top=float(max(totals.max(initial=0.0), 1.0)),
        windows=cascade_windows(cascades),
        map_labels=map_band_labels(hm, price_range),
        width=width,
        height=height,
    )


def ember_indexed_png(cells: np.ndarray, vmax: float) -> bytes:
    """``cells`` (row 0 = lowest band) as a palette PNG of the ember map over [0, ``vmax``]: index 0
    is transparent (empty cells), 1..255 the map's own 256-step table (its lowest step shown as the
    next one). Several times smaller than the RGBA PNG of ``ember_rgba``, for an image that is sent
    with every replay frame."""
    level = np.clip(cells / max(vmax, 1e-12), 0.0, 1.0)
    index = np.where(cells > 0, np.clip(np.round(level * 255), 1, 255), 0).astype(np.uint8)
    image = Image.fromarray(np.ascontiguousarray(index[::-1]), mode="P")
    image.putpalette(ember_lut(256).astype(np.uint8).ravel().tolist())
    buf = io.BytesIO()
    image.save(buf, format="PNG", transparency=0, optimize=True)
    return buf.getvalue()


def replay_backdrop(hm: Heatmap, layout: ReplayLayout) -> dict[str, pd.DataFrame]:
    """The datasets drawn once per replay (``BACKDROP``): the whole window's heatmap image on the
    layout's fixed colour scale (at most ``BACKDROP_COLS`` columns, a palette PNG) and its price path
    (each point a candle's close, at its close time). The template's mask hides what lies after the
    replay time."""
    rows = visible_rows(hm, layout.price_range)
    grid = side_grid(hm, "both")[rows]
    cells = block_mean(grid, group_edges(grid.shape[0], REPLAY_MAX_ROWS), group_edges(grid.shape[1], BACKDROP_COLS))
    url = "data:image/png;base64," + base64.b64encode(ember_indexed_png(cells, layout.vmax)).decode("ascii")
    step = candle_length(hm.timeframe, hm.times)
    image = pd.DataFrame({"url": [url], "t0": _ms(hm.times[:1]), "t1": _ms(hm.times[-1:] + step),
                          "p0": [float(hm.price_edges[rows.start])], "p1": [float(hm.price_edges[rows.stop])]})
    idx = group_edges(len(hm.times), PATH_POINTS)[1:] - 1
    path = pd.DataFrame({"time": _ms(hm.times[idx] + step), "close": hm.close[idx]})
    return {"image": image, "path": path}


def replay_frame(hm: Heatmap, t: int, layout: ReplayLayout, max_bars: int = MAX_BARS) -> dict[str, pd.DataFrame]:
    """The datasets of the replay chart that change with candle ``t`` (see ``DATASETS``): only what is
    known at the close of candle ``t``. "now" also says where the mask over the backdrop starts (the
    close of ``t``) and ends (the window's end)."""
    if not 0 <= t < len(hm.times):
        raise IndexError(f"candle {t} is out of range for {len(hm.times)} candles")
    close_time = hm.times[t] + candle_length(hm.timeframe, hm.times)
    close_ms = _ms(pd.DatetimeIndex([close_time]))
    now = pd.DataFrame({"time": close_ms, "end": [layout.t_end], "close": [float(hm.close[t])],
                        "label": [format_price(hm.close[t])], "when": [f"{close_time:%d %b %H:%M} UTC"]})
    flows = period_flows(hm, t, max_bars)
    map_bars, map_cum = _map_rows(hm.profile(t), layout.price_range, layout.map_labels)
    return {
        "now": now, "flows": _flow_rows(flows), "volume": _volume_rows(flows),
        "map_bars": map_bars, "map_cum": map_cum,
        "map_price": pd.DataFrame({"price": [float(hm.close[t])], "label": [f"price {format_price(hm.close[t])}"]}),
    }


def replay_spec(template: dict, frame: dict[str, pd.DataFrame]) -> dict:
    """The template with this frame's datasets added to its own (the template is not modified)."""
    return {**template, "datasets": {**template.get("datasets", {}), **frame}}
