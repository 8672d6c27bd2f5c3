"""Shareable state in the link: the one parser of query parameters, and the shared view.

URL parsing stays in core (not beside the binder in ui/): it is pure (query parameters in, a frozen
dataclass and plain notices out), so it is tested without Streamlit (tests/ui/test_viewstate.py,
tests/ui/test_sensitivity_state.py run in milliseconds and fuzz every key with hypothesis), and the
rules of what a link may say sit next to the other validated limits (constants, presets). ui/binder.py
only moves the parsed dataclass between the widgets and the address bar.

Every value read from a URL is checked by a ``Rule``: a closed set, a numeric range, a number from a
closed set, or a 0/1 flag; anything else falls back to the default and produces a plain notice (which
never echoes more than a short, escaped excerpt of the bad value). Nothing from the URL is used as a
cache key before it is validated. ``parse_fields`` is the only place a query value is read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Mapping, Sequence

from core.cascade import IMPACT_RULES
from core.constants import ALL_EXCHANGES, EXCHANGES, LOOKBACKS, MAX_CANDLES, SYMBOLS, TIMEFRAMES
from core.data.bundled import BUNDLED
from core.grid.bands import highlight_for_percentile

LIVE = "live"
UPLOAD = "upload"
SOURCE_CHOICES: tuple[str, ...] = (LIVE, *BUNDLED, UPLOAD)
EXCHANGE_CHOICES: tuple[str, ...] = (*EXCHANGES, ALL_EXCHANGES)
SIDE_CHOICES: tuple[str, ...] = ("both", "long", "short")
MAX_PARAM_LENGTH = 64

Query = Mapping[str, "str | Sequence[str]"]


# --------------------------------------------------------------------------------------------
# Rules: what one query value may say
# --------------------------------------------------------------------------------------------


class Invalid(ValueError):
    """A query value a rule refuses; the message ends the notice ("not one of the allowed values")."""


@dataclass(frozen=True)
class Choice:
    """One of a closed set of strings."""

    allowed: tuple[str, ...]

    def parse(self, raw: str) -> str:
        if raw in self.allowed:
            return raw
        raise Invalid("not one of the allowed values")


@dataclass(frozen=True)
class Number:
    """A finite number in [lo, hi] (rounded to a whole number when ``whole``)."""

    lo: float
    hi: float
    whole: bool = False

    def parse(self, raw: str) -> float | int:
        x = number(raw)
        if math.isfinite(x) and self.lo <= x <= self.hi:
            return int(round(x)) if self.whole else x
        raise Invalid(f"expected a number from {self.lo:g} to {self.hi:g}")


@dataclass(frozen=True)
class NumberIn:
    """One of a closed set of numbers; ``off`` (if given) is a word that means 0."""

    allowed: tuple[float, ...]
    off: str | None = None

    def parse(self, raw: str) -> float:
        x = 0.0 if self.off is not None and raw == self.off else number(raw)
        if x in self.allowed:
            return x
        raise Invalid(f"expected '{self.off}' or one of the offered half-lives" if self.off else "not one of the allowed values")


@dataclass(frozen=True)
class Flag:
    """A yes/no written ``1``/``0``."""

    def parse(self, raw: str) -> bool:
        if raw in ("0", "1"):
            return raw == "1"
        raise Invalid("expected 0 or 1")


@dataclass(frozen=True)
class Symbol:
    """A linear USDT perpetual in ccxt's unified form ("BTC/USDT:USDT"; "btc" and "BTCUSDT" read as
    it): letters and digits only, so no free text reaches the exchange. Whether the exchange lists
    it is checked against its coin list (``parse_view``'s ``coins``)."""

    def parse(self, raw: str) -> str:
        token = raw.strip().upper() if len(raw) <= 40 else ""
        if "/" not in token:
            token = f"{token[:-4] if token.endswith('USDT') and len(token) > 4 else token}/USDT:USDT"
        elif ":" not in token:
            token = f"{token}:USDT"
        if SYMBOL_FORM.match(token):
            return token
        raise Invalid("not a USDT perpetual (e.g. BTC/USDT:USDT)")


SYMBOL_FORM = re.compile(r"^[A-Z0-9]{1,25}/USDT:USDT$")
Rule = Choice | Number | NumberIn | Flag | Symbol


def number(raw: str) -> float:
    """A float from a short string, else NaN (long strings are never parsed)."""
    if len(raw) > MAX_PARAM_LENGTH:
        return math.nan
    try:
        return float(raw)
    except ValueError:
        return math.nan


def excerpt(value: str, limit: int = 24) -> str:
    """A short excerpt of an untrusted value for a notice: letters, digits, ``.`` and ``-`` only.

    Notices are shown with ``st.warning``, which renders Markdown: any other character is
    replaced by ``?`` so a link cannot inject a Markdown link or image (``[x](javascript:…)``,
    ``![](//host/pixel)``), a colour directive, LaTeX, or bidi/NUL control characters.
    """
    text = re.sub(r"[^A-Za-z0-9.-]", "?", value[:limit])
    return f"'{text}{'…' if len(value) > limit else ''}'"


def last_value(value: str | Sequence[str]) -> str:
    """The last value of a query parameter (a repeated key counts by its last value)."""
    if isinstance(value, str):
        return value
    return value[-1] if len(value) else ""


def notice(name: str, raw: str, reason: str) -> str:
    """The plain notice for a refused value (never more than a safe excerpt of it)."""
    return f"Ignored {name}={excerpt(raw)} from the link: {reason}."


def parse_fields(rules: Mapping[str, Rule], params: Query) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The valid values of ``params`` for the keys in ``rules``, and a notice per refused value.

    Repeated keys: the last value counts. Keys without a rule are ignored (never reach a cache key).
    """
    values: dict[str, Any] = {}
    notices: list[str] = []
    for name, rule in rules.items():
        if name not in params:
            continue
        raw = last_value(params[name])
        try:
            values[name] = rule.parse(raw)
        except Invalid as why:
            notices.append(notice(name, raw, str(why)))
    return values, tuple(notices)


def format_value(value: Any) -> str:
    """How a value is written in a link: ``1``/``0`` for flags, short floats, plain strings."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def changed_params(state: Any) -> dict[str, str]:
    """Query parameters of a frozen dataclass: only the fields that differ from its defaults."""
    default = type(state)()
    return {f.name: format_value(getattr(state, f.name)) for f in fields(state)
            if getattr(state, f.name) != getattr(default, f.name)}


# --------------------------------------------------------------------------------------------
# The shared view: sidebar selection and the heatmap's display controls
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """The shared sidebar selection plus the heatmap page's display controls (the model's
    assumptions are their own state, ``core.sensitivity_state.SensitivityState``)."""

    src: str = LIVE
    ex: str = "binanceusdm"
    sym: str = "BTC/USDT:USDT"
    tf: str = "5m"
    lb: str = "3d"
    side: str = "both"
    zoom: float = 6.0
    hl: float = 20.0  # "Highlight" of every heatmap picture (0..100, right = brighter: core.grid.bands)
    mem: int = 7  # model memory: days of history before the window the model runs on (issue 13)

    def to_params(self) -> dict[str, str]:
        """Query parameters for this view (only what differs from the default, to keep links short)."""
        return changed_params(self)


CHOICES: dict[str, tuple[str, ...]] = {
    "src": SOURCE_CHOICES,
    "ex": EXCHANGE_CHOICES,
    "tf": tuple(TIMEFRAMES),
    "lb": tuple(LOOKBACKS),
    "side": SIDE_CHOICES,
}
RANGES: dict[str, tuple[float, float]] = {"zoom": (1.0, 25.0), "hl": (0.0, 100.0)}
# Keys of older links, read into today's fields (``clip``: the percentile that topped the colour
# scale before "Highlight"; ``legacy_highlight``).
LEGACY_VIEW_RULES: dict[str, Rule] = {"clip": Number(50.0, 100.0)}
VIEW_RULES: dict[str, Rule] = {**{k: Choice(v) for k, v in CHOICES.items()}, "sym": Symbol(),
                               **{k: Number(lo, hi) for k, (lo, hi) in RANGES.items()},
                               "mem": Number(0, 30, whole=True)}
CoinList = Callable[[str], Sequence[str]]


def parse_view(params: Query, default: View = View(), coins: CoinList | None = None) -> tuple[View, tuple[str, ...]]:
    """Validate query parameters into a ``View``; bad values fall back to defaults with notices.

    ``coins(exchange)`` lists the coins an exchange offers (``core.data.coins.list_coins``); a coin
    it does not list falls back to the default. Without it only the app's five coins are accepted.
    """
    values, notices = parse_fields(VIEW_RULES, params)
    if "clip" in params and "hl" not in params:
        clip, refused = parse_fields(LEGACY_VIEW_RULES, params)
        values, notices = {**values, **legacy_highlight(clip)}, notices + refused
    view = replace(default, **values)
    if "sym" in values:
        listed = SYMBOLS if coins is None else coins(view.ex if view.ex in EXCHANGES else default.ex)
        if view.sym not in listed:
            notices += (notice("sym", last_value(params["sym"]), "not a coin this exchange lists"),)
            view = replace(view, sym=default.sym)
    if candle_count(view.tf, view.lb) > MAX_CANDLES:
        notices += (too_many_candles(view.tf, view.lb),)
        view = replace(view, lb="7d")
    return view, notices


def legacy_highlight(values: Mapping[str, float]) -> dict[str, float]:
    """An older link's valid ``clip`` percentile as the highlight that tops the colour scale at the
    same percentile (``core.grid.bands.highlight_for_percentile``); nothing without one."""
    return {"hl": float(highlight_for_percentile(values["clip"]))} if "clip" in values else {}


def candle_count(timeframe: str, lookback: str) -> int:
    """How many candles a lookback holds at a timeframe."""
    return int(LOOKBACKS[lookback] / TIMEFRAMES[timeframe])


def too_many_candles(timeframe: str, lookback: str) -> str:
    """The notice for a window with more than MAX_CANDLES candles (it falls back to 7 days)."""
    return f"{lookback} of {timeframe} candles is too many to draw: showing 7d instead."


# --------------------------------------------------------------------------------------------
# The replay's controls
# --------------------------------------------------------------------------------------------

REPLAY_SPEEDS: tuple[str, ...] = ("15min", "1h", "3h", "6h")
IMPACT_CHOICES: tuple[str, ...] = IMPACT_RULES


@dataclass(frozen=True)
class ReplayView:
    """The cascade replay's shareable controls: play speed, what-if shock and impact rule."""

    speed: str = "1h"
    shock: float = -3.0
    impact: str = "linear"

    def to_params(self) -> dict[str, str]:
        """Query parameters for these controls (only what differs from the default)."""
        return changed_params(self)


REPLAY_RULES: dict[str, Rule] = {"speed": Choice(REPLAY_SPEEDS), "shock": Number(-15.0, 15.0),
                                 "impact": Choice(IMPACT_CHOICES)}


def parse_replay(params: Query, default: ReplayView = ReplayView()) -> tuple[ReplayView, tuple[str, ...]]:
    """Validate query parameters into a ``ReplayView``; bad values fall back with notices."""
    values, notices = parse_fields(REPLAY_RULES, params)
    return replace(default, **values), notices
