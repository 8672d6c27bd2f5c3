"""Pure-Python core of the liquidation heatmap: data, model, grid, cascade, charts.

Never imports streamlit: everything here works from a notebook or a script::

    from core import load_market, compute_heatmap, key_levels
    market = load_market("binanceusdm", "BTC/USDT:USDT", "5m", "3d", source="bundled")
    heatmap = compute_heatmap(market)
    key_levels(heatmap, 5)
"""

from core.cascade import (
    CASCADE_RULE,
    CascadeResult,
    depth_from_volume,
    detect_cascades,
    detect_cascades_arrays,
    simulate_cascade,
    simulate_from_profile,
)
from core.data.bundled import BUNDLED, DEFAULT_DATASET, load_bundled
from core.data.errors import DataUnavailable
from core.data.files import FileImportError, load_files
from core.data.load import fetch_order_book_depth, load_all_exchanges, load_market
from core.data.market import MarketData, align_open_interest, clean_candles
from core.grid import Heatmap, Profile, compute_aggregate, compute_heatmap, compute_profile, key_levels
from core.model import BracketTable, ModelParams, brackets_for, describe_margin, liquidation_price
from core.realized import read_realized, realized_per_candle
from core.score import SCORE_METHOD, Score, score_against_realized
from core.sensitivity import near_price_usd, summary_deltas, sweep

__all__ = [
    "BUNDLED",
    "CASCADE_RULE",
    "DEFAULT_DATASET",
    "SCORE_METHOD",
    "BracketTable",
    "CascadeResult",
    "DataUnavailable",
    "FileImportError",
    "Heatmap",
    "MarketData",
    "ModelParams",
    "Profile",
    "Score",
    "align_open_interest",
    "brackets_for",
    "clean_candles",
    "compute_aggregate",
    "compute_heatmap",
    "compute_profile",
    "depth_from_volume",
    "describe_margin",
    "detect_cascades",
    "detect_cascades_arrays",
    "fetch_order_book_depth",
    "key_levels",
    "liquidation_price",
    "load_all_exchanges",
    "load_bundled",
    "load_files",
    "load_market",
    "near_price_usd",
    "read_realized",
    "realized_per_candle",
    "score_against_realized",
    "simulate_cascade",
    "simulate_from_profile",
    "summary_deltas",
    "sweep",
]
