"""The hardened server settings (README, "Security") hold, no secret is committed, and a foreign
page cannot upload files or open a session (XSRF and origin checks, against the running server)."""

from __future__ import annotations

import re
import subprocess
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / ".streamlit" / "config.toml"
MAX_UPLOAD_MB = 200
FOREIGN = "https://evil.example"

# Assignments of a literal value to a secret-looking name, private keys, well-known token shapes.
SECRET_PATTERNS = [
    re.compile(r"""(?i)(api[_-]?key|apikey|secret|passphrase|password|private[_-]?key|access[_-]?token)['"]?\s*[:=]\s*['"][^'"\s]{6,}['"]"""),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bsk-[A-Za-z0-9]{32,}\b"),
]
TEXT_SUFFIXES = {".py", ".toml", ".md", ".txt", ".sh", ".json", ".ini", ".cfg", ".yml", ".yaml", ".csv", ".env", ""}


@pytest.fixture(scope="module")
def config() -> dict:
    """.streamlit/config.toml, parsed."""
    return tomllib.loads(CONFIG.read_text())


def test_xsrf_and_cors_protection_are_on(config):
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True


def test_static_serving_is_off_and_uploads_are_bounded(config):
    assert config["server"]["enableStaticServing"] is False
    assert 0 < config["server"]["maxUploadSize"] <= MAX_UPLOAD_MB
    assert 0 < config["server"]["maxMessageSize"] <= MAX_UPLOAD_MB


def test_users_never_see_error_details_and_no_usage_stats(config):
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def tracked_text_files() -> list[Path]:
    """Files git tracks that are text (by suffix), readable as UTF-8."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    paths = [REPO / n.decode() for n in names if n]
    return [p for p in paths if p.suffix.lower() in TEXT_SUFFIXES and p.is_file()]


def test_no_secret_or_api_key_is_committed():
    """No tracked file assigns a key or secret, holds a private key, or a well-known token."""
    files = tracked_text_files()
    assert len(files) > 20
    found = []
    for path in files:
        text = path.read_text(errors="replace")
        found += [f"{path.relative_to(REPO)}: {m.group(0)[:40]}" for pattern in SECRET_PATTERNS for m in pattern.finditer(text)]
    assert not found, found


def test_the_secret_scan_would_catch_one():
    """The patterns are not vacuous."""
    # Assembled at run time so that this file itself does not match the scan.
    samples = ["api" + 'Key = "0123456789abcdef"', "sec" + "ret: 'hunter2hunter2'",
               "-----BEGIN RSA PRIVATE " + "KEY-----", "AKIA" + "ABCDEFGHIJKLMNOP"]
    assert all(any(p.search(s) for p in SECRET_PATTERNS) for s in samples)


@pytest.mark.slow
def test_foreign_origin_cannot_upload_or_open_a_session(tmp_path):
    """Against the running server: an upload without the XSRF token from a foreign page is refused
    (403), and a websocket from a foreign origin is closed before a session starts."""
    import asyncio

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    from tests.load.server import serve_app
    from tests.load.st_client import run_async

    with serve_app(tmp_path) as app:
        request = urllib.request.Request(
            f"{app.url}/_stcore/upload_file/some-session/some-file",
            data=b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n1,2\r\n--x--\r\n",
            method="PUT",
            headers={"Origin": FOREIGN, "Content-Type": "multipart/form-data; boundary=x"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403

        async def foreign_socket() -> str:
            try:
                async with connect(f"ws://127.0.0.1:{app.port}/_stcore/stream", subprotocols=["streamlit"],
                                   origin=FOREIGN, open_timeout=10) as ws:
                    await asyncio.wait_for(ws.recv(), 10)
            except InvalidStatus as error:
                return f"refused {error.response.status_code}"
            except ConnectionClosed as error:
                return f"closed {error.rcvd.code if error.rcvd else None}"
            return "open"

        assert run_async(foreign_socket()) in ("closed 1008", "refused 403")
