"""Every test under tests/load is a load test: marked ``load`` here, so nobody has to remember the
marker and ``scripts/test.sh --fast`` (``-m "not browser and not load"``) leaves them all out."""

from __future__ import annotations

import pytest


def pytest_itemcollected(item: pytest.Item) -> None:
    """Called for the items collected under this folder only (a conftest's hooks are per folder)."""
    item.add_marker(pytest.mark.load)
