"""The replay chart's template (Altair, built once per data and view): stacked panels whose layers read
the named datasets of ``core.charts.replay_frames.replay_backdrop`` (once per replay) and
``replay_frame`` (per frame); see there for the split.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.charts.axes import AXIS_FONT, DOLLAR_LABEL, UNSIGNED_DOLLAR_LABEL
from core.charts.heatmap import colour_legend
from core.constants import CASCADE_FILL, CHART_BACKGROUND, LONG_COLOR, PRICE_COLOR, REPLAY_COLOR, SHORT_COLOR, VOLUME_COLOR
from core.charts.replay_frames import ReplayLayout, span_words

LEFT_AXIS = 70  # fixed y-axis width (px) so the stacked panels share one time axis
# Compact panels under the heatmap, so that at 1440x900 the Play button, the heatmap and both panels
# are on screen together (tests/browser/test_replay_browser.py checks it).
FLOWS_HEIGHT = 50
VOLUME_HEIGHT = 32


def _x(layout: ReplayLayout, field: str = "t0", axis: bool | None = None) -> alt.X:
    """The shared time channel: ``axis`` True draws the time axis with labels, False without labels,
    None leaves the axis and the scale to the one layer of the panel that sets them."""
    if axis is None:
        return alt.X(f"{field}:T")
    scale = alt.Scale(type="utc", domain=[layout.t_start, layout.t_end], nice=False)
    return alt.X(f"{field}:T", scale=scale, axis=alt.Axis(title=None, format="%d %b %H:%M", labelFontSize=AXIS_FONT,
                                                           grid=False, labelOverlap=True, labels=axis, ticks=axis))


def _left_axis(title: str | None, fmt: str, **kw) -> alt.Axis:
    return alt.Axis(title=title, format=fmt, labelFontSize=AXIS_FONT, minExtent=LEFT_AXIS, maxExtent=LEFT_AXIS, **kw)


def _shading(layout: ReplayLayout, labels: bool) -> list[alt.Chart]:
    if layout.windows.empty:
        return []
    base = alt.Chart(layout.windows)
    layers: list[alt.Chart] = [
        base.mark_rect(color=CASCADE_FILL, opacity=0.12).encode(
            x=_x(layout, "start"), x2=alt.X2("end:T"),
            tooltip=[alt.Tooltip("rank:N", title="Detected cascade"), alt.Tooltip("summary:N", title="What happened")],
        )
    ]
    if labels:
        layers.append(
            base.mark_text(color=CASCADE_FILL, align="left", baseline="top", dx=3, fontSize=12, fontWeight="bold")
            .encode(x=_x(layout, "start"), y=alt.Y("lane:Q", scale=None), text=alt.Text("rank:N"))
        )
    return layers


def _side_colour() -> alt.Color:
    """Longs blue, shorts orange (no legend: the panels say it in words)."""
    return alt.Color("side:N", scale=alt.Scale(domain=["Longs", "Shorts"], range=[LONG_COLOR, SHORT_COLOR]),
                     legend=None)


def _replay_rule(layout: ReplayLayout) -> alt.Chart:
    return alt.Chart(alt.NamedData("now")).mark_rule(color=REPLAY_COLOR, strokeWidth=1.5).encode(x=_x(layout, "time"))


def _future_mask(layout: ReplayLayout) -> alt.Chart:
    """An opaque rectangle in the background's colour from the replay time to the window's end: the
    whole-window backdrop shows only what was known at the replay time."""
    return alt.Chart(alt.NamedData("now")).mark_rect(color=CHART_BACKGROUND, opacity=1).encode(
        x=_x(layout, "time"), x2=alt.X2("end:T")
    )


def _heatmap_panel(layout: ReplayLayout) -> alt.LayerChart:
    y = alt.Scale(domain=list(layout.price_range), nice=False, zero=False)
    image = alt.Chart(alt.NamedData("image")).mark_image(aspect=False).encode(
        x=_x(layout, "t0", axis=False), x2=alt.X2("t1:T"),  # the time labels are under the bars, the bottom panel
        y=alt.Y("p0:Q", scale=y, axis=_left_axis("Price (USD)", ",.0f", grid=False)), y2=alt.Y2("p1:Q"),
        url=alt.Url("url:N"),
    )
    line = alt.Chart(alt.NamedData("path")).mark_line(color=PRICE_COLOR, strokeWidth=1.4).encode(
        x=_x(layout, "time"), y=alt.Y("close:Q", scale=y)
    )
    now = alt.Chart(alt.NamedData("now"))
    dot = now.mark_point(color=PRICE_COLOR, filled=True, size=50, opacity=1).encode(
        x=_x(layout, "time"), y=alt.Y("close:Q", scale=y),
        tooltip=[alt.Tooltip("when:N", title="Replay time"), alt.Tooltip("label:N", title="Price")],
    )
    label = now.mark_text(color=PRICE_COLOR, align="left", dx=7, dy=-9, fontSize=12, fontWeight="bold").encode(
        x=_x(layout, "time"), y=alt.Y("close:Q", scale=y), text=alt.Text("label:N")
    )
    layers = [image, line, _future_mask(layout), *_shading(layout, labels=True), _replay_rule(layout), dot, label]
    return alt.layer(
        *layers, width=layout.width, height=layout.height,
        title=alt.TitleParams("Liquidation heatmap up to the replay time (model estimate)", anchor="start", fontSize=13),
    )


def _map_panel(layout: ReplayLayout) -> alt.LayerChart:
    y = alt.Scale(domain=list(layout.price_range), nice=False, zero=False)
    colour = _side_colour()
    bars = alt.Chart(alt.NamedData("map_bars")).mark_rect().encode(
        x=alt.X("usd:Q", title="USD per band", scale=alt.Scale(domain=[0, layout.map_top]),
                axis=alt.Axis(format="$.2s", labelFontSize=AXIS_FONT, tickCount=3, labelExpr=DOLLAR_LABEL)),
        x2=alt.X2Datum(0),
        y=alt.Y("p0:Q", scale=y, axis=alt.Axis(title=None, format=",.0f", orient="right", labelFontSize=AXIS_FONT)),
        y2=alt.Y2("p1:Q"), color=colour,
        tooltip=[alt.Tooltip("band:N", title="Price band"), alt.Tooltip("side:N", title="Side"),
                 alt.Tooltip("amount:N", title="USD (est.)")],
    )
    cum = alt.Chart(alt.NamedData("map_cum")).mark_line(strokeWidth=1.5, strokeDash=[2, 2]).encode(
        x=alt.X("cum:Q", title=None, scale=alt.Scale(domain=[0, layout.cum_top]),
                axis=alt.Axis(format="$.2s", orient="top", labelFontSize=AXIS_FONT, tickCount=3,
                              labelExpr=DOLLAR_LABEL)),
        y=alt.Y("mid:Q", scale=y), color=colour, order=alt.Order("mid:Q"),
    )
    price = alt.Chart(alt.NamedData("map_price"))
    rule = price.mark_rule(color=PRICE_COLOR, strokeWidth=1.2).encode(y=alt.Y("price:Q", scale=y))
    label = price.mark_text(color=PRICE_COLOR, align="right", dx=-2, dy=-7, fontSize=11).encode(
        x=alt.XValue(layout.map_width), y=alt.Y("price:Q", scale=y), text=alt.Text("label:N")
    )
    return alt.layer(
        bars, cum, rule, label, resolve=alt.Resolve(scale=alt.ScaleResolveMap(x="independent")),
        width=layout.map_width, height=layout.height,
        title=alt.TitleParams("Liquidation map now", anchor="start", fontSize=12,
                              subtitle=["orange: shorts · blue: longs", "dashed: cumulative (top axis)"],
                              subtitleColor="#aaa", subtitleFontSize=11),
    )


def _flows_panel(layout: ReplayLayout) -> alt.LayerChart:
    top = layout.liq_top * 1.08
    y = alt.Scale(domain=[-top, top], nice=False)
    colour = _side_colour()
    bars = alt.Chart(alt.NamedData("flows")).mark_rect().encode(
        x=_x(layout, "t0", axis=False), x2=alt.X2("t1:T"),
        y=alt.Y("signed:Q", scale=y, axis=_left_axis(None, "$.2s", tickCount=3,
                                                      labelExpr=UNSIGNED_DOLLAR_LABEL)),
        y2=alt.Y2Datum(0), color=colour,
        tooltip=[alt.Tooltip("when:N", title="Period from (UTC)"), alt.Tooltip("side:N", title="Liquidated (model)"),
                 alt.Tooltip("amount:N", title="USD (est.)")],
    )
    notes = alt.Chart(pd.DataFrame({"y": [top * 0.8, -top * 0.8], "side": ["Shorts", "Longs"],
                                    "text": ["▲ shorts liquidated (price up)", "▼ longs liquidated (price down)"]}))
    text = notes.mark_text(align="left", baseline="middle", dx=6, fontSize=10).encode(
        x=alt.XValue(0), y=alt.Y("y:Q", scale=y), text=alt.Text("text:N"), color=colour
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#777", strokeWidth=0.6).encode(
        y=alt.Y("y:Q", scale=y)
    )
    layers = [*_shading(layout, labels=False), bars, zero, text, _replay_rule(layout)]
    return alt.layer(
        *layers, width=layout.width, height=FLOWS_HEIGHT,
        title=alt.TitleParams(f"Model: positions liquidated per {span_words(layout.span)} (longs down, shorts up)",
                              anchor="start", fontSize=12),
    )


def _volume_panel(layout: ReplayLayout) -> alt.LayerChart:
    y = alt.Scale(domain=[0, layout.volume_top * 1.05], nice=False)
    bars = alt.Chart(alt.NamedData("volume")).mark_rect(color=VOLUME_COLOR, opacity=0.85).encode(
        x=_x(layout, "t0", axis=True), x2=alt.X2("t1:T"),
        y=alt.Y("usd:Q", scale=y, axis=_left_axis(None, "$.2s", tickCount=2,
                                                   labelExpr=DOLLAR_LABEL)),
        y2=alt.Y2Datum(0),
        tooltip=[alt.Tooltip("when:N", title="Period from (UTC)"), alt.Tooltip("amount:N", title="Traded (real)")],
    )
    layers = [*_shading(layout, labels=False), bars, _replay_rule(layout)]
    return alt.layer(
        *layers, width=layout.width, height=VOLUME_HEIGHT,
        title=alt.TitleParams(f"Real traded volume per {span_words(layout.span)} (volume × price), for comparison",
                              anchor="start", fontSize=12),
    )


def replay_template(layout: ReplayLayout, backdrop: dict[str, pd.DataFrame] | None = None) -> dict:
    """The replay chart's Vega-Lite spec without its frame data (fill it with ``replay_spec``);
    ``backdrop`` (``replay_backdrop``: the same in every frame) joins its datasets.

    Top: the heatmap up to the replay time (price path, replay-time line, shaded detected
    cascades) with the liquidation map at the replay time beside it; below, on the same time axis,
    the model's liquidated USD per period (longs down, shorts up) and the real traded volume (compact,
    so all three are on a laptop's screen with the Play button); the colour legend last.
    """
    top = alt.hconcat(_heatmap_panel(layout), _map_panel(layout), spacing=12)
    legend = colour_legend(layout.vmax, width=layout.width).properties(height=10)
    chart = alt.vconcat(top, _flows_panel(layout), _volume_panel(layout), legend, spacing=8,
                        resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent")),
                        config=alt.Config(view=alt.ViewConfig(strokeWidth=0)))
    spec = chart.to_dict()
    return {**spec, "datasets": {**spec.get("datasets", {}), **(backdrop or {})}}
