"""AppTest: the Import & accuracy page (Binance files in, realized liquidations drawn and scored).

AppTest re-executes only the page on a rerun, not app.py: a click that switches the sidebar's data
source is checked in session state, and what the other pages then show is checked in a fresh run
started with that state (as the real app does on the click's rerun).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.data.market import MarketData
from tests.conftest import shared_path
from tests.charts.test_accuracy_charts import force_orders
from ui.sections.assumptions import editor_key

TIMEOUT = 60
REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
PAGE = "app_pages/accuracy.py"
FIXTURES = REPO / "data" / "examples" / "binance_public"
PAIR = ("BTCUSDT-1m-2026-02-05.csv", "BTCUSDT-metrics-2026-02-05.csv")


def open_page(state: dict | None = None, **params) -> AppTest:
    """A fresh session opened on the accuracy page's link with ``params`` (and ``state``)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts).replace("\\", "")  # as read: without markdown escapes


def upload(name: str) -> tuple[str, bytes, str]:
    return name, (FIXTURES / name).read_bytes(), "text/csv"


def test_page_explains_where_files_come_from_and_that_nothing_is_scored_yet():
    at = open_page(src="btc_2026-09")
    assert at.title[0].value == "Import & accuracy"
    assert [h.value for h in at.header][:4] == ["1. Market data from Binance's public files",
                                               "2. Liquidations that really happened", "3. Model vs reality",
                                               "4. Candle by candle: does the model say when?"]
    assert "data.binance.vision/data/futures/um/daily/klines/<SYMBOL>" in at.code[0].value
    assert "metrics" in at.code[0].value
    assert any("No realized liquidations loaded" in i.value for i in at.info)
    labels = [b.label for b in at.button]
    assert "Load the example files" in labels
    assert "Score the 5 Mar 2024 crash" not in labels  # the app never reads ../shared
    assert len(at.file_uploader) == 3 and at.file_uploader[0].accept_multiple_files


def test_example_files_switch_the_source_to_upload_and_show_what_was_read():
    at = open_page(src="btc_2026-09")
    button(at, "Load the example files").click().run()
    assert not at.exception
    assert at.session_state["sidebar_src"] == "upload"
    market = at.session_state["upload_market"]
    assert isinstance(market, MarketData) and market.source == "upload"
    assert len(market.candles) == 360 and market.open_interest.notna().all()
    body = texts(at)
    assert "in use on every page" in body
    assert "360 × 1m" in body and "360 of 360 candles" in body
    assert "05 Feb 2026 21:00 → 06 Feb 2026 03:00" in body


def test_heatmap_page_then_shows_the_uploaded_period():
    """The next run (app.py with the source "upload") draws the uploaded days on the heatmap page."""
    at = open_page(src="btc_2026-09")
    button(at, "Load the example files").click().run()
    state = {"upload_market": at.session_state["upload_market"], "sidebar_src": "upload"}
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in state.items():
        fresh.session_state[key] = value
    fresh.run()
    assert not fresh.exception
    assert fresh.selectbox(key="sidebar_src").value == "upload"
    assert "05 Feb 21:00 – 06 Feb 02:59 UTC" in texts(fresh)
    assert "Uploaded files" in texts(fresh)
    assert len(fresh.get("bidi_component")) == 1  # the heatmap picture (canvas component) is drawn


def test_uploading_a_klines_and_metrics_pair_then_using_it():
    at = open_page(src="btc_2026-09")
    at.file_uploader(key="accuracy_market_files").set_value([upload(n) for n in PAIR]).run()
    assert not at.exception and not at.error
    assert "180 × 1m" in texts(at) and "180 of 180 candles" in texts(at)
    assert any(s.value.startswith("Read 2 file(s) in") for s in at.success)
    button(at, "Use these files").click().run()
    assert at.session_state["sidebar_src"] == "upload"
    assert len(at.session_state["upload_market"].candles) == 180


def test_the_zip_binance_style_is_read_too():
    at = open_page(src="btc_2026-09")
    name = "BTCUSDT-1m-and-metrics-2026-02-05_06.zip"
    at.file_uploader(key="accuracy_market_files").set_value(
        [(name, (FIXTURES / name).read_bytes(), "application/zip")]).run()
    assert not at.error and "360 × 1m" in texts(at)


def test_klines_without_metrics_say_volume_proxy():
    at = open_page(src="btc_2026-09")
    at.file_uploader(key="accuracy_market_files").set_value([upload(PAIR[0])]).run()
    assert "none: volume proxy" in texts(at)


def test_a_wrong_file_shows_a_plain_error_and_renders_nothing_from_it():
    """A file that is not Binance data is refused in plain words; its name is shown escaped, as typed."""
    at = open_page(src="btc_2026-09")
    evil = "![x](http://evil.example/a).csv"
    at.file_uploader(key="accuracy_market_files").set_value([(evil, b"hello,<b>world</b>\n1,2\n", "text/csv")]).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("These files could not be used:") and "not a Binance klines or metrics file" in message
    assert "![" not in message and "](" not in message  # markdown escaped
    assert "<b>" not in message
    assert "upload_market" not in at.session_state and at.session_state["_view"].src == "btc_2026-09"
    assert not [b for b in at.button if b.label == "Use these files"]


def crash_orders(tmp_path: Path) -> Path:
    """A small forceOrder file (constructed) with liquidations inside the bundled 4-7 Feb 2026 crash."""
    times = pd.date_range("2026-02-05 12:07", periods=12, freq="2h", tz="UTC")
    rows = [("BTCUSDT", "SELL" if i % 2 else "BUY", 0.3 + i / 10, 66_000.0 - 400 * i, t) for i, t in enumerate(times)]
    path = tmp_path / "btc_force_orders.csv"
    path.write_bytes(force_orders(rows))
    return path


def test_realized_file_is_drawn_over_the_heatmap_and_scored(tmp_path):
    at = open_page(src="btc_2026-02_crash", tf="15m", lb="3d")
    path = crash_orders(tmp_path)
    at.file_uploader(key="accuracy_realized_file").set_value((path.name, path.read_bytes(), "text/csv")).run()
    assert not at.exception and not at.error
    assert at.session_state["accuracy_realized"]["name"] == path.name
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4  # overlay, per-candle bars, calibration; section 4: the per-candle score's bars
    assert '"circle"' in charts[0].proto.spec  # the realized markers
    labels = [m.label for m in at.metric]
    assert labels == ["Hit share", "Lift over a uniform guess", "Lift over distance only", "Scored"]
    assert at.metric[3].value == "12 of 12"
    assert "Reading:" in texts(at)
    assert any(e.label == "How the score works" for e in at.expander)


def test_the_overlay_has_the_heatmaps_highlight(tmp_path):
    """The map under the real liquidations has the shared "Highlight" (subtle -> strong): right is
    brighter, and an old link's brightness percentile (clip) opens as its highlight."""
    at = open_page(src="btc_2026-02_crash", tf="15m", lb="3d", clip="95")
    path = crash_orders(tmp_path)
    at.file_uploader(key="accuracy_realized_file").set_value((path.name, path.read_bytes(), "text/csv")).run()
    slider = at.slider(key="heatmap_hl")
    assert slider.label.startswith("Highlight") and slider.value == 41.0
    before = at.get("vega_lite_chart")[0].proto.spec
    slider.set_value(100.0).run()
    assert not at.exception and at.get("vega_lite_chart")[0].proto.spec != before
    assert at.query_params["hl"] in ("100", ["100"]) and "clip" not in at.query_params


def test_realized_outside_the_period_says_so(tmp_path):
    at = open_page(src="btc_2026-09")  # 21-24 Sep 2026: the file is from February
    path = crash_orders(tmp_path)
    at.file_uploader(key="accuracy_realized_file").set_value((path.name, path.read_bytes(), "text/csv")).run()
    assert any("can be scored against this period" in w.value for w in at.warning)
    assert not at.metric and not at.get("vega_lite_chart")


def test_a_wrong_realized_file_shows_a_plain_error():
    at = open_page(src="btc_2026-09")
    at.file_uploader(key="accuracy_realized_file").set_value(("notes.csv", b"a,b\n1,2\n", "text/csv")).run()
    assert not at.exception
    assert at.error and at.error[0].value.startswith("This file could not be used:")


def test_score_the_5_march_2024_crash_on_the_real_bybit_orders():
    """The real Bybit orders (read in place by the test, not by the app) uploaded over the 2024-03-05
    sample at 1m; the session keeps the parsed records, never the file's bytes."""
    orders = shared_path("btc_2024-03-05_cascade", "bybit_btcusdt_liquidation_orders.csv")
    at = open_page(src="btc_2024-03-05_crash", tf="1m", lb="24h", model="v1")  # golden figures: reference v1
    at.file_uploader(key="accuracy_realized_file").set_value((orders.name, orders.read_bytes(), "text/csv")).run()
    assert not at.exception
    record = at.session_state["accuracy_realized"]
    assert not any(isinstance(v, bytes) for v in record.values())
    fresh = open_page({"accuracy_realized": record}, src="btc_2024-03-05_crash", tf="1m", lb="24h", model="v1")
    values = {m.label: m.value for m in fresh.metric}
    assert values == {"Hit share": "14.9%", "Lift over a uniform guess": "1.49×",
                      "Lift over distance only": "0.15×", "Scored": "1,411 of 1,411"}  # bench/score_2024_03_05.py
    assert "Every liquidation given was scored." in texts(fresh)


def candle_csv(n: int = 400, seed: int = 5) -> bytes:
    """A CoinGlass-style hourly file with its own candles and open interest (random walks)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    close = 90_000 * np.exp(np.cumsum(rng.normal(0, 0.006, n)))
    open_ = np.concatenate(([90_000.0], close[:-1]))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.003, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.003, n)))
    oi = 8e9 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    down, up = np.maximum(open_ - low, 0) / open_, np.maximum(high - open_, 0) / open_
    times = pd.date_range("2026-01-01", periods=n, freq="1h", tz="UTC")
    frame = pd.DataFrame({"timestamp": times.as_unit("ms").asi8, "price_open": open_, "price_high": high,
                          "price_low": low, "price_close": close, "oi_close": oi,
                          "liquidation_long_usd": 1e9 * down ** 2 * rng.lognormal(0, 0.5, n) + 1e4,
                          "liquidation_short_usd": 1e9 * up ** 2 * rng.lognormal(0, 0.5, n) + 1e4})
    return frame.to_csv(index=False).encode()


def test_per_candle_file_is_scored_charted_and_fitted():
    """A per-candle file with candles and OI: scorecard (model, move x OI, uniform), the model's name,
    the per-candle chart, the biggest misses, and "Fit on this period" shows fitted values."""
    at = open_page(src="btc_2026-09")
    at.file_uploader(key="accuracy_candle_file").set_value(("coinglass_1h.csv", candle_csv(), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    body = texts(at)
    assert "All scored candles" in body and "its own 1h candles and open interest" in body
    assert "Model: " in body and "warm-up" in body
    card = at.dataframe[0].value
    assert list(card.index) == ["model (this map)", "move x OI", "uniform"] and "ρ longs" in card.columns
    assert any("Biggest misses" == s.value for s in at.subheader)
    button(at, "Fit on this period").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Fitted" in texts(at) and "held-out" in texts(at)
    fitted = next(m.value for m in at.markdown if m.value.startswith("**Fitted**"))
    button(at, "Use these values").click().run()
    assert not at.exception, [e.message for e in at.exception]
    model = at.session_state["_sensitivity"]  # the shared assumptions (ui.state.MODEL) every page reads
    assert model.model == "v2" and f"**{model.lmed:.3g}x**" in fitted and f"**{model.lsig:.2g}**" in fitted
    assert f"**{model.turn:.1%} per hour**" in fitted and f"**{model.same:.0%}**" in fitted
    assert any("now the model's assumptions" in s.value for s in at.success)
    query = {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}
    assert float(query.get("lmed", "10")) == model.lmed and float(query.get("turn", "0.1")) == model.turn
    at.session_state[editor_key(expanded=False)] = True  # the sidebar's controls are drawn while open
    at.run()
    assert at.slider(key="sensitivity_lmed").value == model.lmed


def test_a_wrong_per_candle_file_shows_a_plain_error():
    at = open_page(src="btc_2026-09")
    at.file_uploader(key="accuracy_candle_file").set_value(("x.csv", b"a,b\n1,2\n", "text/csv")).run()
    assert not at.exception
    assert any("could not be used" in e.value for e in at.error)
