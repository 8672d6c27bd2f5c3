"""Shared by the bench scripts: wait for a Streamlit server they started."""

from __future__ import annotations

import subprocess
import time
import urllib.request


def wait_healthy(proc: subprocess.Popen, url: str, seconds: float = 60.0) -> tuple[subprocess.Popen, str]:
    """Return ``(proc, url)`` once ``url``'s health check answers; kill ``proc`` and raise if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")
