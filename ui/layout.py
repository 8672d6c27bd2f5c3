"""Page-local layout rules (CSS), for pages that must fit a laptop screen or a phone.

Streamlit applies a ``<style>`` sent with ``st.html`` while the element that carries it is on the
page, so each rule lasts for the page that asked for it.
"""

from __future__ import annotations

import streamlit as st

# Below Streamlit's 640 px breakpoint (columns stack), a chart wider than its container is scaled
# down to fit (Vega draws SVG or canvas with its own width; height follows the aspect ratio), and a
# wide formula scrolls inside its own box.
_FIT_CHARTS = """
@media (max-width: 640px) {
  [data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas {
    max-width: 100% !important; height: auto !important;
  }
  [data-testid="stVegaLiteChart"] { max-width: 100%; overflow: hidden; }
  .katex-display { overflow-x: auto; overflow-y: hidden; }
}
"""
# Less empty space above a page whose main picture and controls must be seen together at 1440x900.
_COMPACT_TOP = """
@media (min-width: 641px) {
  [data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
  [data-testid="stMainBlockContainer"] h1 { font-size: 2rem; padding: 0.25rem 0; }
}
"""


def fit_charts() -> None:
    """On a phone, charts wider than the screen are scaled down to its width (no sideways scroll)."""
    st.html(f"<style>{_FIT_CHARTS}</style>")


def compact_top() -> None:
    """A smaller title and top margin on this page (laptop and desktop widths only)."""
    st.html(f"<style>{_COMPACT_TOP}</style>")
