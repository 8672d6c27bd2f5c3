"""ui/charts.py: ``show`` puts the same chart on the page as ``st.altair_chart``, without re-validating."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ui.charts import unvalidated


def _page() -> None:
    import altair as alt
    import pandas as pd
    import streamlit as st

    from ui.charts import show, show_in

    data = pd.DataFrame({"t": pd.date_range("2026-02-05", periods=4, freq="h"), "usd": [1.0, 4.0, 2.0, 3.0]})
    line = alt.Chart(data).mark_line().encode(x=alt.X("t:T"), y=alt.Y("usd:Q", title="USD"))
    chart = alt.layer(line, line.mark_point()).properties(width=300, height=120)
    st.altair_chart(chart, width="stretch")
    show(chart, width="stretch")
    show_in(st.columns(2)[1], chart, width="stretch")


def _without_ids(spec: str) -> dict:
    """The spec with Streamlit's per-call dataset names replaced by their order of appearance."""
    text = spec
    for i, name in enumerate(sorted(set(json.loads(spec).get("datasets", {})))):
        text = text.replace(name, f"dataset{i}")
    return json.loads(text)


def test_show_draws_what_altair_chart_draws():
    at = AppTest.from_function(_page).run()
    assert not at.exception
    charts = at.get("vega_lite_chart")
    assert len(charts) == 3
    first, *others = (_without_ids(c.proto.spec) for c in charts)
    assert all(spec == first for spec in others)
    assert [c.proto.datasets[0].data for c in charts[1:]] == [charts[0].proto.datasets[0].data] * 2


def test_unvalidated_skips_only_the_schema_check_and_only_inside():
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_bar().encode(x=alt.X("a:Q"))
    expected = chart.to_dict()
    with unvalidated(chart) as fast:
        assert fast.to_dict() == expected
    broken = chart.properties(width=300)
    object.__setattr__(broken, "_kwds", {**broken._kwds, "width": "wide"})  # not a Vega-Lite width
    with pytest.raises(Exception):
        broken.to_dict()
    with unvalidated(broken) as fast:
        assert fast.to_dict()["width"] == "wide"
    with pytest.raises(Exception):  # checked again after the with
        broken.to_dict()
    assert chart.to_dict() == expected and "to_dict" not in vars(chart)


def test_unvalidated_restores_the_chart_when_drawing_fails():
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_bar().encode(x=alt.X("a:Q"))
    with pytest.raises(RuntimeError), unvalidated(chart):
        raise RuntimeError("drawing failed")
    assert "to_dict" not in vars(chart)
