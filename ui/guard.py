"""A last line of defence: a page that fails shows a plain message, never a traceback."""

from __future__ import annotations

import logging

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

log = logging.getLogger("liqmap")


def run_page(navigation) -> None:
    """Run the selected page; an unexpected error becomes a plain message (details go to the log)."""
    try:
        navigation.run()
    except ScriptControlException:
        raise  # st.rerun / st.stop / page switches are not errors
    except Exception:  # noqa: BLE001 - the user must never see a traceback
        log.exception("page %s failed", getattr(navigation, "title", "?"))
        st.error(
            "Sorry, this page could not be drawn with the current settings. Try another timeframe or "
            "lookback, or the bundled sample; the problem has been logged.",
            icon=":material/error:",
        )
