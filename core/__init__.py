"""Pure-Python core of the liquidation heatmap: data, model, grid, cascade, charts.

Never imports streamlit: everything here works from a notebook or a script.
"""

from core.data.bundled import BUNDLED, DEFAULT_DATASET, load_bundled
from core.data.market import MarketData, align_open_interest, clean_candles

__all__ = [
    "BUNDLED",
    "DEFAULT_DATASET",
    "MarketData",
    "align_open_interest",
    "clean_candles",
    "load_bundled",
]
