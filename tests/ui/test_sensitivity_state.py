"""The sensitivity page's URL state (core/sensitivity_state.py) and its pure helpers."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.constants import LEVERAGE_TIERS
from core.data.bundled import load_bundled
from core.grid import comparison_axis, comparison_bins, compute_heatmap, describe_change, summary_deltas, with_value
from core.model import ALL_ENTRY_RULES, CALIBRATED_V2, ENTRY_RULES, ModelParams, PRESETS, preset_params
from core.model import model_params as whole_model
from core.charts import (cells_of, default_view_range, difference_raster, shared_rasters, signed_usd, sweep_chart,
                         sweep_frame, value_text)
from core.grid.bands import highlight_top
from core.sensitivity_state import (
    CHOICES,
    DECAY_CHOICES,
    NUMBER_CHOICES,
    RANGES,
    SensitivityState,
    matching_preset,
    model_label,
    model_state,
    parse_sensitivity,
    preset_slug,
    preset_state,
    safe_excerpt,
    state_from_model,
    sweep_base,
    tidy,
)
from core.sensitivity_sweeps import SWEEPS, current_value, sweep_values

weights = st.integers(0, 100)
states = st.builds(
    SensitivityState,
    model=st.sampled_from(CHOICES["model"]),
    lmed=st.sampled_from([2.0, 5.5, 10.0, 31.25, 100.0]),
    lsig=st.sampled_from([0.25, 1.0, 1.35, 2.5]),
    turn=st.sampled_from([0.0, 0.015, 0.1, 0.5]),
    same=st.sampled_from([0.0, 0.25, 0.4, 1.0]),
    w5=weights, w10=weights, w25=weights, w50=weights, w100=weights,
    sls=st.sampled_from([i / 20 for i in range(21)]),
    mmr=st.sampled_from([i / 20 for i in range(101)]),
    br=st.sampled_from(CHOICES["br"]),
    pos=st.sampled_from(NUMBER_CHOICES["pos"]),
    entry=st.sampled_from(ALL_ENTRY_RULES),
    decay=st.sampled_from(DECAY_CHOICES),
    lsr=st.booleans(),
    proxy=st.sampled_from(CHOICES["proxy"]),
    psh=st.sampled_from([i / 100 for i in range(1, 51)]),
    phl=st.sampled_from(NUMBER_CHOICES["phl"]),
    sw=st.sampled_from(tuple(SWEEPS)),
    sx=st.sampled_from(NUMBER_CHOICES["sx"]),
).filter(lambda s: s.shares is not None)

model_params = st.builds(
    ModelParams,
    leverage_weights=st.dictionaries(st.sampled_from([1, 2, 3, 5, 10, 20, 25, 50, 75, 100, 125]),
                                     st.floats(0.0, 10.0), min_size=1).filter(lambda d: sum(d.values()) > 0),
    long_share=st.floats(0.0, 1.0),
    mmr=st.floats(0.0, 0.2),
    brackets=st.sampled_from([None, "exchange"]),
    position_notional=st.floats(1.0, 1e9),
    entry=st.sampled_from(ENTRY_RULES),
    decay_half_life=st.one_of(st.none(), st.floats(0.01, 1000.0)),
    long_share_from_ratio=st.booleans(),
    oi_proxy=st.sampled_from(["auto", "always", "never"]),
    proxy_share=st.floats(0.001, 2.0),
    proxy_half_life=st.floats(0.1, 500.0),
)


def _valid(state: SensitivityState) -> None:
    """Every field within what the controls and the URL parser accept; the model builds."""
    for key, (lo, hi) in RANGES.items():
        assert lo <= getattr(state, key) <= hi, key
    for key, allowed in {**CHOICES, **NUMBER_CHOICES}.items():
        assert getattr(state, key) in allowed, key
    assert state.decay in DECAY_CHOICES and state.shares is not None
    assert math.isclose(sum(state.shares.values()), 1.0)
    assert isinstance(state.to_model(), ModelParams)


@settings(max_examples=150, deadline=None)
@given(model_params)
def test_any_model_params_give_a_valid_state(params):
    """Whatever ModelParams a notebook builds, the nearest state is valid and round-trips the URL."""
    state = state_from_model(params)
    _valid(state)
    assert parse_sensitivity(state.to_params()) == (state, ())


@settings(max_examples=200, deadline=None)
@given(states)
def test_every_state_round_trips_through_the_url(state):
    """The link reproduces the state (the fields its model does not use go back to their defaults)."""
    parsed, notices = parse_sensitivity(state.to_params())
    assert parsed == tidy(state) and notices == ()
    assert parsed.to_model() == state.to_model() and model_label(parsed) == model_label(state)
    assert all(isinstance(v, str) and len(v) < 40 for v in state.to_params().values())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*RANGES, *CHOICES, *NUMBER_CHOICES, "decay", "lsr", "preset", "junk"]),
                       st.one_of(st.text(max_size=80), st.lists(st.text(max_size=20), max_size=3))))
def test_any_query_gives_a_valid_state_and_safe_notices(query):
    """Garbage in a link never raises; it falls back with notices that echo no markup."""
    state, notices = parse_sensitivity(query)
    _valid(state)
    for notice in notices:
        assert "<" not in notice and ">" not in notice and "[" not in notice and "`" not in notice
        assert len(notice) < 200


def test_bad_values_fall_back_with_a_notice():
    state, notices = parse_sensitivity({"w5": "<script>alert(1)</script>", "mmr": "9", "entry": "vwap",
                                        "decay": "5", "sls": "nan", "preset": "yolo", "lsr": "yes"})
    assert state == SensitivityState()  # refused values do not make it a link from before v2
    assert len(notices) == 7
    assert all("script" not in n or "<" not in n for n in notices)
    assert "Ignored w5='?script?alert?1???script…'" in notices[1]


def test_all_zero_weights_fall_back_to_the_preset_weights():
    state, notices = parse_sensitivity({"preset": "degen", **{f"w{t}": "0" for t in LEVERAGE_TIERS}})
    assert state.weights == preset_state("Degen (high leverage)").weights
    assert "Every leverage weight" in notices[-1]
    assert replace(model_state("v1"), w5=0, w10=0, w25=0, w50=0, w100=0).to_model() == ModelParams()


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_exact_states_with_short_links(name):
    """Each preset's state gives exactly its ModelParams, is recognised, and its link reproduces it."""
    state = preset_state(name)
    assert state.to_model() == preset_params(name)
    assert matching_preset(state) == name
    assert parse_sensitivity({"preset": preset_slug(name)})[0] == state
    assert parse_sensitivity(state.to_params())[0] == state
    assert matching_preset(SensitivityState(w5=11)) == "custom"


def test_default_state_is_the_calibrated_v2_with_an_empty_link():
    assert SensitivityState().to_model() == whole_model(CALIBRATED_V2)
    assert SensitivityState().to_params() == {} and model_label(SensitivityState()) == "Calibrated (v2)"
    assert SensitivityState(decay=12.0, br="exchange").to_params() == {"model": "v2", "br": "exchange", "decay": "12"}
    assert model_label(SensitivityState(lmed=20.0)) == "Calibrated (v2), edited"
    assert parse_sensitivity({"model": "v2", "decay": "off"})[0].decay == 0.0


def test_reference_v1_is_one_key_and_exact():
    v1 = model_state("v1")
    assert v1.to_model() == ModelParams() and v1.to_params() == {"model": "v1"}
    assert parse_sensitivity({"model": "v1"}) == (v1, ()) and model_label(v1) == "Reference v1"
    assert model_label(replace(v1, sls=0.6)) == "Reference v1, edited"


@pytest.mark.parametrize("query, label", [
    ({"mix": "high"}, "Degen (high leverage)"),
    ({"preset": "degen", "w5": "3"}, "Degen (high leverage), edited"),
    ({"ls": "0.35"}, "Short-heavy"),
    ({"sls": "0.5"}, "Reference v1"),
    ({"decay": "12"}, "Reference v1, edited"),
    ({"model": "v2", "preset": "degen"}, "Calibrated (v2)"),
    ({"mix": "<script>", "sls": "nan"}, "Calibrated (v2)"),
])
def test_links_from_before_v2_open_on_v1_as_before(query, label):
    """A link without model= but with assumption keys was written for reference v1: it still opens there."""
    state, _ = parse_sensitivity(query)
    assert model_label(state) == label
    assert state.model == ("v2" if label.startswith("Calibrated") else "v1")


def test_sweep_values_include_the_current_value():
    params = replace(model_state("v1"), w100=17, mmr=0.37).to_model()
    share = current_value("w100", params)
    assert share == pytest.approx(17 / 107) and share in sweep_values("w100", params)
    assert current_value("mmr", params) == pytest.approx(0.0037) and 0.0037 in sweep_values("mmr", params)
    assert sweep_values("decay", params)[0] is None and current_value("decay", params) is None
    assert sweep_base("mmr", SensitivityState(br="exchange").to_model()).brackets is None
    assert sweep_base("pos", params).brackets == "exchange"
    assert sweep_values("entry", params) == ENTRY_RULES
    assert len(SWEEPS["w100"].values) == 21
    only_100x = replace(model_state("v1"), w5=0, w10=0, w25=0, w50=0, w100=100).to_model()
    base = sweep_base("w100", only_100x)
    assert base.weights[100] == pytest.approx(1.0) and base.weights[5] > 0
    assert with_value(base, "weight_100x", 1.0).weights == {5: 0.0, 10: 0.0, 25: 0.0, 50: 0.0, 100: 1.0}
    assert with_value(base, "weight_100x", 0.7).weights[10] == pytest.approx(0.3 * 0.3 / 0.9)


def test_safe_excerpt_keeps_only_plain_characters():
    assert safe_excerpt("**bold** [x](http://e)") == "'??bold????x??http???e?'"
    assert safe_excerpt("a" * 40).endswith("…'")


# ------------------------------------------------------------------------ pure helpers of the page


@pytest.fixture(scope="module")
def sample():
    return load_bundled("btc_2026-09", "5m")


@pytest.fixture(scope="module")
def pair(sample):
    axis = comparison_axis([sample])
    bins = comparison_bins(len(sample.candles))
    default = compute_heatmap(sample, ModelParams(), price_bins=bins, price_range=axis)
    chosen = compute_heatmap(sample, preset_params("Degen (high leverage)"), price_bins=bins, price_range=axis)
    return default, chosen


def test_comparison_axis_holds_the_window_and_the_sweep_range(sample):
    lo, hi = comparison_axis([sample], margin=0.06)
    last = sample.last_price
    assert lo <= min(last * 0.7, sample.candles["low"].min() * 0.94)
    assert hi >= max(last * 1.3, sample.candles["high"].max() * 1.06)
    assert comparison_bins(858) == 800 and comparison_bins(10_080) == 400


def test_shared_rasters_use_one_colour_scale(pair):
    """vmax is computed once over both grids: equal USD, equal colour."""
    default, chosen = pair
    a, b = shared_rasters([default, chosen])
    alone = shared_rasters([default])[0]
    assert a.vmax == b.vmax and a.vmax >= alone.vmax * 0.5
    assert a.png != b.png


@pytest.mark.parametrize("highlight", [0.0, 20.0, 65.0, 100.0])
def test_compared_pictures_use_the_heatmap_highlight_over_the_whole_window(pair, highlight):
    """Highlight means what it means on the heatmap page: the top is ``highlight_top`` of every
    cell of both windows (at the raster's resolution), whatever price range is shown."""
    default, chosen = pair
    cells = np.concatenate([cells_of(hm.long + hm.short, 320, 440).ravel() for hm in (default, chosen)])
    tops = set()
    for margin in (0.01, 0.06, 0.25):
        view = default_view_range(default, margin)
        a, b = shared_rasters([default, chosen], "both", view, highlight=highlight, max_cols=440, max_rows=320)
        assert a.vmax == b.vmax == pytest.approx(highlight_top(cells, highlight))
        diff = difference_raster(chosen, default, "both", view, highlight=highlight, max_cols=440, max_rows=320)
        tops.add((a.vmax, diff.vmax))
    assert len(tops) == 1  # zooming never changes what a colour means


def test_more_highlight_is_brighter_in_both_comparisons(pair):
    default, chosen = pair
    subtle, strong = (shared_rasters([default, chosen], highlight=h)[0].vmax for h in (0.0, 100.0))
    assert strong < subtle
    assert difference_raster(chosen, default, highlight=100.0).vmax < difference_raster(chosen, default, highlight=0.0).vmax


def test_difference_is_empty_for_identical_maps_and_signed_otherwise(pair):
    default, chosen = pair
    same = difference_raster(default, default)
    assert same.vmax == 1.0  # no difference anywhere: nothing to scale
    diff = difference_raster(chosen, default)
    assert diff.vmax > 0 and diff.png != same.png
    with pytest.raises(ValueError):
        difference_raster(chosen, compute_heatmap(load_bundled("btc_2026-09", "15m"), price_bins=50))


def test_describe_change_in_plain_words(pair):
    default, chosen = pair
    assert describe_change(summary_deltas(default, default)) == "Your assumptions give the same picture as the default model."
    text = describe_change(summary_deltas(default, chosen))
    assert "against" in text and "default model" in text and "nearest big cluster" in text


def test_sweep_chart_marks_the_current_value():
    frame = pd.DataFrame({"value": [None, 1.0, 12.0], "long_usd_5pct": [3.0, 1.0, 2.0], "short_usd_5pct": [1.0, 1.0, 1.0],
                          "cluster_above_pct": [1.0, np.nan, 2.0], "cluster_below_pct": [1.0, 1.5, 2.0]})
    data = sweep_frame(frame, SWEEPS["decay"], 5.0, current=12.0)
    assert data["current"].sum() == 4 and data.loc[data["current"], "x"].eq(12.0).all()
    assert set(data["x_txt"]) == {"off", "1 h", "12 h"}
    gone = data[(data["line"] == "Nearest big cluster above") & (data["x_txt"] == "1 h")]
    assert gone["y_txt"].tolist() == ["no big cluster on the map"]  # the tooltip never reads "none"
    spec = sweep_chart(frame, SWEEPS["decay"], None, 5.0).to_dict()
    assert len(spec["hconcat"]) == 2
    assert value_text(0.35, "share") == "35%" and value_text(0.005, "rate") == "0.50%"
    assert signed_usd(-2.5e6) == "-$2.5M" and signed_usd(0.0) == "$0"


def test_describe_change_never_says_at_none():
    """A side where one map has no big cluster is said in words, not "above at none"."""
    a = pd.DataFrame({"total_usd_5pct": [2e6], "cluster_above_pct": [3.0], "cluster_below_pct": [np.nan]}).iloc[0]
    b = pd.DataFrame({"total_usd_5pct": [3e6], "cluster_above_pct": [np.nan], "cluster_below_pct": [-2.0]}).iloc[0]
    text = describe_change(pd.DataFrame({"a": a, "b": b}))
    assert "none from" not in text and "at none" not in text
    assert "gone above (the default model has one at 3.0%)" in text
    assert "below at -2.0% from the price (the default model has none there)" in text
