"""AppTest: the Cascade replay page from a link: replay, play, jump, what-if, crash offer, proxy notice.

Every test starts from a fresh session opened on the replay page's link, as a shared link opens it
(tests/ui/test_cache.py moves between pages in one session).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.grid.bands import highlight_for_percentile

TIMEOUT = 60
APP = Path(__file__).resolve().parents[2] / "app.py"
CRASH_LINK = {"src": "btc_2026-02_crash", "tf": "5m", "lb": "3d", "model": "v1"}  # golden times: reference v1


def open_replay(**params) -> AppTest:
    """A fresh session opened on the replay page's link with ``params``."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("app_pages/replay.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    parts += [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def replay_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if "UTC candle · close" in c.value)


def story(at: AppTest) -> str:
    return next(i.value for i in at.info if "liquidat" in i.value or "No shock" in i.value)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def at() -> AppTest:
    return open_replay(**CRASH_LINK)


def test_page_renders_the_crash_from_a_link(at):
    """The page shows the replay chart at the last candle, five ranked cascades and a what-if story."""
    assert "cascade replay" in at.title[0].value
    assert len(at.get("vega_lite_chart")) >= 2  # the replay frame and the what-if chart
    spec = at.get("vega_lite_chart")[0].proto
    assert {d.name for d in spec.datasets} >= {"image", "path", "flows", "volume", "map_bars"}
    assert [b.label for b in at.button if b.label == "Play it"] == ["Play it"] * 5
    assert at.slider(key="replay_time").value == pd.Timestamp("2026-02-07 00:30").to_pydatetime()
    assert "Sat 07 Feb 00:30 UTC candle" in replay_caption(at)  # the slider's time: the last candle's open
    assert "so far: $" in replay_caption(at) and "ms" not in replay_caption(at)  # labelled, no developer text
    assert "How cascades are found" in [e.label for e in at.expander]
    assert "Replay the Feb 2026 crash" not in [b.label for b in at.button]  # already on it
    assert "liquidates" in story(at)


def test_moving_the_time_slider_redraws_the_frame_and_moves_the_what_if(at):
    """Moving the replay time changes the frame and the moment the what-if starts from."""
    before_frame = replay_caption(at)
    before_story = story(at)
    at.slider(key="replay_time").set_value(pd.Timestamp("2026-02-05 15:00").to_pydatetime()).run()
    assert not at.exception
    assert replay_caption(at) != before_frame and "Thu 05 Feb 15:00 UTC candle" in replay_caption(at)
    assert any("05 Feb 15:00 UTC candle" in c.value for c in at.caption)
    assert story(at) != before_story


def test_play_advances_the_replay_and_pause_stops_it(at):
    """Play restarts from the start at the end, each frame moves the slider, Pause stops it."""
    at.button(key="replay_play").click().run()
    assert at.session_state["replay_playing"] is True
    first = at.slider(key="replay_time").value
    seen = [first]
    for _ in range(3):
        at.run()
        seen.append(at.slider(key="replay_time").value)
    assert seen == sorted(seen) and len(set(seen)) == 4
    assert seen[1] - seen[0] == pd.Timedelta(minutes=10)  # 1 h of market per second at 5 frames: 2 candles
    assert at.button(key="replay_play").label == "Pause"
    at.button(key="replay_play").click().run()
    assert at.session_state["replay_playing"] is False
    paused = at.slider(key="replay_time").value
    at.run()
    assert at.slider(key="replay_time").value == paused
    assert not at.exception


def test_playing_stops_at_the_last_candle():
    """At the end of the window the player stops by itself."""
    at = open_replay(**CRASH_LINK)
    at.segmented_control(key="replay_speed").set_value("6h").run()
    at.slider(key="replay_time").set_value(pd.Timestamp("2026-02-06 23:30").to_pydatetime()).run()
    at.session_state["replay_playing"] = True
    for _ in range(4):
        at.run()
    assert at.session_state["replay_playing"] is False
    assert at.slider(key="replay_time").value == pd.Timestamp("2026-02-07 00:30").to_pydatetime()
    assert not at.exception


def test_step_buttons_move_one_candle(at):
    at.button(key="replay_back").click().run()
    assert at.slider(key="replay_time").value == pd.Timestamp("2026-02-07 00:25").to_pydatetime()
    at.button(key="replay_forward").click().run()
    assert at.slider(key="replay_time").value == pd.Timestamp("2026-02-07 00:30").to_pydatetime()


def test_jump_plays_the_cascade_from_a_few_candles_before_it(at):
    """'Play it' on cascade #3 (5 Feb 15:00 -> 15:25) starts playing 20 candles (2 s of play) before it."""
    summary = next(m.value for m in at.markdown if m.value.startswith("**#3**"))
    assert "5 Feb 15:00 -> 15:25 UTC" in summary
    at.button(key="replay_jump_2").click().run()
    assert not at.exception
    assert at.session_state["replay_playing"] is True
    started = at.slider(key="replay_time").value
    assert pd.Timestamp("2026-02-05 13:20") <= pd.Timestamp(started) < pd.Timestamp("2026-02-05 15:00")
    assert f"{started:%a %d %b %H:%M} UTC candle" in replay_caption(at)  # slider and caption agree
    at.button(key="replay_play").click().run()  # pause
    at.button(key="replay_quick_0").click().run()  # the quick link above the chart: #1, 6 Feb 00:00 -> 01:05
    assert at.session_state["replay_playing"] is True
    assert pd.Timestamp(at.slider(key="replay_time").value) < pd.Timestamp("2026-02-06 00:00")


def test_what_if_changes_with_shock_depth_and_impact_rule(at):
    """A bigger shock, a thinner book or another impact rule changes the outcome."""
    base = metrics(at)
    assert base["Amplification"].endswith("x")
    at.slider(key="replay_shock").set_value(-8.0).run()
    bigger = metrics(at)
    assert bigger["Total move"] != base["Total move"] and "8.0% drop" in story(at)
    at.number_input(key="replay_depth_m").set_value(20.0).run()
    thinner = metrics(at)
    assert float(thinner["Total move"].rstrip("%")) < float(bigger["Total move"].rstrip("%"))
    assert "$20M moves it 1%" in story(at)
    at.radio(key="replay_impact").set_value("sqrt").run()
    assert "sqrt impact" in story(at)
    at.slider(key="replay_shock").set_value(4.0).run()
    assert "rise" in story(at) and metrics(at)["Longs liquidated"] == "$0"
    assert at.dataframe[0].value.shape[0] >= 1  # the step table
    at.button(key="replay_depth_reset").click().run()
    # 130.5 without model memory: with it the window's first candle is a whole candle, not its last minutes
    assert at.number_input(key="replay_depth_m").value == pytest.approx(131.2, abs=0.1)
    assert "cents" not in str(at.dataframe[0].value) and "$" in at.dataframe[0].value["Longs liquidated"].iloc[0]
    assert not at.exception


def test_quiet_sample_offers_the_crash_and_uses_the_open_interest_floor():
    """On the quiet Sep 2026 sample the page offers the crash, and the depth comes from the OI floor."""
    at = open_replay(src="btc_2026-09", model="v1")  # the amplification bound is reference v1's
    body = texts(at)
    assert "2% of the median open interest" in body and "floor" in body
    assert "cascade stops at" in story(at)
    amplification = float(metrics(at)["Amplification"].rstrip("x"))
    assert 1.0 <= amplification < 4.0  # a plausible story, not a run to zero
    at.button(key="replay_crash").click().run()
    assert at.session_state["sidebar_src"] == "btc_2026-02_crash"
    assert at.session_state["sidebar_lb"] == "3d"


def test_volume_proxy_dataset_says_so():
    """The 5 Mar 2024 crash has no open-interest history: the page says it runs on the volume proxy."""
    at = open_replay(src="btc_2024-03-05_crash", tf="5m")
    body = texts(at)
    assert "Volume proxy" in body
    assert "Replay the Feb 2026 crash" not in [b.label for b in at.button]
    assert len([b for b in at.button if b.label == "Play it"]) >= 1
    assert sum("Volume proxy" in str(i.value) for i in at.info) == 1  # one notice, not three


def colour_top(at: AppTest) -> float:
    """The top of the replay heatmap's colour scale, read from the chart's legend (domain [0, top])."""
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)

    def scales(node):
        if isinstance(node, dict):
            scale = node.get("scale")
            if isinstance(scale, dict) and isinstance(scale.get("range"), list) and scale.get("domain", [None])[0] == 0:
                yield float(scale["domain"][1])
            for value in node.values():
                yield from scales(value)
        elif isinstance(node, list):
            for value in node:
                yield from scales(value)

    return next(scales(spec))


def test_highlight_is_the_heatmaps_and_stronger_lowers_the_colour_top(at):
    """The replay has the heatmap page's "Highlight" (subtle -> strong), not a brightness percentile:
    moving it to strong lowers the top of the colour scale (a brighter picture), it goes into the link
    as the heatmap's hl, and playing keeps the one top for every frame."""
    slider = at.slider(key="heatmap_hl")
    assert slider.label.startswith("Highlight") and slider.value == 20.0
    subtle = colour_top(at)
    slider.set_value(80.0).run()
    assert not at.exception
    strong = colour_top(at)
    assert strong < subtle
    assert at.query_params["hl"] == "80"
    at.button(key="replay_play").click().run()
    for _ in range(2):
        at.run()
        assert colour_top(at) == strong


def test_an_old_link_with_a_brightness_percentile_still_opens():
    """A replay link from before (clip=, the old brightness percentile) opens as usual, at the Highlight
    that percentile corresponds to (``highlight_for_percentile``, as on every page)."""
    at = open_replay(**CRASH_LINK, clip="99.5")
    equivalent = open_replay(**CRASH_LINK, hl=str(highlight_for_percentile(99.5)))
    assert colour_top(at) == colour_top(equivalent) != colour_top(open_replay(**CRASH_LINK))
    assert "cascade replay" in at.title[0].value


def test_a_late_slider_value_from_the_browser_does_not_move_a_playing_replay(at):
    """While playing, the browser's rerun requests may carry the slider's value from a frame or more
    ago (a busy machine): the replay ignores it and keeps playing on from where it is."""
    at.button(key="replay_play").click().run()
    at.run()
    playing_at = at.slider(key="replay_time").value
    # what a stale widget state does on the server (the slider itself is disabled while playing): the end
    at.session_state["replay_time"] = pd.Timestamp("2026-02-07 00:30").to_pydatetime()
    at.run()
    assert at.session_state["replay_playing"] is True
    assert pd.Timestamp(at.slider(key="replay_time").value) == pd.Timestamp(playing_at) + pd.Timedelta(minutes=10)
    at.button(key="replay_play").click().run()  # pause: now the slider is the user's again
    at.slider(key="replay_time").set_value(pd.Timestamp("2026-02-05 15:00").to_pydatetime()).run()
    assert "Thu 05 Feb 15:00 UTC candle" in replay_caption(at)
