"""One way to put an Altair chart on a page: :func:`show`.

Altair checks a chart against the Vega-Lite JSON schema twice over: each object (axis, scale,
property) when it is made ("debug mode"), and the whole spec when ``st.altair_chart`` calls
``chart.to_dict()``. On every rerun that was about half of the sensitivity page's server time
(cProfile, 2026-12). Every spec the app draws is built by core/charts, whose tests convert each one
with validation on (tests/charts), so the app turns both repeat checks off: debug mode when this
module is imported (the only module that puts Altair charts on a page), the whole-spec check in
:func:`show`, which leaves the rest of ``st.altair_chart`` as it is (Arrow datasets, theme, width).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import altair as alt
import streamlit as st
from altair.utils.schemapi import disable_debug_mode

disable_debug_mode()


@contextmanager
def unvalidated(chart: alt.TopLevelMixin) -> Iterator[alt.TopLevelMixin]:
    """``chart`` itself, whose ``to_dict`` skips the JSON-schema check inside the ``with`` (same spec).

    Not a copy: copying a layered chart rebuilds it, and Altair deep-copies every layer twice on the way.
    """
    # SchemaBase.__setattr__ stores chart properties; the method override goes on the instance itself.
    object.__setattr__(chart, "to_dict", partial(type(chart).to_dict, chart, validate=False))
    try:
        yield chart
    finally:
        object.__delattr__(chart, "to_dict")


def show_in(container: Any, chart: alt.TopLevelMixin, **kwargs: Any) -> Any:
    """``container.altair_chart(chart, **kwargs)`` without the repeat schema check."""
    with unvalidated(chart) as fast:
        return container.altair_chart(fast, **kwargs)


def show(chart: alt.TopLevelMixin, **kwargs: Any) -> Any:
    """``st.altair_chart(chart, **kwargs)`` without the repeat schema check."""
    return show_in(st, chart, **kwargs)
