"""Session state <-> URL query parameters for the shared view (validated by core.viewstate)."""

from __future__ import annotations

from dataclasses import fields

import streamlit as st

from core.viewstate import MAX_CANDLES, View, candle_count, parse_view

# Widget keys, prefixed by where the widget lives.
KEYS: dict[str, str] = {
    "src": "sidebar_src",
    "ex": "sidebar_ex",
    "sym": "sidebar_sym",
    "tf": "sidebar_tf",
    "lb": "sidebar_lb",
    "side": "heatmap_side",
    "clip": "heatmap_clip",
    "zoom": "heatmap_zoom",
    "ls": "heatmap_ls",
    "mix": "heatmap_mix",
}


def init_from_url() -> None:
    """Once per session: seed every widget from the link's (validated) query parameters."""
    if st.session_state.get("_view_initialised"):
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    view, notices = parse_view(params)
    st.session_state["_view"] = view
    st.session_state["_url_notices"] = notices
    st.session_state["_view_initialised"] = True


def restore_widgets() -> None:
    """Re-seed widget keys that Streamlit dropped while their page was not shown.

    Streamlit forgets a widget's state when a run does not draw it, so the view is also kept in
    ``_view`` (a plain session key) and copied back into the widget keys before they are drawn.
    """
    view = st.session_state.get("_view", View())
    for f in fields(View):
        if KEYS[f.name] not in st.session_state:
            st.session_state[KEYS[f.name]] = getattr(view, f.name)


def current_view() -> View:
    """The view the widgets currently describe (remembered in ``_view`` for the other pages)."""
    kept = st.session_state.get("_view", View())
    view = View(**{f.name: st.session_state.get(KEYS[f.name], getattr(kept, f.name)) for f in fields(View)})
    st.session_state["_view"] = view
    return view


def sync_url(view: View) -> None:
    """Write ``view`` into the address bar so the link reproduces what is on screen.

    Only the view's own keys are set or removed: a page may keep its own keys in the link too.
    """
    wanted = view.to_params()
    for name in (f.name for f in fields(View)):
        if name in wanted and st.query_params.get(name) != wanted[name]:
            st.query_params[name] = wanted[name]
        elif name not in wanted and name in st.query_params:
            del st.query_params[name]


def show_url_notices() -> None:
    """Show, once, what was ignored from the link."""
    for notice in st.session_state.pop("_url_notices", ()):
        st.warning(notice, icon=":material/link_off:")


def limit_window() -> None:
    """Widget callback: a timeframe/lookback pair with too many candles falls back to 7 days."""
    tf, lb = st.session_state[KEYS["tf"]], st.session_state[KEYS["lb"]]
    if candle_count(tf, lb) > MAX_CANDLES:
        st.session_state[KEYS["lb"]] = "7d"
        st.session_state["_url_notices"] = (f"{lb} of {tf} candles is too many to draw: showing 7d instead.",)
