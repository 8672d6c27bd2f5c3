"""A real ``redis-server`` for the tests: start on a free loopback port, kill, restart; and ``wait_until``."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

START_TIMEOUT = 10.0
DEBIAN_BINARY = "/usr/bin/redis-server"


def redis_binary() -> str | None:
    """The redis-server binary on this machine, or None."""
    found = shutil.which("redis-server")
    if found:
        return found
    return DEBIAN_BINARY if Path(DEBIAN_BINARY).exists() else None


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RedisServer:
    """One redis-server process; ``kill`` and ``start`` let a test take Redis away and bring it back."""

    binary: str
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A plain client for the test's own checks."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        """Start the server (on the same port after a ``kill``) and wait until it answers PING."""
        log = (self.workdir / "redis.log").open("ab")
        persistence_off = ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "no", *persistence_off]
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        probe = self.client()
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if probe.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        self.kill()
        raise RuntimeError("redis-server did not start:\n" + (self.workdir / "redis.log").read_text()[-2000:])

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.proc is not None and self.proc.poll() is None


def wait_until(condition: Callable[[], object], timeout: float = 20.0, what: str = "the condition") -> None:
    """Poll ``condition`` until it is true; fail after ``timeout`` seconds (a bound, not a sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)
