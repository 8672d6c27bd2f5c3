"""ui/cache.py: every cache is keyed by the data's content (``MarketData.data_id``), not its period.

Issue 12's bug: the old key (exchange, symbol, timeframe, source, fetched_at, candle count) was the
same for klines-only and klines+metrics uploads of the same days, so the second upload was shown
the first one's volume-proxy map, across sessions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.data.files import load_files
from core.model import ModelParams
from ui import cache

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
EXAMPLES = REPO / "data" / "examples" / "binance_public"
KLINES = ("BTCUSDT-1m-2026-02-05.csv", "BTCUSDT-1m-2026-02-06.csv")
METRICS = ("BTCUSDT-metrics-2026-02-05.csv", "BTCUSDT-metrics-2026-02-06.csv")


def upload(*names: str) -> tuple[tuple[str, bytes], ...]:
    """(name, bytes) pairs as an upload widget gives them."""
    return tuple((name, (EXAMPLES / name).read_bytes()) for name in names)


@pytest.fixture(autouse=True)
def empty_caches():
    cache._heatmap.clear()
    yield
    cache._heatmap.clear()


def test_two_uploads_of_the_same_period_give_two_heatmaps():
    klines_only = load_files(upload(*KLINES))
    with_metrics = load_files(upload(*KLINES, *METRICS))
    assert klines_only.candles.index.equals(with_metrics.candles.index)  # the same period...
    assert klines_only.data_id != with_metrics.data_id  # ...different content
    a = cache.heatmap((klines_only,), ModelParams())
    b = cache.heatmap((with_metrics,), ModelParams())
    assert a is not b
    assert a.oi_proxy and not b.oi_proxy  # the second map uses its open interest


def test_the_same_upload_twice_hits_the_cache():
    first = cache.heatmap((load_files(upload(*KLINES, *METRICS)),), ModelParams())
    again = cache.heatmap((load_files(upload(*KLINES, *METRICS)),), ModelParams())  # parsed anew, same bytes
    assert again is first
    assert cache.heatmap((load_files(upload(*KLINES, *METRICS)),), ModelParams(long_share=0.4)) is not first


def heatmap_notes_after_upload(names: tuple[str, ...]) -> str:
    """A fresh session uploads ``names`` on the accuracy page, uses them, then opens the heatmap."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["src"] = "btc_2026-09"
    at.run()
    at.switch_page("app_pages/accuracy.py").run()
    at.file_uploader(key="accuracy_market_files").set_value(
        [(n, (EXAMPLES / n).read_bytes(), "text/csv") for n in names]).run()
    next(b for b in at.button if b.label == "Use these files").click().run()
    at.switch_page("app_pages/heatmap.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "upload_market" in at.session_state
    kept = [*at.session_state.values(), *(v for d in at.session_state.values() if isinstance(d, dict) for v in d.values())]
    assert not any(isinstance(v, bytes) for v in kept)  # raw bytes are not kept
    return " ".join(i.value for i in at.info)


def test_sessions_with_different_uploads_of_the_same_days_see_their_own_map():
    assert "proxy" in heatmap_notes_after_upload(KLINES)
    assert "proxy" not in heatmap_notes_after_upload((*KLINES, *METRICS))
