"""Controls several pages share, worded once: the "Highlight" of a heatmap picture.

The heatmap page's canvas has its own Highlight range (ui/components/heatmap.py, "subtle ... strong");
the pages drawn with Altair (Leverage sensitivity, Import & accuracy) and the replay use this slider. Both write the
one shared ``View.hl`` (in the link as ``hl``) and both top the colour scale with
``core.grid.bands.highlight_tops``, so a highlight means the same on every page.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.state import VIEW

HIGHLIGHT_LABEL = "Highlight (subtle → strong)"
HIGHLIGHT_HELP = ("Right lowers the top of the colour scale, so more of the map reaches full brightness; left keeps "
                  "only the biggest clusters bright. The scale comes from the whole window, so the price range "
                  "shown never changes what a colour means. Shared with the heatmap page.")


def highlight_slider(where: Any = st, **layout: Any) -> float:
    """The shared Highlight (0..100, right = brighter) drawn in ``where`` (``layout``: e.g. ``width``);
    returns its value."""
    return float(where.slider(HIGHLIGHT_LABEL, 0.0, 100.0, step=1.0, format="%.0f", key=VIEW.key("hl"),
                              help=HIGHLIGHT_HELP, **layout))
