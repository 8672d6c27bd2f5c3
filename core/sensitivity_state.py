"""The leverage-sensitivity page's shareable state: what its query parameters may say.

Every assumption of the model (``core.model.ModelParams``) is one field of
``SensitivityState``, held the way its control holds it (tier weights as whole numbers 0..100,
the maintenance rate in percent, the half-life in hours with 0 meaning off), plus the sweep's
choices. ``parse_sensitivity`` validates query parameters with ``core.viewstate``'s one parser
(``parse_fields``: closed sets and numeric ranges; a bad value falls back to the default with a
plain notice that never echoes markup). ``to_model`` turns a state into ``ModelParams``; ``to_params`` writes only
what differs from the default, so links stay short.

Query keys: ``model`` (``v2``: the calibrated model, the default; ``v1``: reference model v1 and its
variants), ``w5 w10 w25 w50 w100`` (v1's tier weights), ``lmed`` and ``lsig`` (v2's leverage ladder:
median leverage and spread), ``turn`` (turnover per hour, 0..1), ``same`` (same-candle share),
``sls`` (long share), ``mmr`` (flat maintenance rate, percent), ``br`` (``flat`` or ``exchange`` brackets), ``pos`` (position size
for the brackets), ``entry``, ``decay`` (hours or ``off``), ``lsr`` (long share from the
long/short ratio, ``1``/``0``), ``proxy`` (``auto``/``always``), ``psh`` and ``phl`` (volume-proxy
share and half-life), ``preset`` (a v1 preset's slug), ``sw`` (assumption swept), ``sx`` (window, %).

Links are written relative to the chosen model (``model=v1`` alone is reference v1; nothing at all is
the calibrated v2), and ``model`` is written whenever any other key is. A link without ``model`` but
with assumption keys (``preset``, ``mix``, ``ls``, ``w5``, ``sls``, ...) predates v2: it opens as it
always did, on reference model v1.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping, Sequence

import pandas as pd

from core.constants import DEFAULT_LEVERAGE_WEIGHTS
from core.grid.sweeps import LADDER_FIELDS, ladder_shape
from core.model import ALL_ENTRY_RULES, BINANCE_MAX_LEVERAGE, EXCHANGE_BRACKETS, ModelParams
from core.model import CALIBRATED_V2, REFERENCE_V1, lognormal_leverage_weights, model_params, preset_name_of
from core.model import LEVERAGE_MIXES, PRESETS, preset_params
from core.viewstate import Choice, Flag, Number, NumberIn, Rule, format_value, last_value, notice, parse_fields
from core.viewstate import excerpt as safe_excerpt  # noqa: F401 - re-exported (tests import it from here)
from core.sensitivity_sweeps import SWEEPS, WEIGHT_KEYS

MODEL_NAMES: dict[str, str] = {"v2": CALIBRATED_V2, "v1": REFERENCE_V1}  # link value -> whole model
MODEL_LABELS: dict[str, str] = {"v2": "Calibrated (v2) — fitted to real liquidations",
                                "v1": "Reference v1 — MODEL.md"}
LADDER_KEYS: tuple[str, ...] = ("lmed", "lsig")  # v2 only (v1 has the tier weights instead)
LADDER_MIN, LADDER_MAX, LADDER_RUNGS = 2.0, float(BINANCE_MAX_LEVERAGE), 24  # the calibrated ladder's rungs
MARGIN_CHOICES: tuple[str, ...] = ("flat", EXCHANGE_BRACKETS)
DECAY_CHOICES: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 6.0, 12.0, 24.0, 48.0, 72.0, 168.0)  # hours; 0 = off
POSITION_CHOICES: tuple[float, ...] = (1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)
PROXY_CHOICES: tuple[str, ...] = ("auto", "always")
PROXY_HALF_LIVES: tuple[float, ...] = (2.0, 4.0, 6.0, 12.0, 24.0, 48.0)
WITHIN_CHOICES: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 20.0)
CUSTOM = "custom"

ENTRY_LABELS: dict[str, str] = {
    "range": "Spread over the candle's range (low to high)",
    "hlc3": "Typical price: (high + low + close) / 3",
    "close": "Candle close",
    "open": "Candle open",
    "ohlc4": "Average of open, high, low, close",
}
MARGIN_LABELS: dict[str, str] = {
    "flat": "One flat rate",
    EXCHANGE_BRACKETS: "Exchange bracket table",
}

# Numeric fields: (low, high) of what a link may say.
RANGES: dict[str, tuple[float, float]] = {
    **{key: (0.0, 100.0) for key in WEIGHT_KEYS.values()},
    "sls": (0.0, 1.0),
    "mmr": (0.0, 5.0),
    "psh": (0.01, 0.5),
    "lmed": (2.0, 100.0),  # the fit's bounds (core.accuracy.calibrate.BOUNDS)
    "lsig": (0.25, 2.5),
    "turn": (0.0, 0.5),
    "same": (0.0, 1.0),
}


def preset_slug(name: str) -> str:
    """Short URL name of a preset: "Degen (high leverage)" -> "degen"."""
    return name.split(" (")[0].strip().lower().replace(" ", "-")


PRESET_SLUGS: dict[str, str] = {preset_slug(name): name for name in PRESETS}


CHOICES: dict[str, tuple[str, ...]] = {
    "model": tuple(MODEL_NAMES),
    "br": MARGIN_CHOICES,
    "entry": ALL_ENTRY_RULES,
    "proxy": PROXY_CHOICES,
    "sw": tuple(SWEEPS),
}
NUMBER_CHOICES: dict[str, tuple[float, ...]] = {
    "pos": POSITION_CHOICES,
    "phl": PROXY_HALF_LIVES,
    "sx": WITHIN_CHOICES,
}


@dataclass(frozen=True)
class SensitivityState:
    """Every assumption as its control holds it, plus the sweep's choices (defaults: the calibrated
    model v2; the tier weights are v1's and used only under ``model="v1"``, the ladder only under v2)."""

    model: str = "v2"
    w5: int = 10
    w10: int = 30
    w25: int = 30
    w50: int = 20
    w100: int = 10
    lmed: float = 10.0
    lsig: float = 1.0
    turn: float = 0.1
    same: float = 0.25
    sls: float = 0.5
    mmr: float = 0.5
    br: str = "flat"
    pos: float = 10_000.0
    entry: str = "range"
    decay: float = 0.0
    lsr: bool = False
    proxy: str = "auto"
    psh: float = 0.1
    phl: float = 12.0
    sw: str = "lmed"
    sx: float = 5.0

    @property
    def weights(self) -> dict[int, int]:
        """Tier -> weight as set on the sliders (not normalised)."""
        return {tier: getattr(self, key) for tier, key in WEIGHT_KEYS.items()}

    @property
    def shares(self) -> dict[int, float] | None:
        """Tier -> share of new positions (weights normalised to sum 1); None when all are 0."""
        total = sum(self.weights.values())
        if total <= 0:
            return None
        return {tier: w / total for tier, w in self.weights.items()}

    @property
    def preset(self) -> str:
        """The whole model this state starts from: ``CALIBRATED_V2`` or ``REFERENCE_V1``."""
        return MODEL_NAMES[self.model]

    @property
    def ladder(self) -> tuple[tuple[float, float], ...]:
        """v2's leverage weights: the lognormal ladder 2x..125x with this median and spread."""
        return lognormal_leverage_weights(float(self.lmed), float(self.lsig), LADDER_MIN, LADDER_MAX, LADDER_RUNGS)

    def to_model(self) -> ModelParams:
        """The ``ModelParams`` this state describes: ``model_params(preset, **edited fields)`` (v1:
        default tier weights if all weights are 0)."""
        leverage = self.ladder if self.model == "v2" else (self.shares or dict(DEFAULT_LEVERAGE_WEIGHTS))
        return model_params(
            self.preset,
            leverage_weights=leverage,
            turnover_per_hour=float(self.turn),
            same_candle_share=float(self.same),
            long_share=float(self.sls),
            mmr=float(self.mmr) / 100.0,
            brackets=EXCHANGE_BRACKETS if self.br == EXCHANGE_BRACKETS else None,
            position_notional=float(self.pos),
            entry=self.entry,
            decay_half_life=float(self.decay) if self.decay > 0 else None,
            long_share_from_ratio=bool(self.lsr),
            oi_proxy=self.proxy,
            proxy_share=float(self.psh),
            proxy_half_life=float(self.phl),
        )

    def to_params(self) -> dict[str, str]:
        """Query parameters for this state: what differs from its model's default state, the v1
        preset's slug, and ``model`` whenever anything else is written (or the model is not v2)."""
        base = model_state(self.model)
        preset: dict[str, str] = {}
        if self.model == "v1":
            name = matching_preset(self)
            preset = {"preset": preset_slug(name)} if name not in (CUSTOM, "Default") else {}
        used = used_fields(self.model)
        changed = {k: format_value(getattr(self, k)) for k in used if getattr(self, k) != getattr(base, k)}
        rest = {**preset, **changed}
        return {"model": self.model, **rest} if rest or self.model != "v2" else {}

    @property
    def assumptions(self) -> dict[str, Any]:
        """The fields that set the model (everything but the sweep's choices)."""
        return {k: v for k, v in asdict(self).items() if k not in ("sw", "sx")}


def tidy(state: SensitivityState) -> SensitivityState:
    """``state`` with the fields its model does not use put back to that model's defaults (what
    its link reproduces)."""
    base = model_state(state.model)
    return replace(state, **{f.name: getattr(base, f.name) for f in fields(state)
                             if f.name not in used_fields(state.model) and f.name != "model"})


def used_fields(model: str) -> tuple[str, ...]:
    """The state's fields that count under ``model`` (v1: tier weights, no ladder; v2: the reverse)."""
    unused = LADDER_KEYS if model == "v1" else tuple(WEIGHT_KEYS.values())
    return tuple(f.name for f in fields(SensitivityState) if f.name not in unused and f.name != "model")


def _snap(value: float, step: float, lo: float, hi: float) -> float:
    """``value`` clipped to [lo, hi] and rounded to the control's ``step``."""
    return round(min(max(round(float(value) / step) * step, lo), hi), 6)


def _nearest(value: float, choices: Sequence[float]) -> float:
    return min(choices, key=lambda c: (abs(math.log(c) - math.log(value)) if c > 0 and value > 0 else abs(c - value)))


def state_from_model(params: ModelParams, sweep: str = "w100", within: float = 5.0) -> SensitivityState:
    """The nearest v1-family state to ``params`` (tiers off the 5..100x ladder are dropped, values
    snapped to what the controls offer); exact for the v1 presets."""
    ladder = {tier: w for tier, w in params.leverage_weights if tier in WEIGHT_KEYS}
    total = sum(ladder.values())
    pct = {tier: int(round(100 * ladder.get(tier, 0.0) / total)) if total > 0 else 0 for tier in WEIGHT_KEYS}
    if sum(pct.values()) == 0:
        pct = {tier: int(round(100 * w)) for tier, w in DEFAULT_LEVERAGE_WEIGHTS.items()}
        if total > 0:
            pct = {tier: 100 if tier == max(ladder, key=ladder.get) else 0 for tier in WEIGHT_KEYS}
    decay = params.decay_half_life
    hours = decay.total_seconds() / 3600.0 if isinstance(decay, pd.Timedelta) else 0.0
    phl = params.proxy_half_life.total_seconds() / 3600.0
    return SensitivityState(
        model="v1",
        **{WEIGHT_KEYS[t]: pct[t] for t in WEIGHT_KEYS},
        turn=_snap(params.turnover_per_hour, 0.005, *RANGES["turn"]),
        same=_snap(params.same_candle_share, 0.05, *RANGES["same"]),
        sls=_snap(params.long_share, 0.05, *RANGES["sls"]),
        mmr=_snap(float(params.mmr) * 100.0, 0.05, *RANGES["mmr"]),
        br=EXCHANGE_BRACKETS if params.brackets is not None else "flat",
        pos=_nearest(float(params.position_notional), POSITION_CHOICES),
        entry=params.entry,
        decay=_nearest(hours, DECAY_CHOICES[1:]) if hours > 0 else 0.0,
        lsr=bool(params.long_share_from_ratio),
        proxy="always" if params.oi_proxy == "always" else "auto",
        psh=_snap(params.proxy_share, 0.01, *RANGES["psh"]),
        phl=_nearest(phl, PROXY_HALF_LIVES),
        sw=sweep,
        sx=within,
    )


def preset_state(name: str, keep: SensitivityState | None = None) -> SensitivityState:
    """The state of v1 preset ``name`` (a ``PRESETS`` key), keeping ``keep``'s sweep choices (else
    the v1 sweep default, the 100x share)."""
    return state_from_model(preset_params(name), sweep=keep.sw if keep else "w100", within=keep.sx if keep else 5.0)


def model_state(model: str, keep: SensitivityState | None = None) -> SensitivityState:
    """The default state of whole model ``model`` ("v2": the calibrated preset, "v1": reference v1),
    keeping ``keep``'s sweep choices when given."""
    if model == "v1":
        return preset_state("Default", keep)
    return SensitivityState() if keep is None else replace(SensitivityState(), sw=keep.sw, sx=keep.sx)


def matching_preset(state: SensitivityState) -> str:
    """The v1 preset whose assumptions ``state`` has exactly, else ``CUSTOM`` (always for v2 states)."""
    if state.model != "v1":
        return CUSTOM
    for name in PRESETS:
        if preset_state(name, state).assumptions == state.assumptions:
            return name
    return CUSTOM


def closest_preset(state: SensitivityState) -> str:
    """The preset whose assumptions differ from ``state``'s in the fewest fields (first on ties)."""
    def differences(name: str) -> int:
        preset = preset_state(name, state).assumptions
        return sum(preset[k] != v for k, v in state.assumptions.items())
    return min(PRESETS, key=differences)


def model_label(state: SensitivityState) -> str:
    """How a page names the assumptions: "Calibrated (v2)", "Reference v1", a v1 preset
    ("Degen (high leverage)"), plus ", edited" when they differ from it."""
    if state.model == "v2":
        whole = preset_name_of(state.to_model())
        return whole if whole is not None else f"{CALIBRATED_V2}, edited"
    name = matching_preset(state)
    if name == CUSTOM:
        name = closest_preset(state)
        return f"{REFERENCE_V1 if name == 'Default' else name}, edited"
    return REFERENCE_V1 if name == "Default" else name


# --------------------------------------------------------------------------------------------
# Parsing query parameters
# --------------------------------------------------------------------------------------------


_RULES: dict[str, Rule] = {
    **{name: Choice(allowed) for name, allowed in CHOICES.items()},
    **{name: Number(lo, hi, whole=name in WEIGHT_KEYS.values()) for name, (lo, hi) in RANGES.items()},
    **{name: NumberIn(allowed) for name, allowed in NUMBER_CHOICES.items()},
    "decay": NumberIn(DECAY_CHOICES, off="off"),
    "lsr": Flag(),
}
RULES: dict[str, Rule] = {f.name: _RULES[f.name] for f in fields(SensitivityState)}  # notices in field order
# Links written before the assumptions were shared: the heatmap's leverage mix and long share.
LEGACY_MIX_PRESETS: dict[str, str] = {"v1": "Default", "low": "Conservative (low leverage)",
                                      "high": "Degen (high leverage)"}
LEGACY_RULES: dict[str, Rule] = {"mix": Choice(tuple(LEVERAGE_MIXES)), "ls": Number(0.0, 1.0)}
# A link without ``model`` but with any of these predates model v2: it meant reference v1.
OLD_LINK_KEYS: tuple[str, ...] = ("preset", *LEGACY_RULES,
                                  *(f.name for f in fields(SensitivityState) if f.name != "model"))


def parse_sensitivity(
    params: Mapping[str, str | Sequence[str]], default: SensitivityState = SensitivityState()
) -> tuple[SensitivityState, tuple[str, ...]]:
    """Validate query parameters into a ``SensitivityState``; bad values fall back with notices.

    The model comes first: ``model`` if valid; else reference v1 when the link carries any valid
    assumption key (it predates v2, so it opens as it always did); else ``default``'s. Under v1 a
    valid ``preset`` is applied next (or, in older links, the heatmap's leverage ``mix``), then every
    explicit key the model uses on top of it (an older link's ``ls`` is the long share ``sls``; keys
    of the other model are ignored). Repeated keys: the last value counts. Unknown keys are ignored
    (the shared view's keys are parsed elsewhere). If every v1 tier weight ends up 0, the tier
    weights fall back (with a notice).
    """
    notices: list[str] = []
    legacy, refused = parse_fields(LEGACY_RULES, params)
    notices.extend(refused)
    values, refused_fields = parse_fields(RULES, params)
    if "model" in values:
        model = values["model"]
    elif (any(key in values or key in legacy for key in OLD_LINK_KEYS)
          or last_value(params.get("preset", "")) in PRESET_SLUGS):
        model = "v1"  # a valid assumption key and no model: the link predates v2 (refused values do not count)
    else:
        model = default.model
    keep = default if model == default.model else None  # the sweep's defaults are the model's
    base = default if keep else model_state(model)
    if model == "v1":
        if "mix" in legacy and "preset" not in params:
            base = preset_state(LEGACY_MIX_PRESETS[legacy["mix"]], keep)
        if "preset" in params:
            raw = last_value(params["preset"])
            if raw in PRESET_SLUGS:
                base = preset_state(PRESET_SLUGS[raw], keep)
            else:
                notices.append(notice("preset", raw, "not one of the presets"))
    elif "preset" in params:
        notices.append(notice("preset", last_value(params["preset"]), "presets belong to reference model v1"))
    notices.extend(refused_fields)
    if "ls" in legacy and "sls" not in params:
        values["sls"] = legacy["ls"]
    used = used_fields(model)
    state = replace(base, model=model, **{k: v for k, v in values.items() if k in used})
    if model == "v1" and state.shares is None:
        notices.append("Every leverage weight in the link was 0: using the preset's weights.")
        state = replace(state, **{key: getattr(base, key) for key in WEIGHT_KEYS.values()})
        if state.shares is None:
            state = replace(state, **{key: getattr(SensitivityState(), key) for key in WEIGHT_KEYS.values()})
    return state, tuple(notices)


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------


def sweep_base(key: str, params: ModelParams) -> ModelParams:
    """The assumptions a sweep of ``key`` starts from: a maintenance-rate sweep uses the flat
    rate (brackets off), a position-size sweep the exchange brackets (it only matters there).

    A tier-share sweep gives the other tiers the rest in their proportions; when the swept tier
    holds everything, they get it in the default proportions (weights of 1e-9 carry those
    proportions without changing the model at the current value).
    """
    spec = SWEEPS[key]
    if spec.field.startswith("weight_"):
        tier = int(spec.field[len("weight_") : -1])
        if sum(w for lev, w in params.leverage_weights if lev != tier) <= 0:
            weights = {lev: w * 1e-9 for lev, w in DEFAULT_LEVERAGE_WEIGHTS.items() if lev != tier}
            return replace(params, leverage_weights={**weights, tier: 1.0})
    if spec.field in LADDER_FIELDS and ladder_shape(params) is None:  # v1's tiers: sweep the calibrated ladder
        return replace(params, leverage_weights=SensitivityState().ladder)
    if key == "mmr":
        return replace(params, brackets=None)
    if key == "pos":
        return replace(params, brackets=EXCHANGE_BRACKETS)
    return params
