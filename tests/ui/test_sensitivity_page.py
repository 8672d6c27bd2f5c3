"""AppTest: the Leverage sensitivity page; every control redraws it and its state lives in the link.

Links are checked with fresh sessions opened on the page, as a shared link opens it; one test opens the
default page first and switches, as a user moving between pages does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.constants import LEVERAGE_TIERS
from core.model import PRESETS
from core.sensitivity_state import SensitivityState, preset_slug, preset_state

TIMEOUT = 90
APP = Path(__file__).resolve().parents[2] / "app.py"
PAGE = "app_pages/sensitivity.py"
SAMPLE = "btc_2026-09"  # OKX open interest with a long/short ratio
# The tests that move controls open the sample at 1-hour candles: the same controls, link and checks
# on 72 candles instead of 858, at about half the cost of a rerun. The default 5-minute view is
# the one of the page fixture, the bad-link and leverage-property tests.
HOURLY = {"src": SAMPLE, "tf": "1h"}


def open_page(**params) -> AppTest:
    """A fresh session opened on the sensitivity page's link with ``params``."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def picture(at: AppTest) -> tuple:
    """What the user sees change: metric values and deltas, and every chart's spec."""
    return (tuple((m.label, m.value, m.delta) for m in at.metric),
            tuple(c.proto.spec for c in at.get("vega_lite_chart")))


def url(at: AppTest) -> dict[str, str]:
    return {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}


def sliders(at: AppTest) -> dict[int, int]:
    return {tier: at.slider(key=f"sensitivity_w{tier}").value for tier in LEVERAGE_TIERS}


@pytest.fixture(scope="module")
def page() -> AppTest:
    return open_page(src=SAMPLE)


def test_page_shows_the_lead_both_pictures_metrics_and_the_sweep(page):
    """A user sees what the page is for, the two pictures, the difference and the numbers."""
    text = " ".join(m.value for m in page.markdown)
    assert "What this page shows" in text and "Default model: Calibrated (v2)" in text and "Your assumptions" in text
    assert "**Your assumptions: Calibrated (v2).**" in text
    assert "same picture as the default model" in text  # defaults: nothing changed
    assert len(page.metric) == 9
    assert all(m.delta == "no change" for m in page.metric)  # not "up $0 (+0%)"
    # 2 heatmaps, legend, difference (no legend for a zero difference: a caption says so), map now, 2 sweep panels
    assert len(page.get("vega_lite_chart")) == 7
    assert any("No change" in c.value for c in page.caption)
    assert any(t.value == "Leverage sensitivity" for t in page.title)


# The controls' tests move every control of a group in turn in ONE session (a subtest each, reported
# on its own): each move must redraw the page against the picture just before it and write its key
# to the link. A session per control cost two more script runs each (a third of the page's tests' time).


def test_each_tier_slider_redraws_and_marks_the_preset_custom(subtests):
    at = open_page(**HOURLY, model="v1")
    for tier in LEVERAGE_TIERS:
        with subtests.test(tier=tier):
            before = picture(at)
            at.slider(key=f"sensitivity_w{tier}").set_value(80).run()
            assert not at.exception
            assert picture(at) != before
            assert at.selectbox(key="sensitivity_preset").value == "custom"
            assert url(at)[f"w{tier}"] == "80"
            shares = next(c.value for c in at.caption if c.value.startswith("Share of new positions"))
            assert f"**{tier}x {80 / sum(sliders(at).values()):.0%}**" in shares  # normalised, live


ASSUMPTION_MOVES = [  # (widget kind, key, value) under v1, in an order where each one still counts
    ("slider", "sensitivity_sls", 0.7),
    ("slider", "sensitivity_mmr", 2.0),
    ("radio", "sensitivity_br", "exchange"),  # disables the flat rate: after it
    ("selectbox", "sensitivity_entry", "close"),
    ("select_slider", "sensitivity_decay", 12.0),
    ("toggle", "sensitivity_lsr", True),
    ("radio", "sensitivity_proxy", "always"),
]
V2_MOVES = [
    ("slider", "sensitivity_lmed", 25.0),
    ("slider", "sensitivity_lsig", 0.5),
    ("slider", "sensitivity_turn", 0.02),
    ("slider", "sensitivity_same", 0.6),
    ("selectbox", "sensitivity_entry", "hlc3"),
]


def move_each(at: AppTest, subtests, moves: list[tuple[str, str, object]], then) -> None:
    """Move each control of ``moves`` in turn (a subtest each): the page redraws against the picture
    just before, the link gets the control's key, and ``then(at)`` holds."""
    for kind, key, value in moves:
        with subtests.test(key=key):
            before = picture(at)
            getattr(at, kind)(key=key).set_value(value).run()
            assert not at.exception, [e.message for e in at.exception]
            assert picture(at) != before
            assert key.removeprefix("sensitivity_") in url(at)
            then(at)


def test_each_assumption_control_redraws_the_page(subtests):
    def custom(at: AppTest) -> None:
        assert at.selectbox(key="sensitivity_preset").value == "custom"

    move_each(open_page(**HOURLY, model="v1"), subtests, ASSUMPTION_MOVES, custom)


def test_each_v2_control_redraws_the_page_against_the_default(subtests):
    """Under the default v2 the ladder, turnover, same-candle share and entry rule are controls; the
    page compares them with the default (v2) and names them "edited"."""
    def edited(at: AppTest) -> None:
        assert any("**Your assumptions: Calibrated (v2), edited.**" in m.value for m in at.markdown)
        assert url(at)["model"] == "v2"

    move_each(open_page(**HOURLY), subtests, V2_MOVES, edited)


def test_exchange_brackets_say_which_table_and_offer_the_position_size():
    at = open_page(**HOURLY, br="exchange")
    assert at.slider(key="sensitivity_mmr").disabled
    assert any("maintenance brackets for BTC/USDT:USDT" in c.value for c in at.caption)
    before = picture(at)
    at.select_slider(key="sensitivity_pos").set_value(1_000_000.0).run()
    assert not at.exception and picture(at) != before
    assert url(at)["pos"] == "1e+06"


def test_volume_proxy_market_offers_the_proxy_settings():
    """A market without open interest shows the proxy note and its two settings, which redraw."""
    at = open_page(src="btc_2024-03-05_crash", tf="1h")
    assert any("no open-interest history" in i.value for i in at.info)
    before = picture(at)
    at.slider(key="sensitivity_psh").set_value(0.3).run()
    assert not at.exception and picture(at) != before
    before = picture(at)
    at.select_slider(key="sensitivity_phl").set_value(48.0).run()
    assert not at.exception and picture(at) != before


def test_preset_sets_the_sliders_and_reset_restores_the_default():
    at = open_page(**HOURLY, model="v1")
    at.selectbox(key="sensitivity_preset").set_value("Degen (high leverage)").run()
    assert sliders(at) == {5: 2, 10: 8, 25: 25, 50: 35, 100: 30}
    assert url(at)["preset"] == "degen"
    assert "+0%" not in metrics(at)["Longs −2%"]
    at.selectbox(key="sensitivity_preset").set_value("Short-heavy").run()
    assert at.slider(key="sensitivity_sls").value == pytest.approx(0.35)
    assert sliders(at) == SensitivityState().weights
    at.slider(key="sensitivity_w50").set_value(90).run()
    at.button(key="sensitivity_reset").click().run()
    assert not at.exception
    assert sliders(at) == SensitivityState().weights and at.slider(key="sensitivity_sls").value == 0.5
    assert at.selectbox(key="sensitivity_preset").value == "Default"
    assert "preset" not in url(at) and "w50" not in url(at) and url(at)["model"] == "v1"
    at.radio(key="sensitivity_model").set_value("v2").run()  # back to the default: nothing changed
    assert all(m.delta == "no change" for m in at.metric)


def test_sweep_selector_and_window_redraw_the_sweep():
    at = open_page(**HOURLY)
    sweep_spec = at.get("vega_lite_chart")[-1].proto.spec
    for key in ("lsig", "turn", "same", "sls", "mmr", "decay", "entry", "pos", "w5"):
        at.selectbox(key="sensitivity_sw").set_value(key).run()
        assert not at.exception, key
        assert at.get("vega_lite_chart")[-1].proto.spec != sweep_spec
        sweep_spec = at.get("vega_lite_chart")[-1].proto.spec
    at.select_slider(key="sensitivity_sx").set_value(2.0).run()
    assert "liquidated by a 2% move" in at.get("vega_lite_chart")[-2].proto.spec  # the USD panel of the two
    assert url(at)["sw"] == "w5" and url(at)["sx"] == "2"


def test_more_high_leverage_brings_the_nearest_clusters_closer():
    """Property, read off the page's metrics: all-100x clusters sit nearer the price than all-5x."""
    def nearest(tier: int) -> tuple[float, float]:
        at = open_page(src=SAMPLE, **{f"w{t}": "100" if t == tier else "0" for t in LEVERAGE_TIERS})
        m = metrics(at)
        return tuple(float(m[f"Nearest big cluster {side}"].rstrip("%")) for side in ("above", "below"))

    low, mid, high = nearest(5), nearest(25), nearest(100)
    assert high[0] < mid[0] < low[0] and high[1] < mid[1] < low[1]


def test_long_share_one_leaves_no_short_levels():
    at = open_page(**HOURLY)
    at.slider(key="sensitivity_sls").set_value(1.0).run()
    m = metrics(at)
    assert m["Shorts +2%"] == m["Shorts +5%"] == m["Shorts +10%"] == "$0"
    assert m["Nearest big cluster above"] == "none within +30%" and m["Longs' share of USD within ±5%"] == "100%"
    above = next(x for x in at.metric if x.label == "Nearest big cluster above")
    assert above.delta in (None, "") and "none" not in " ".join(x.value for x in at.markdown)  # never "above at none"


@pytest.mark.parametrize("name", ["Degen (high leverage)", "Short-heavy"])
def test_presets_round_trip_through_the_link(name):
    """Choosing a preset writes a link; a fresh session from that link shows the same sliders.

    Two presets through the page (one moves the tiers, one the long share); every preset's link and
    state are checked without Streamlit in tests/ui/test_sensitivity_state.py."""
    assert name in PRESETS
    at = open_page(**HOURLY, model="v1")
    at.selectbox(key="sensitivity_preset").set_value(name).run()
    link = url(at)
    assert link == {**HOURLY, **preset_state(name).to_params()}
    again = open_page(**link)
    assert sliders(again) == sliders(at) == preset_state(name).weights
    assert again.slider(key="sensitivity_sls").value == pytest.approx(preset_state(name).sls)
    assert again.selectbox(key="sensitivity_preset").value == name
    short = open_page(**HOURLY, preset=preset_slug(name))
    assert sliders(short) == sliders(at)


def test_bad_link_values_fall_back_with_a_notice_and_no_markup():
    """The assumptions are shared by every page: the link's notices show once, on the page it opens."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in dict(src=SAMPLE, w100="<b>1e9</b>", entry="vwap", decay="-3", sw="__import__").items():
        at.query_params[key] = value
    at.run()
    notices = " ".join(w.value for w in at.warning)
    at.switch_page(PAGE).run()
    assert not at.exception
    # refused values do not switch the model: the default (calibrated v2) with its own entry rule
    assert at.radio(key="sensitivity_model").value == "v2"
    assert at.selectbox(key="sensitivity_entry").value == "range"
    assert "Ignored w100=" in notices and "Ignored entry=" in notices and "Ignored decay=" in notices
    assert "<b>" not in notices and "__import__" not in notices.replace("'__import__'", "")


def test_the_shared_view_keeps_the_page_keys_in_the_link():
    """app.py's shared keys and this page's keys live side by side in one link."""
    at = open_page(src=SAMPLE, tf="15m", w5="40", sls="0.6")
    link = url(at)
    assert link["tf"] == "15m" and link["w5"] == "40" and link["sls"] == "0.6"
    assert at.session_state["_view"].tf == "15m" and at.slider(key="sensitivity_w5").value == 40


def test_highlight_goes_the_heatmaps_way_and_lives_in_the_link():
    """The pictures have the heatmap page's "Highlight" (subtle -> strong), not a percentile: moving
    it right lowers the colour scale's top, and the shared ``hl`` goes into the link."""
    at = open_page(**HOURLY)
    slider = at.slider(key="heatmap_hl")
    assert slider.label.startswith("Highlight") and slider.value == 20.0 and (slider.min, slider.max) == (0, 100)
    subtle = picture(at)[1]
    slider.set_value(90.0).run()
    assert not at.exception and url(at)["hl"] == "90"
    assert picture(at)[1][:2] != subtle[:2]  # both compared pictures redrawn brighter
    assert "percentile" not in " ".join(m.value for m in [*at.markdown, *at.caption]).lower()


def test_an_old_links_brightness_percentile_opens_as_its_highlight():
    """A link from before "Highlight" (clip=95) opens with the highlight of that percentile; the
    link then carries hl, not clip."""
    at = open_page(**HOURLY, clip="95")
    assert at.slider(key="heatmap_hl").value == 41.0
    assert url(at).get("hl") == "41" and "clip" not in url(at)
