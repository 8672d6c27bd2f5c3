"""AppTest: the app starts offline, shows data with its source and age, and every control works."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.charts.canvas import decode_payload
from core.model import CALIBRATED_V2, ModelParams, model_params
from ui.sections.assumptions import editor_key

TIMEOUT = 60
APP = Path(__file__).resolve().parents[2] / "app.py"


def run_app(editor: bool = False, **params) -> AppTest:
    """The app on the link ``params``; ``editor``: with the sidebar's "Edit the assumptions" box open
    (its controls are drawn only while it is open)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    if editor:
        at.session_state[editor_key(expanded=False)] = True
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def url(at: AppTest) -> dict[str, str]:
    """The app's query parameters (last value of each key)."""
    return {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}


def picture(at: AppTest) -> tuple[dict, np.ndarray, np.ndarray]:
    """The heatmap component's message (header, long and short USD per display band)."""
    (element,) = at.get("bidi_component")
    assert element.proto.component_name == "liqmap_heatmap"
    return decode_payload(element.proto.bytes)


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    parts += [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


@pytest.mark.offline
def test_app_starts_offline_on_the_bundled_sample_with_its_badge(monkeypatch, tmp_path):
    """With no network, the default (live) view shows the recorded Feb 2026 crash with a neutral badge."""
    monkeypatch.setenv("LIQMAP_CACHE_DIR", str(tmp_path))
    at = run_app()
    body = texts(at)
    assert "Recorded data] &nbsp; **Binance BTCUSDT perpetual, 4-7 Feb 2026**" in body
    assert "Bundled sample: BTC crash 4-7 Feb 2026" in body  # provenance line
    assert not at.warning  # a neutral badge, not a warning
    assert "liquidation heatmap" in body.lower()
    header, long, _ = picture(at)
    assert long.shape == (header["rows"], header["cols"]) and long.max() > 0


def test_bundled_source_from_the_url_renders_heatmap_metrics_and_levels():
    at = run_app(src="btc_2026-02_crash", tf="15m", lb="3d")
    assert at.selectbox(key="sidebar_src").value == "btc_2026-02_crash"
    assert at.selectbox(key="sidebar_tf").value == "15m"
    assert len(at.metric) == 6
    assert at.table[0].value.shape[0] > 0
    assert "Reading:" in texts(at)


def test_side_and_highlight_from_the_link_seed_the_picture_and_stay_in_it():
    """The picture starts with the link's side and highlight; the ones the browser reports land in the link."""
    at = run_app(src="btc_2026-09", side="short", hl="60", zoom="3")
    header, _, _ = picture(at)
    assert header["side"] == "short" and header["highlight"] == 60
    at.session_state["heatmap_side"] = "long"  # what the component's callback writes (reported_view)
    at.session_state["heatmap_hl"] = 35.0
    at.run()
    assert not at.exception
    assert url(at) == {"src": "btc_2026-09", "side": "long", "hl": "35", "zoom": "3"}


def test_the_default_model_is_the_calibrated_v2_and_v1_is_one_click_away():
    """The app starts on Calibrated (v2); the picker switches to reference v1 exactly (ModelParams()),
    and the link says model=v1."""
    at = run_app(src="btc_2026-09", editor=True)
    assert "model: Calibrated (v2)" in texts(at) and "model" not in url(at)
    assert at.session_state["_sensitivity"].to_model() == model_params(CALIBRATED_V2)
    assert at.radio(key="sensitivity_model").value == "v2" and at.slider(key="sensitivity_lmed").value == 10.0
    v2_longs = at.metric[0].value
    at.radio(key="sensitivity_model").set_value("v1").run()
    assert not at.exception
    assert at.session_state["_sensitivity"].to_model() == ModelParams()
    assert "model: Reference v1" in texts(at) and url(at)["model"] == "v1"
    assert at.slider(key="sensitivity_w100").value == 10 and at.metric[0].value != v2_longs
    at.radio(key="sensitivity_model").set_value("v2").run()
    assert at.session_state["_sensitivity"].to_model() == model_params(CALIBRATED_V2) and "model" not in url(at)


def test_a_link_with_model_v1_opens_reference_v1():
    at = run_app(src="btc_2026-09", model="v1")
    assert at.radio(key="sensitivity_model").value == "v1"
    assert at.session_state["_sensitivity"].to_model() == ModelParams()
    assert "model: Reference v1" in texts(at)


def test_editing_v2_says_edited_and_lands_in_the_link():
    at = run_app(src="btc_2026-09", editor=True)
    at.slider(key="sensitivity_turn").set_value(0.3).run()
    assert not at.exception
    assert "model: Calibrated (v2), edited" in texts(at)
    assert url(at)["model"] == "v2" and url(at)["turn"] == "0.3"
    assert at.session_state["_sensitivity"].to_model() == model_params(CALIBRATED_V2, turnover_per_hour=0.3)


def test_the_assumptions_stay_while_their_box_is_closed():
    """Closed, the "Edit the assumptions" box draws none of its controls (the browser does not build
    a dozen hidden sliders on every page), yet an edited assumption still draws the map and stays in
    the link; opened again, its slider shows the edited value."""
    at = run_app(src="btc_2026-09", editor=True)
    at.slider(key="sensitivity_turn").set_value(0.3).run()
    edited = at.metric[0].value
    at.session_state[editor_key(expanded=False)] = False
    at.run()
    assert not at.exception
    assert [s.key for s in at.slider if s.key and s.key.startswith("sensitivity_")] == []
    for _ in range(2):  # and on the next run, after Streamlit dropped the undrawn widgets' values
        assert at.session_state["_sensitivity"].to_model() == model_params(CALIBRATED_V2, turnover_per_hour=0.3)
        assert url(at)["turn"] == "0.3" and "model: Calibrated (v2), edited" in texts(at)
        assert at.metric[0].value == edited
        at.run()
    at.session_state[editor_key(expanded=False)] = True
    at.run()
    assert at.slider(key="sensitivity_turn").value == pytest.approx(0.3)


def test_a_fresh_page_draws_no_assumption_controls():
    """The box starts closed on the heatmap page: none of its controls are sent to the browser."""
    at = run_app(src="btc_2026-09")
    assert [s.key for s in at.slider if s.key and s.key.startswith("sensitivity_")] == []
    assert "model: Calibrated (v2)" in texts(at)


def test_the_shared_assumptions_draw_the_heatmap_and_land_in_the_link():
    """The sidebar's assumptions (one set for every page) redraw the map; the page names them."""
    at = run_app(src="btc_2026-09", model="v1", editor=True)
    longs_2pct = at.metric[0].value
    assert "model: Reference v1" in texts(at)
    at.selectbox(key="sensitivity_preset").set_value("Degen (high leverage)").run()
    assert at.metric[0].value != longs_2pct  # more high leverage: more USD near the price
    assert "model: Degen (high leverage)" in texts(at) and url(at)["preset"] == "degen"
    at.slider(key="sensitivity_sls").set_value(1.0).run()
    assert at.metric[1].value == "$0"  # long share 1.0: no shorts anywhere
    assert "model: Degen (high leverage), edited" in texts(at)
    assert url(at)["sls"] == "1" and "preset" not in url(at)


def test_an_older_link_with_the_heatmap_mix_and_long_share_still_opens_them():
    at = run_app(src="btc_2026-09", mix="high", ls="0.8", editor=True)
    assert at.radio(key="sensitivity_model").value == "v1"  # written before v2: still reference v1's family
    assert at.selectbox(key="sensitivity_preset").value == "custom"
    assert at.slider(key="sensitivity_w100").value == 30 and at.slider(key="sensitivity_sls").value == 0.8
    assert "mix" not in url(at) and "ls" not in url(at) and url(at)["sls"] == "0.8"


def test_sidebar_controls_reload_the_market_and_land_in_the_link():
    at = run_app(src="btc_2026-09")
    at.selectbox(key="sidebar_tf").set_value("15m").run()
    at.selectbox(key="sidebar_lb").set_value("24h").run()
    assert not at.exception
    assert "15m candles" in at.caption[0].value
    assert url(at) == {"src": "btc_2026-09", "tf": "15m", "lb": "24h"}
    at.selectbox(key="sidebar_tf").set_value("1m").run()
    at.selectbox(key="sidebar_lb").set_value("30d").run()  # 43,200 candles: refused, 7 days instead
    assert at.selectbox(key="sidebar_lb").value == "7d"
    assert any("too many" in w.value for w in at.warning)


def test_url_round_trip_reproduces_the_view():
    params = {"src": "btc_2026-09", "tf": "1h", "lb": "24h", "side": "long", "hl": "41", "zoom": "4",
              "model": "v2", "sls": "0.6"}
    at = run_app(**params, editor=True)
    assert url(at) == params
    assert picture(at)[0]["side"] == "long"
    old = {**params, "model": None}  # a link from before v2: opens on v1, and now says so
    del old["model"]
    assert url(run_app(**old)) == {**old, "model": "v1"}
    assert at.slider(key="sensitivity_sls").value == pytest.approx(0.6)
    before = {**params, "clip": "95"}  # a link from before "Highlight": its percentile, as a highlight
    del before["hl"]
    assert url(run_app(**before)) == params


def test_bad_url_values_fall_back_to_defaults_with_a_notice():
    at = run_app(src="btc_2026-09", tf="<script>", clip="1e9", ex="mtgox")
    assert at.selectbox(key="sidebar_tf").value == "5m"
    assert at.session_state["heatmap_hl"] == 20.0
    notices = " ".join(w.value for w in at.warning)
    assert "Ignored tf=" in notices and "Ignored clip=" in notices and "Ignored ex=" in notices
    assert "<script>" not in " ".join(m.value for m in at.markdown)


def test_volume_proxy_dataset_says_so():
    at = run_app(src="btc_2024-03-05_crash", tf="5m")
    assert "proxy" in texts(at).lower()


def test_how_it_works_page_renders():
    at = run_app(src="btc_2026-09")
    at.switch_page("app_pages/how_it_works.py").run()
    assert not at.exception
    assert any("How it works" in t.value for t in at.title)
    assert len(at.latex) >= 3
    headers = [h.value for h in at.header]
    for wanted in ("Hour by hour: does the model say when?", "Model v2 and the calibrated preset",
                   "Do big clusters attract price?"):
        assert wanted in headers
    body = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    assert "Model shown on the other pages" in body and "Calibrated (v2)" in body
    assert "95% CI" in body and "held-out" in body
    magnets = at.dataframe[-1].value
    assert list(magnets.index) == ["Reference v1", "Calibrated (v2)"] and "95% interval" in magnets.columns


def test_model_memory_is_shown_and_settable():
    """The heatmap of a 12h sample window runs on the history before it (the caption says how much)
    and draws only the window; ``mem=0`` in the link turns memory off."""
    at = run_app(src="btc_2026-02_crash", tf="5m", lb="12h")
    assert at.slider(key="sidebar_mem").value == 7
    assert "model memory 2.5 days" in texts(at)
    off = run_app(src="btc_2026-02_crash", tf="5m", lb="12h", mem="0")
    assert off.slider(key="sidebar_mem").value == 0
    assert "model memory" not in texts(off)
