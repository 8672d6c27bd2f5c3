"""Start and stop the load-test launcher (``serve_fake.py``) as a subprocess on loopback ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import http_ok, wait_until

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve().parent / "serve_fake.py"
START_TIMEOUT = 60.0


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class RunningApp:
    """The app server (a subprocess) and its launcher's stats endpoint."""

    proc: subprocess.Popen
    port: int
    stats_port: int
    log: Path

    @property
    def url(self) -> str:
        """Base URL of the app."""
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict:
        """The launcher's ``/stats`` (upstream calls, cache sizes, RSS)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}/stats", timeout=10) as r:
            return json.load(r)

    def rss_kb(self) -> int:
        """The server's resident memory (kB), read from /proc by the test itself."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line")


def _wait_healthy(proc: subprocess.Popen, url: str, stats_file: Path, log: Path) -> int:
    """Wait (bounded by START_TIMEOUT) until the app answers its health check; return the stats port.

    The launcher publishes the stats port before it starts Streamlit, so a healthy app has one.
    """

    def ready() -> int | None:
        if proc.poll() is not None:
            raise RuntimeError("the app server exited:\n" + log.read_text(errors="replace")[-3000:])
        return int(stats_file.read_text()) if http_ok(url + "/_stcore/health") and stats_file.exists() else None

    try:
        return wait_until(ready, START_TIMEOUT, "the app server's health check")
    except TimeoutError as timeout:
        proc.kill()
        raise RuntimeError(f"{timeout}:\n" + log.read_text(errors="replace")[-3000:]) from None


@contextmanager
def serve_app(workdir: Path, env: Mapping[str, str] | None = None) -> Iterator[RunningApp]:
    """Run the launcher with its cache directory and log in ``workdir``; always stopped on exit.

    ``env``: extra environment variables for the server (e.g. ``LIQMAP_REDIS_URL``, ``LIQMAP_FAKE_NOW``).
    """
    port = free_port()
    stats_file, log = workdir / "stats_port", workdir / "server.log"
    env = {**os.environ, **(env or {}), "LIQMAP_CACHE_DIR": str(workdir / "cache")}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(LAUNCHER), str(port), str(stats_file)], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        stats_port = _wait_healthy(proc, f"http://127.0.0.1:{port}", stats_file, log)
        yield RunningApp(proc, port, stats_port, log)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
