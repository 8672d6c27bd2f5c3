"""Server time of one page run (AppTest, in process): the heatmap page and the replay page on the bundled
crash sample, warm caches (the first run is left out), median of 5 reruns, wall and CPU seconds.

Run: .venv/bin/python bench/bench_page_cpu.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamlit.testing.v1 import AppTest  # noqa: E402

APP = REPO / "app.py"
LINK = {"src": "btc_2026-02_crash", "tf": "5m", "lb": "3d"}
PAGES = ("app_pages/heatmap.py", "app_pages/replay.py")
RUNS = 5


def page_runs(page: str, runs: int = RUNS) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` reruns of ``page`` after a first, warming run."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in LINK.items():
        at.query_params[key] = value
    at.run()
    if page != PAGES[0]:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        at.run()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
        assert not at.exception, [e.message for e in at.exception]
    return wall, cpu


def main() -> None:
    for page in PAGES:
        wall, cpu = page_runs(page)
        print(f"{page}: median of {RUNS} reruns: wall {statistics.median(wall):.2f} s, "
              f"CPU {statistics.median(cpu):.2f} s (CPU runs {', '.join(f'{c:.2f}' for c in cpu)})")


if __name__ == "__main__":
    main()
