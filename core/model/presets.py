"""Named sets of assumptions ("presets") offered by the heatmap and sensitivity pages."""

from __future__ import annotations

from dataclasses import replace

from core.constants import DEFAULT_LEVERAGE_WEIGHTS
from core.model.params import ModelParams

# Leverage mixes: how new positions spread over the leverage tiers.
LEVERAGE_MIXES: dict[str, dict[int, float]] = {
    "v1": dict(DEFAULT_LEVERAGE_WEIGHTS),
    "low": {5: 0.35, 10: 0.35, 25: 0.20, 50: 0.07, 100: 0.03},
    "high": {5: 0.02, 10: 0.08, 25: 0.25, 50: 0.35, 100: 0.30},
}
MIX_LABELS: dict[str, str] = {"v1": "Default (model v1)", "low": "Conservative (low leverage)", "high": "Degen (high leverage)"}

# Preset name -> the ModelParams fields it sets (everything else stays reference model v1).
PRESETS: dict[str, dict] = {
    "Default": {},
    "Conservative (low leverage)": {"leverage_weights": LEVERAGE_MIXES["low"]},
    "Degen (high leverage)": {"leverage_weights": LEVERAGE_MIXES["high"]},
    "Short-heavy": {"long_share": 0.35},
}


def preset_params(name: str, **overrides) -> ModelParams:
    """The ``ModelParams`` of preset ``name`` with ``overrides`` applied (raises KeyError if unknown)."""
    fields = {**PRESETS[name], **overrides}
    return replace(ModelParams(), **fields)


def mix_params(mix: str, **overrides) -> ModelParams:
    """Reference model v1 with the leverage mix ``mix`` and ``overrides`` applied."""
    return replace(ModelParams(), leverage_weights=LEVERAGE_MIXES[mix], **overrides)
