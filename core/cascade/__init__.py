"""Liquidation cascades: detection in a replay, the what-if simulation and the book depth it needs."""

from core._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "core.cascade.detect": ("CASCADE_RULE", "DETECTION_COLUMNS", "cascade_summary", "detect_cascades",
                            "detect_cascades_arrays", "hot_candles", "robust_zscore", "true_range_pct"),
    "core.cascade.simulate": ("CascadeResult", "IMPACT_RULES", "STEP_COLUMNS", "impact_pct",
                              "simulate_cascade", "simulate_from_profile"),
    "core.cascade.depth": ("DEFAULT_DEPTH_FACTOR", "DEPTH_OI_SHARE", "DepthEstimate", "PLACEHOLDER_DEPTH_USD",
                           "depth_from_volume", "estimate_depth", "typical_open_interest"),
})
