"""Launcher for the browser tests: the real app server on a machine with no network.

Usage (from the repository root)::

    python tests/browser/serve_offline.py PORT

Every non-loopback name lookup or connection in this process fails at once, as on a machine with
no network (so the tests behave the same on CI, whatever its network allows), then
``streamlit run app.py`` runs in-process on 127.0.0.1:PORT. Nothing here is production code.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _loopback(host: object) -> bool:
    return isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1", ""))


def cut_network() -> None:
    """Make every non-loopback lookup and connection fail like an offline machine's."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if _loopback(host):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (no network)")

    def connect(self, address):
        if self.family == socket.AF_UNIX or _loopback(address[0] if isinstance(address, tuple) else address):
            return real_connect(self, address)
        raise OSError(101, "Network is unreachable (no network)")

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect


def main(port: int) -> None:
    """Cut the network, then run the app (blocks until terminated)."""
    from streamlit.web import cli

    cut_network()
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    cli.main(["run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
              "--server.headless", "true"], prog_name="streamlit")


if __name__ == "__main__":
    main(int(sys.argv[1]))
