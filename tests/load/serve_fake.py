"""Launcher for the load test: the real app server, with every exchange served by the fakes.

Usage (from the repository root)::

    python tests/load/serve_fake.py PORT STATS_FILE

Before ``streamlit run app.py`` starts in this process, the app's process-wide data services are
replaced (``core.data.load.set_default_services``) by ones whose ccxt clients talk to
``tests/fixtures/fake_exchanges.py`` (ccxt's own HTTP handling runs; only ``session.request`` is
faked), on a clock frozen at start-up (or at ``$LIQMAP_FAKE_NOW``, so that several launchers share
one) so every request falls in one time bucket. The cache and the last-good store are the
production defaults (store in ``$LIQMAP_CACHE_DIR``; on Redis when ``$LIQMAP_REDIS_URL`` is set).

A tiny loopback HTTP server (``GET /stats``, port written to STATS_FILE) reports the upstream
requests per exchange and endpoint, core's cache sizes, Streamlit's cache sizes and bounds, and
this process's RSS. Nothing here is production code.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import pandas as pd  # noqa: E402
from fixtures.fake_exchanges import FakeExchange, fakes_at  # noqa: E402

from core.data.live import ClientPool  # noqa: E402
from core.data.load import DataServices, default_services, set_default_services  # noqa: E402
from tests.load.introspect import core_cache_sizes, st_cache_bounds, st_cache_sizes  # noqa: E402

FAKE_NOW_VAR = "LIQMAP_FAKE_NOW"  # an ISO time: several launchers on one clock (default: now at start-up)
FAKES: dict[str, FakeExchange] = {}
FROZEN_NOW: list[pd.Timestamp] = []


def install_fake_exchanges(now: pd.Timestamp) -> dict[str, FakeExchange]:
    """Make the fakes the app's only exchanges (default cache and store, clock frozen at ``now``)."""
    fakes = fakes_at(now)
    set_default_services(DataServices(clients=ClientPool(lambda ex: fakes[ex].client()), clock=lambda: now))
    return fakes


def frozen_now(text: str) -> pd.Timestamp:
    """The launcher's frozen clock: ``text`` (ISO, as ``$LIQMAP_FAKE_NOW``; UTC when it names no zone),
    or now when empty."""
    if not text.strip():
        return pd.Timestamp.now(tz="UTC")
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def rss_kb() -> int:
    """Resident memory of this process (kB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def stats() -> dict:
    """What the load test checks: upstream calls per endpoint, cache sizes and bounds, memory."""
    calls = {ex: dict(Counter(fake.paths())) for ex, fake in FAKES.items()}
    return {
        "pid": os.getpid(),
        "now": FROZEN_NOW[0].isoformat() if FROZEN_NOW else None,
        "rss_kb": rss_kb(),
        "upstream": calls,
        "core_cache": core_cache_sizes(default_services()),
        "st_caches": st_cache_sizes(),
        "st_bounds": st_cache_bounds(),
    }


class StatsHandler(BaseHTTPRequestHandler):
    """``GET /stats`` -> JSON; anything else 404."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path != "/stats":
            self.send_error(404)
            return
        body = json.dumps(stats()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Quiet."""


def serve_stats(stats_file: Path) -> None:
    """Start the stats server on a free loopback port (daemon thread) and publish the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StatsHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="load-stats").start()
    tmp = stats_file.with_suffix(".tmp")
    tmp.write_text(str(server.server_address[1]))
    tmp.replace(stats_file)


def main(port: int, stats_file: Path) -> None:
    """Install the fakes, start the stats server, then run the app (blocks until terminated)."""
    from streamlit.web import cli

    FROZEN_NOW.append(frozen_now(os.environ.get(FAKE_NOW_VAR, "")))
    FAKES.update(install_fake_exchanges(FROZEN_NOW[0]))
    serve_stats(stats_file)
    os.chdir(REPO)
    cli.main(
        ["run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        prog_name="streamlit",
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
