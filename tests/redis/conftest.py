"""A real ``redis-server`` (Debian's package) on a free loopback port, one per test.

Started in a temporary directory with persistence off (``--save '' --appendonly no``), stopped
after the test; the test is skipped with a reason when the binary is absent (``scripts/test.sh``
installs it). This directory has no ``__init__.py`` on purpose: as a package named ``redis`` under
``tests/`` (which is on ``sys.path``) it would shadow the ``redis`` client.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis.redis_server import RedisServer, redis_binary


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A fresh, empty redis-server for this test (skipped when Debian's redis-server is absent)."""
    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; scripts/test.sh installs it)")
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()
