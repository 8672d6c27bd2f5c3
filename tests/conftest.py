"""Shared test fixtures. The network is blocked for every test: any socket use fails the test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


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


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data; the calling test is skipped with a reason if it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/data/{'/'.join(parts)} is not present on this machine")
    return path
