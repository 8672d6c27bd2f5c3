"""The liquidation model: brackets, liquidation price, ``ModelParams`` and presets, levels."""

from core._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "core.model.brackets": ("BRACKETS_DIR", "BRACKETS_FILE", "BracketTable", "EXCHANGE_BRACKETS",
                            "brackets_for"),
    "core.model.liquidation": ("liquidation_price",),
    "core.model.params": ("ALL_ENTRY_RULES", "BINANCE_MAX_LEVERAGE", "describe_leverage", "ENTRY_RULES", "ModelParams", "OI_PROXY_MODES",
                           "RANGE_ENTRY", "describe_margin", "lognormal_leverage_weights"),
    "core.model.presets": ("CALIBRATED_V2", "DEFAULT_PRESET", "LEVERAGE_MIXES", "MIX_LABELS", "MODEL_PRESETS",
                           "PRESETS", "PRESET_PROVENANCE", "REFERENCE_V1", "mix_params", "model_params",
                           "preset_name_of", "preset_params"),
    "core.model.levels": ("Levels", "SideLevels", "build_levels", "candle_hours", "closing_factors",
                          "decay_half_life", "entry_grid", "entry_prices", "long_shares", "new_notional",
                          "tier_price_ratios", "turnover_shares", "uses_oi_proxy"),
})
