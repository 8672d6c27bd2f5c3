"""Pure-Python core of the liquidation heatmap: data, model, grid, cascade, accuracy, charts.

Never imports streamlit: everything here works from a notebook or a script::

    from core import load_market, compute_heatmap, key_levels
    market = load_market("binanceusdm", "BTC/USDT:USDT", "5m", "3d", source="bundled")
    heatmap = compute_heatmap(market)
    key_levels(heatmap, 5)

Names are imported lazily (on first use), so ``import core.format`` does not load ccxt or altair.
Subpackages: ``core.data`` (markets), ``core.model``, ``core.grid``, ``core.cascade``,
``core.accuracy``, ``core.charts``; ``core.constants`` and ``core.format`` are shared by all.
"""

from core._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "core.cascade": ("CASCADE_RULE", "CascadeResult", "depth_from_volume", "detect_cascades", "detect_cascades_arrays",
                     "simulate_cascade", "simulate_from_profile"),
    "core.data.bundled": ("BUNDLED", "DEFAULT_DATASET", "load_bundled"),
    "core.data.errors": ("DataUnavailable",),
    "core.data.files": ("FileImportError", "load_files"),
    "core.data.load": ("fetch_order_book_depth", "load_all_exchanges", "load_market"),
    "core.data.market": ("MarketData", "align_open_interest", "clean_candles"),
    "core.grid": ("Heatmap", "Profile", "compute_aggregate", "compute_heatmap", "compute_profile", "key_levels",
                  "near_price_usd", "summary_deltas", "sweep"),
    "core.model": ("BracketTable", "ModelParams", "brackets_for", "describe_margin", "liquidation_price"),
    "core.accuracy": ("SCORE_METHOD", "Score", "read_realized", "realized_per_candle", "score_against_realized"),
})
