"""Levels -> liquidation map: the engine, the ``Heatmap``/``Profile`` types, the all-exchange
aggregate, the figures read off a map (clusters, key levels, USD near the price, imbalance), its
plain-words reading and the assumption sweeps."""

from core._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "core.grid.types": ("Heatmap", "Profile", "make_profile", "readonly"),
    "core.grid.crossing": ("CrossingIndex",),
    "core.grid.engine": ("compute_heatmap", "compute_liquidated", "compute_profile"),
    "core.grid.aggregate": ("compute_aggregate",),
    "core.grid.bands": ("DisplayGrid", "band_label", "band_levels", "colour_tops", "display_band_width",
                        "display_grid", "grid_table", "highlight_for_percentile", "highlight_percentile",
                        "highlight_top", "highlight_tops", "rebin"),
    "core.grid.figures": ("DEFAULT_WITHIN_PCT", "MAJOR_CLUSTERS", "find_clusters", "key_levels",
                          "long_short_imbalance", "map_reach_pct", "near_price_usd", "nearest_clusters"),
    "core.grid.reading": ("NEAR_PCTS", "nearby_table", "plain_reading"),
    "core.grid.sweeps": ("SWEEP_RANGE_PCT", "comparison_axis", "comparison_bins", "describe_change",
                         "summarize", "summary_deltas", "sweep", "with_value"),
})
