"""The liquidation model: brackets, liquidation price, ``ModelParams`` and presets, levels."""

from core._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "core.model.brackets": ("BRACKETS_DIR", "BRACKETS_FILE", "BracketTable", "EXCHANGE_BRACKETS",
                            "brackets_for"),
    "core.model.liquidation": ("liquidation_price",),
    "core.model.params": ("ENTRY_RULES", "ModelParams", "OI_PROXY_MODES", "describe_margin"),
    "core.model.presets": ("LEVERAGE_MIXES", "MIX_LABELS", "PRESETS", "mix_params", "preset_params"),
    "core.model.levels": ("Levels", "SideLevels", "build_levels", "closing_factors", "decay_half_life",
                          "entry_prices", "long_shares", "new_notional", "tier_price_ratios", "uses_oi_proxy"),
})
