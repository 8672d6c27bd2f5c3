"""The leverage-sensitivity page's shareable state: what its query parameters may say.

Every assumption of the model (``core.model.ModelParams``) is one field of
``SensitivityState``, held the way its control holds it (tier weights as whole numbers 0..100,
the maintenance rate in percent, the half-life in hours with 0 meaning off), plus the sweep's
choices. ``parse_sensitivity`` validates query parameters with ``core.viewstate``'s one parser
(``parse_fields``: closed sets and numeric ranges; a bad value falls back to the default with a
plain notice that never echoes markup). ``to_model`` turns a state into ``ModelParams``; ``to_params`` writes only
what differs from the default, so links stay short.

Query keys: ``w5 w10 w25 w50 w100`` (tier weights), ``sls`` (long share), ``mmr`` (flat
maintenance rate, percent), ``br`` (``flat`` or ``exchange`` brackets), ``pos`` (position size
for the brackets), ``entry``, ``decay`` (hours or ``off``), ``lsr`` (long share from the
long/short ratio, ``1``/``0``), ``proxy`` (``auto``/``always``), ``psh`` and ``phl`` (volume-proxy
share and half-life), ``preset`` (a preset's slug), ``sw`` (assumption swept), ``sx`` (window, %).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping, Sequence

import pandas as pd

from core.constants import DEFAULT_LEVERAGE_WEIGHTS, LEVERAGE_TIERS
from core.model import ENTRY_RULES, EXCHANGE_BRACKETS, ModelParams
from core.model import LEVERAGE_MIXES, PRESETS, preset_params
from core.viewstate import Choice, Flag, Number, NumberIn, Rule, changed_params, last_value, notice, parse_fields
from core.viewstate import excerpt as safe_excerpt  # noqa: F401 - re-exported (tests import it from here)
WEIGHT_KEYS: dict[int, str] = {tier: f"w{tier}" for tier in LEVERAGE_TIERS}
MARGIN_CHOICES: tuple[str, ...] = ("flat", EXCHANGE_BRACKETS)
DECAY_CHOICES: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 6.0, 12.0, 24.0, 48.0, 72.0, 168.0)  # hours; 0 = off
POSITION_CHOICES: tuple[float, ...] = (1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)
PROXY_CHOICES: tuple[str, ...] = ("auto", "always")
PROXY_HALF_LIVES: tuple[float, ...] = (2.0, 4.0, 6.0, 12.0, 24.0, 48.0)
WITHIN_CHOICES: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 20.0)
CUSTOM = "custom"

ENTRY_LABELS: dict[str, str] = {
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
}


def preset_slug(name: str) -> str:
    """Short URL name of a preset: "Degen (high leverage)" -> "degen"."""
    return name.split(" (")[0].strip().lower().replace(" ", "-")


PRESET_SLUGS: dict[str, str] = {preset_slug(name): name for name in PRESETS}


@dataclass(frozen=True)
class SweepSpec:
    """One assumption the page can sweep: its label, ``core.sensitivity`` field, values and unit.

    ``unit`` says how a value reads: "share" (0..1 as %), "rate" (0..1 as %), "hours",
    "usd" or "choice" (a name).
    """

    label: str
    field: str
    values: tuple[Any, ...]
    unit: str


def _grid(lo: float, hi: float, n: int = 21) -> tuple[float, ...]:
    return tuple(round(lo + (hi - lo) * i / (n - 1), 10) for i in range(n))


SWEEPS: dict[str, SweepSpec] = {
    **{
        key: SweepSpec(f"Share of {tier}x positions", f"weight_{tier}x", _grid(0.0, 1.0), "share")
        for tier, key in WEIGHT_KEYS.items()
    },
    "sls": SweepSpec("Long share of new positions", "long_share", _grid(0.0, 1.0), "share"),
    "mmr": SweepSpec("Maintenance margin rate (flat)", "mmr", _grid(0.0, 0.05), "rate"),
    "decay": SweepSpec(
        "Decay half-life",
        "decay_half_life",
        (None, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 24.0, 30.0, 36.0, 48.0, 60.0, 72.0, 96.0, 120.0, 144.0, 168.0),
        "hours",
    ),
    "entry": SweepSpec("Entry price rule", "entry", ENTRY_RULES, "choice"),
    "pos": SweepSpec(
        "Position size (exchange brackets)",
        "position_notional",
        tuple(float(10 ** (3 + i / 4)) for i in range(21)),
        "usd",
    ),
}

CHOICES: dict[str, tuple[str, ...]] = {
    "br": MARGIN_CHOICES,
    "entry": ENTRY_RULES,
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
    """Every assumption as its control holds it, plus the sweep's choices (defaults: model v1)."""

    w5: int = 10
    w10: int = 30
    w25: int = 30
    w50: int = 20
    w100: int = 10
    sls: float = 0.5
    mmr: float = 0.5
    br: str = "flat"
    pos: float = 10_000.0
    entry: str = "hlc3"
    decay: float = 0.0
    lsr: bool = False
    proxy: str = "auto"
    psh: float = 0.1
    phl: float = 12.0
    sw: str = "w100"
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

    def to_model(self) -> ModelParams:
        """The ``ModelParams`` this state describes (default tier weights if all weights are 0)."""
        shares = self.shares or dict(DEFAULT_LEVERAGE_WEIGHTS)
        return ModelParams(
            leverage_weights=shares,
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
        """Query parameters for this state: what differs from the default, plus the preset's slug."""
        name = matching_preset(self)
        preset = {"preset": preset_slug(name)} if name not in (CUSTOM, "Default") else {}
        return {**preset, **changed_params(self)}

    @property
    def assumptions(self) -> dict[str, Any]:
        """The fields that set the model (everything but the sweep's choices)."""
        return {k: v for k, v in asdict(self).items() if k not in ("sw", "sx")}


def _snap(value: float, step: float, lo: float, hi: float) -> float:
    """``value`` clipped to [lo, hi] and rounded to the control's ``step``."""
    return round(min(max(round(float(value) / step) * step, lo), hi), 6)


def _nearest(value: float, choices: Sequence[float]) -> float:
    return min(choices, key=lambda c: (abs(math.log(c) - math.log(value)) if c > 0 and value > 0 else abs(c - value)))


def state_from_model(params: ModelParams, sweep: str = "w100", within: float = 5.0) -> SensitivityState:
    """The nearest state to ``params`` (tiers off the 5..100x ladder are dropped, values snapped
    to what the controls offer); exact for the presets."""
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
        **{WEIGHT_KEYS[t]: pct[t] for t in WEIGHT_KEYS},
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


def preset_state(name: str, keep: SensitivityState = SensitivityState()) -> SensitivityState:
    """The state of preset ``name`` (a ``PRESETS`` key), keeping ``keep``'s sweep choices."""
    return state_from_model(preset_params(name), sweep=keep.sw, within=keep.sx)


def matching_preset(state: SensitivityState) -> str:
    """The preset whose assumptions ``state`` has exactly, else ``CUSTOM``."""
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
    """How a page names the assumptions: the preset, plus "edited" when they differ from it."""
    name = matching_preset(state)
    return name if name != CUSTOM else f"{closest_preset(state)}, edited"


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


def parse_sensitivity(
    params: Mapping[str, str | Sequence[str]], default: SensitivityState = SensitivityState()
) -> tuple[SensitivityState, tuple[str, ...]]:
    """Validate query parameters into a ``SensitivityState``; bad values fall back with notices.

    A valid ``preset`` is applied first (or, in older links, the heatmap's leverage ``mix``), then
    every explicit key on top of it (an older link's ``ls`` is the long share ``sls``). Repeated keys:
    the last value counts. Unknown keys are ignored (the shared view's keys are parsed elsewhere).
    If every tier weight ends up 0, the tier weights fall back (with a notice).
    """
    notices: list[str] = []
    base = default
    legacy, refused = parse_fields(LEGACY_RULES, params)
    notices.extend(refused)
    if "mix" in legacy and "preset" not in params:
        base = preset_state(LEGACY_MIX_PRESETS[legacy["mix"]], default)
    if "preset" in params:
        raw = last_value(params["preset"])
        if raw in PRESET_SLUGS:
            base = preset_state(PRESET_SLUGS[raw], default)
        else:
            notices.append(notice("preset", raw, "not one of the presets"))
    values, refused = parse_fields(RULES, params)
    notices.extend(refused)
    if "ls" in legacy and "sls" not in params:
        values["sls"] = legacy["ls"]
    state = replace(base, **values)
    if state.shares is None:
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
    if key == "mmr":
        return replace(params, brackets=None)
    if key == "pos":
        return replace(params, brackets=EXCHANGE_BRACKETS)
    return params


def current_value(key: str, params: ModelParams) -> Any:
    """The value of swept assumption ``key`` under ``params`` (a tier's normalised share to 9
    places, the half-life in hours or None, ...)."""
    spec = SWEEPS[key]
    if spec.field.startswith("weight_"):
        tier = int(spec.field[len("weight_") : -1])
        return round(float(params.weights.get(tier, 0.0)), 9)  # 9 places: what the sweep can tell apart
    value = getattr(params, spec.field)
    if isinstance(value, pd.Timedelta):
        return value.total_seconds() / 3600.0
    return value


def sweep_values(key: str, params: ModelParams) -> tuple[Any, ...]:
    """The values to sweep for ``key``: the spec's grid plus the current value (so it lies on the curve)."""
    spec = SWEEPS[key]
    current = current_value(key, params)
    if spec.unit == "choice" or current is None or current in spec.values:
        return spec.values
    numbers = sorted({float(v) for v in spec.values if v is not None} | {float(current)})
    head: tuple[Any, ...] = (None,) if None in spec.values else ()
    return head + tuple(numbers)
