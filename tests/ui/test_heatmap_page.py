"""AppTest: the heatmap page mounts its canvas picture with the page's one unit (USD per display band)."""

from __future__ import annotations

import numpy as np
import pytest

from core.charts.canvas import decode_payload
from core.data.load import load_market
from core.format import format_usd
from core.grid import band_levels, colour_tops, compute_heatmap, display_grid
from core.sensitivity_state import SensitivityState
from core.viewstate import View
from tests.ui.test_app import picture, run_app
from ui.cache import memory_span
from ui.sections.heatmap import HOW_TO_READ, HOW_TO_READ_KEY, reported_view


@pytest.fixture(scope="module")
def page():
    return run_app(src="btc_2026-09")


@pytest.fixture(scope="module")
def grid():
    market = load_market(symbol="BTC/USDT:USDT", timeframe="5m", lookback="3d", source="bundled", dataset="btc_2026-09",
                         memory=memory_span(View().mem))  # as the page loads it (with the model's memory)
    return display_grid(compute_heatmap(market, SensitivityState().to_model(), price_bins=500))


def test_the_picture_carries_the_display_grid_of_the_page(page, grid):
    """The component's data is the display grid (both sides), its candles, key levels and colour tops."""
    header, long, short = picture(page)
    assert (header["rows"], header["cols"]) == grid.long.shape
    assert header["band"] == grid.band_width and header["bandLabel"] == f"${grid.band_width:,.0f}"
    np.testing.assert_allclose(long, grid.long, rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(short, grid.short, rtol=1e-6, atol=1e-3)
    assert header["price"] == pytest.approx(grid.close[-1])
    levels = band_levels(grid, 8)
    assert [lv["usd"] for lv in header["levels"]] == pytest.approx(levels["usd"].tolist())
    assert header["tops"]["long"] == pytest.approx(colour_tops(grid, "long").tolist(), rel=1e-7)
    assert header["side"] == "both" and header["highlight"] == 20
    assert len(header["ramp"]) == 256 and header["view"]["low"] < header["price"] < header["view"]["high"]


def test_the_picture_names_its_png_export_and_the_page_has_no_second_png(page, grid):
    """The export's title says coin, exchange, timeframe, window and model; its file name is safe;
    the downloads section keeps the CSVs only (the picture's own button makes the PNG)."""
    labels = picture(page)[0]["export"]
    assert labels["title"].startswith("BTC liquidation heatmap") and "5m candles" in labels["title"]
    assert f"{grid.starts[0]:%d %b %Y %H:%M}" in labels["details"] and "model: " in labels["details"]
    assert "model estimate" in labels["details"]
    assert labels["file_stem"].startswith("BTCUSDT_") and labels["file_stem"].endswith(
        f"_5m_{grid.starts[0]:%Y-%m-%d}_liquidation-heatmap")
    names = [b.proto.label for b in page.get("download_button")]
    assert names and all("CSV" in n for n in names)


def test_key_levels_table_shows_the_same_numbers_as_the_picture(page):
    """The key-level table's amounts are the picture's tag amounts, in the stated unit."""
    header, _, _ = picture(page)
    table = page.table[0].value
    unit = f"USD per {header['bandLabel']} band"
    assert list(table.columns)[:2] == ["Side", unit]
    assert table[unit].tolist() == [format_usd(lv["usd"]) for lv in header["levels"]]


def test_market_data_chart_is_drawn_on_request(page):
    """The price/open-interest chart appears when asked for (the heatmap itself needs no chart library)."""
    assert not page.get("vega_lite_chart")
    page.toggle(key="heatmap_market_data").set_value(True).run()
    assert not page.exception and len(page.get("vega_lite_chart")) == 1


def test_how_to_read_is_written_when_its_box_is_opened():
    """Closed (as a page opens), the "How to read this" box sends no text; opened, it reads the guide."""
    guide = HOW_TO_READ.strip().splitlines()[0]
    at = run_app(src="btc_2026-09")
    assert not any(guide in m.value for m in at.markdown)
    at.session_state[HOW_TO_READ_KEY] = True
    at.run()
    assert not at.exception and any(guide in m.value for m in at.markdown)


def test_an_unchanged_grid_is_resent_byte_for_byte():
    """Reruns that keep the data and model resend identical bytes (no transfer, the browser keeps its zoom)."""
    at = run_app(src="btc_2026-09")
    first = at.get("bidi_component")[0].proto.bytes
    at.session_state["heatmap_side"] = "short"
    at.run()
    assert at.get("bidi_component")[0].proto.bytes == first
    at.selectbox(key="sidebar_tf").set_value("15m").run()
    header, _, _ = decode_payload(at.get("bidi_component")[0].proto.bytes)
    assert header["side"] == "short" and header["cols"] < 300  # a new grid starts with the chosen side


@pytest.mark.parametrize("state, expected", [
    ({"view": {"side": "long", "highlight": 42}}, {"side": "long", "hl": 42.0}),
    ({"view": {"side": "<script>", "highlight": 1e308}}, {"hl": 100.0}),
    ({"view": {"side": "short", "highlight": float("nan")}}, {"side": "short"}),
    ({"view": {"highlight": True}}, {}),
    ({"view": "both"}, {}),
    (None, {}),
])
def test_only_valid_reports_from_the_browser_reach_the_view(state, expected):
    """Whatever the browser reports, only a known side and a finite highlight (clamped) are kept."""
    assert reported_view(state) == expected


def test_imbalance_caption_names_the_heavier_side(page):
    """'Imbalance +x% (longs heavier)': the sign and the words agree with the metrics above them."""
    captions = [c.value for c in page.caption if c.value.startswith("Imbalance")]
    assert len(captions) == 3
    metrics = [m.value for m in page.metric]  # longs -x%, shorts +x% for each of the three windows

    def usd(text: str) -> float:
        return float(text.strip("$KMB")) * {"K": 1e3, "M": 1e6, "B": 1e9}.get(text[-1], 1)

    for caption, longs, shorts in zip(captions, metrics[0::2], metrics[1::2]):
        if usd(longs) > usd(shorts):
            assert caption.startswith("Imbalance +") and "(longs heavier)" in caption
        elif usd(longs) < usd(shorts):
            assert caption.startswith("Imbalance -") and "(shorts heavier)" in caption


def test_volume_proxy_sample_says_no_open_interest_in_one_box():
    """The 5 Mar 2024 sample (no open-interest history): one box says so on the page, not three."""
    at = run_app(src="btc_2024-03-05_crash")
    boxes = [str(e.value) for e in (*at.info, *at.warning, *at.error)]
    assert len([b for b in boxes if "open-interest" in b or "open interest" in b]) == 1, boxes


def test_downloads_caption_summarises_the_leverage_ladder(page):
    """The model line under the downloads names the v2 ladder's range and median, not its 24 rungs."""
    caption = next(c.value for c in page.caption if c.value.startswith("Model: "))
    assert "leverage 2x-125x, median 10x;" in caption and "%," not in caption.split("; long share")[0]
