"""The what-if cascade chart (no Streamlit): the cascade's path over the liquidation map it swept."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.cascade.simulate import CascadeResult
from core.charts.axes import AXIS_FONT, DOLLAR_LABEL
from core.charts.raster import group_edges
from core.constants import KEPT_LONG, KEPT_SHORT, LONG_COLOR, PRICE_COLOR, SHORT_COLOR, STOP_COLOR
from core.format import format_price, format_price_bands, format_usd
from core.grid.types import Profile


def whatif_range(result: CascadeResult, margin_pct: float = 1.5) -> tuple[float, float]:
    """Price range that frames the start, every step and the final price, plus ``margin_pct``."""
    prices = [result.start_price, result.final_price, *result.steps["price"].tolist()]
    lo, hi = min(prices), max(prices)
    return lo * (1 - margin_pct / 100), hi * (1 + margin_pct / 100)


def swept_frame(
    profile: Profile, result: CascadeResult, price_range: tuple[float, float], max_rows: int = 120
) -> pd.DataFrame:
    """The liquidation map's bands in ``price_range`` (rebinned to at most ``max_rows``), split into
    what the cascade liquidated and what it left.

    Returns columns p0, p1, side ("Longs" / "Shorts"), swept_usd, kept_usd.
    """
    edges = profile.price_edges
    lo, hi = price_range
    idx = np.flatnonzero((edges[1:] > lo) & (edges[:-1] < hi))
    if idx.size == 0:
        return pd.DataFrame(columns=["p0", "p1", "side", "swept_usd", "kept_usd"])
    sl = slice(idx[0], idx[-1] + 1)
    r_edges = group_edges(idx.size, max_rows)
    sub = edges[sl.start : sl.stop + 1]
    parts = []
    for side, before, after in (("Longs", profile.long, result.remaining_long),
                                ("Shorts", profile.short, result.remaining_short)):
        after = np.asarray(after, dtype=float)
        parts.append(pd.DataFrame({
            "p0": sub[r_edges[:-1]], "p1": sub[r_edges[1:]], "side": side,
            "swept_usd": np.add.reduceat((before - after)[sl], r_edges[:-1]),
            "kept_usd": np.add.reduceat(after[sl], r_edges[:-1]),
        }))
    return pd.concat(parts, ignore_index=True)


def step_label(liquidated_usd: float, total_move_pct: float, step: int) -> str:
    """What one step of the cascade did, in a few words."""
    head = "shock" if step == 0 else f"step {step}"
    if liquidated_usd > 0:
        return f"{head}: {total_move_pct:+.1f}%, {format_usd(liquidated_usd)} liquidated"
    return f"{head}: {total_move_pct:+.1f}%, nothing new"


def whatif_chart(profile: Profile, result: CascadeResult, height: int = 360) -> alt.HConcatChart:
    """The cascade path on the price axis, beside the liquidation map it ran through.

    Left: the map at the chosen moment; levels the cascade liquidated in full colour, the rest
    muted. Right: the price after each step (start, the shock, then each round of forced orders),
    labelled with the USD liquidated. Dashed lines: where the price starts and where it stops.
    """
    price_range = whatif_range(result)
    y = alt.Scale(domain=list(price_range), nice=False, zero=False)
    y_axis = alt.Axis(title="Price (USD)", format=",.0f", labelFontSize=AXIS_FONT)
    swept = swept_frame(profile, result, price_range)
    bars = swept.melt(id_vars=["p0", "p1", "side"], value_vars=["swept_usd", "kept_usd"], var_name="state",
                      value_name="usd")
    bars = bars[bars["usd"] > 0]
    bars = bars.assign(
        kind=np.where(bars["state"] == "swept_usd", bars["side"] + " liquidated", bars["side"] + " not reached"),
        band=format_price_bands(bars["p0"], bars["p1"]),
        amount=[format_usd(v) for v in bars["usd"]],
    )
    kinds = ["Longs liquidated", "Shorts liquidated", "Longs not reached", "Shorts not reached"]
    colour = alt.Color(field="kind", type="nominal",
                       scale=alt.Scale(domain=kinds, range=[LONG_COLOR, SHORT_COLOR, KEPT_LONG, KEPT_SHORT]),
                       legend=alt.Legend(orient="bottom", title=None, columns=2))
    profile_bars = alt.Chart(bars).mark_bar().encode(
        x=alt.X(field="usd", aggregate="sum", type="quantitative", title="Liquidation levels, USD per band (model)",
                axis=alt.Axis(format="$.2s", labelFontSize=AXIS_FONT, tickCount=4, labelExpr=DOLLAR_LABEL)),
        y=alt.Y(field="p0", type="quantitative", scale=y, axis=y_axis), y2=alt.Y2(field="p1"),
        color=colour, order=alt.Order(field="state", type="nominal", sort="descending"),
        tooltip=[alt.Tooltip(field="band", type="nominal", title="Price band"),
                 alt.Tooltip(field="kind", type="nominal", title="Levels"),
                 alt.Tooltip(field="amount", type="nominal", title="USD (est.)")],
    )
    marks = pd.DataFrame({
        "price": [result.start_price, result.final_price],
        "label": [f"start {format_price(result.start_price)}", f"stops at {format_price(result.final_price)}"],
        "colour": [PRICE_COLOR, STOP_COLOR],
    })
    rules = alt.Chart(marks).mark_rule(strokeDash=[5, 3], strokeWidth=1.2).encode(
        y=alt.Y(field="price", type="quantitative", scale=y),
        color=alt.Color(field="colour", type="nominal", scale=None),
    )
    left = alt.layer(profile_bars, rules, width=320, height=height,
                     title=alt.TitleParams("Levels swept", anchor="start", fontSize=13))

    n = len(result.steps)
    liquidated = (result.steps["liquidated_long_usd"] + result.steps["liquidated_short_usd"]).to_numpy()
    path = pd.DataFrame({
        "x": np.arange(-1, n),
        "price": [result.start_price, *result.steps["price"]],
        "label": ["start " + format_price(result.start_price)] + [
            step_label(usd, move, step)
            for usd, move, step in zip(liquidated, result.steps["total_move_pct"], result.steps["step"])
        ],
    })
    path["price_txt"] = [format_price(p) for p in path["price"]]
    # Written beside the path: the start, the shock and the steps that liquidated 15% of the total or
    # more (the small tail of steps bunches up near the stop; hovering a point says what it did).
    big = np.r_[True, True, liquidated[1:] >= 0.15 * max(liquidated.sum(), 1e-9)]
    above = path["x"].to_numpy() % 2 == 0  # labels alternate above and below the path, so neighbours never collide
    path["above"] = np.where(big & above, path["label"], "")
    path["below"] = np.where(big & ~above, path["label"], "")
    x = alt.X(field="x", type="quantitative", title="Start, the shock, then each round of forced orders",
              scale=alt.Scale(domain=[-1.4, max(n - 1, 1) + 1.6], nice=False),
              axis=alt.Axis(values=list(range(-1, n)), labelFontSize=AXIS_FONT, grid=False,
                            labelExpr="datum.value < 0 ? 'start' : datum.value == 0 ? 'shock' : 'step ' + datum.value"))
    base = alt.Chart(path).encode(x=x, y=alt.Y(field="price", type="quantitative", scale=y, axis=y_axis))
    line = base.mark_line(color=PRICE_COLOR, interpolate="step-after", strokeWidth=1.6)
    dots = base.mark_point(filled=True, size=70, color=PRICE_COLOR, opacity=1).encode(
        tooltip=[alt.Tooltip(field="label", type="nominal", title="What happens"),
                 alt.Tooltip(field="price_txt", type="nominal", title="Price")]
    )
    text_above = base.mark_text(align="left", dx=8, dy=-10, fontSize=11, color="#d8d8d8").encode(
        text=alt.Text(field="above", type="nominal")
    )
    text_below = base.mark_text(align="left", dx=8, dy=13, fontSize=11, color="#d8d8d8").encode(
        text=alt.Text(field="below", type="nominal")
    )
    stop_text = alt.Chart(marks.iloc[1:]).mark_text(align="right", dy=-6, fontSize=11, color=STOP_COLOR).encode(
        x=alt.XValue(440), y=alt.Y(field="price", type="quantitative", scale=y),
        text=alt.Text(field="label", type="nominal"),
    )
    right = alt.layer(rules, line, dots, text_above, text_below, stop_text, width=440, height=height,
                      title=alt.TitleParams("Cascade path", anchor="start", fontSize=13))
    return alt.hconcat(left, right, spacing=14, resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent")),
                       config=alt.Config(view=alt.ViewConfig(strokeWidth=0)))
