"""Shared test fixtures. The network is blocked for every test: any socket use fails the test.

Also the harness's speed-ups, none of which changes what a test checks: Streamlit's component scan
is done once per run instead of once per AppTest, and the garbage collector leaves alone the
objects that exist once collection is over (modules, schemas) and runs a little less often.
"""

from __future__ import annotations

import functools
import gc
import os
import socket
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


GC_GEN0_THRESHOLD = 20_000  # Python's default is 700: AppTest runs allocate millions of small dicts


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection imported out of the garbage collector's reach and collect less often.

    Every full collection otherwise walks pandas', Altair's and Streamlit's long-lived objects again;
    the frozen objects are never freed, which is what happens to modules and schemas anyway.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


@pytest.fixture(scope="session", autouse=True)
def scan_streamlit_components_once():
    """Scan the installed packages for Streamlit components once per run, not once per AppTest.

    Every ``AppTest.run`` of a new AppTest calls ``scan_component_manifests``, which reads the
    metadata of every installed distribution (0.1-0.2 s of CPU each time). The installed packages
    do not change during a run, so the first scan's result is reused (a fresh list each call).
    """
    if "streamlit.testing.v1" not in sys.modules:  # this run has no AppTest test
        yield
        return
    from streamlit.components.v2 import manifest_scanner

    first_scan = functools.cache(manifest_scanner.scan_component_manifests)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests", lambda max_workers=None: list(first_scan()))
        yield


class NetworkBlocked(socket.gaierror):
    """Raised when a test tries to reach the network (an OSError, as a real offline machine raises)."""


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1"))


@pytest.fixture(autouse=True)
def no_network(monkeypatch, request):
    """Block every non-loopback socket; a test that tried one fails, unless marked ``offline``.

    The attempt raises like a machine with no network would (an OSError), so the code under test
    takes its real offline path; tests marked ``@pytest.mark.offline`` expect exactly that.
    """
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo
    attempts: list[str] = []

    def guarded_connect(self, address):
        if self.family == socket.AF_UNIX or _is_loopback(address):
            return real_connect(self, address)
        attempts.append(repr(address))
        raise NetworkBlocked(f"test tried to reach the network: {address!r}")

    def guarded_getaddrinfo(host, *args, **kwargs):
        if _is_loopback((host,)):
            return real_getaddrinfo(host, *args, **kwargs)
        attempts.append(repr(host))
        raise NetworkBlocked(f"test tried to resolve {host!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    if attempts and request.node.get_closest_marker("offline") is None:
        pytest.fail(f"test tried to use the network: {attempts[:3]}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With LIQMAP_REQUIRE_A_PASS set (scripts/test.sh sets it), a run in which no test passed (all
    skipped or deselected) ends with pytest's "no tests" exit code 5 instead of 0: it must not look green."""
    if not os.environ.get("LIQMAP_REQUIRE_A_PASS") or hasattr(session.config, "workerinput"):
        return  # xdist workers report to the controller, which decides
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus == pytest.ExitCode.OK and reporter is not None and not reporter.stats.get("passed"):
        reporter.write_line("no test passed: failing the run (exit code 5)", red=True, bold=True)
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data; the calling test is skipped with a reason if it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/data/{'/'.join(parts)} is not present on this machine")
    return path


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy (returned), for at most ``timeout`` seconds.

    A condition wait with a deadline, for things that offer nothing to block on (a server's health
    endpoint); ``interval`` only sets how often the condition is asked. Raises TimeoutError naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    """True when ``url`` (on loopback) answers 200 now; False while nothing listens or it errs."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False
