"""The heatmap picture as a Streamlit component (st.components.v2): canvas heatmap, liquidation map
and colour legend, restyled in the browser (ui/components/heatmap.js).

Python sends one gzipped message per data or model change (``core.charts.canvas``). Side,
highlight, zoom and pan never rerun the script: the browser redraws by itself. The chosen side and
highlight come back (debounced) as the component's ``view`` state, so the page can keep them in the
link; the page then resends the *same bytes* (kept per session), which Streamlit's message cache
does not transfer again and the component ignores.

The component is trusted code: its HTML, CSS and JS are fixed files; nothing from a user or a URL
goes into them (validated values travel only inside ``data``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import streamlit as st

_HERE = Path(__file__).parent

HTML = """
<div class="lh-root">
  <div class="lh-bar">
    <div class="lh-sides" role="group" aria-label="Show">
      <button type="button" data-side="both">Longs + shorts</button>
      <button type="button" data-side="long">Longs</button>
      <button type="button" data-side="short">Shorts</button>
    </div>
    <label class="lh-hl">Highlight <span>subtle</span>
      <input type="range" min="0" max="100" step="1" value="20" aria-label="Highlight"><span>strong</span></label>
    <button type="button" class="lh-reset">Reset zoom</button>
    <button type="button" class="lh-png">Download PNG</button>
    <span class="lh-hint">Scroll or pinch to zoom, drag to pan, double-click to reset</span>
  </div>
  <div class="lh-charts">
    <div class="lh-heatwrap"><canvas class="lh-heat"></canvas><div class="lh-tip" hidden></div></div>
    <div class="lh-profwrap"><canvas class="lh-prof"></canvas></div>
  </div>
  <div class="lh-legend">
    <div class="lh-legend-row"><span class="lh-legend-lo"></span><canvas class="lh-ramp"></canvas>
      <span class="lh-legend-hi"></span></div>
    <div class="lh-legend-text"></div>
  </div>
</div>
"""

_component = st.components.v2.component(
    "liqmap_heatmap",
    html=HTML,
    css=(_HERE / "heatmap.css").read_text(encoding="utf-8"),
    js=(_HERE / "heatmap.js").read_text(encoding="utf-8"),
    isolate_styles=False,
)


def heatmap_picture(payload: bytes, on_view: Callable[[], None], key: str = "heatmap_picture"):
    """Mount the picture with ``payload`` (``core.charts.canvas.heatmap_payload``).

    ``on_view`` runs when the user settles on a side or highlight; read the new value from
    ``st.session_state[key]["view"]`` (a dict with "side" and "highlight").
    """
    return _component(key=key, data=payload, on_view_change=on_view, width="stretch", height="content")
