"""``core`` imports lazily: the light modules do not drag in ccxt, altair or the data layer."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("ccxt", "altair", "pandas", "core.data.live", "core.grid.engine", "core.charts.heatmap")


def _loaded_after(statement: str) -> dict[str, bool]:
    code = f"import sys, json\n{statement}\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_core_format_loads_nothing_heavy():
    assert _loaded_after("import core.format") == dict.fromkeys(HEAVY, False)


def test_subpackage_imports_stay_cheap():
    loaded = _loaded_after("import core, core.model, core.grid, core.cascade, core.accuracy, core.charts")
    assert loaded == dict.fromkeys(HEAVY, False)


def test_unknown_name_is_an_attribute_error():
    loaded = _loaded_after("import core.grid\ntry:\n    core.grid.no_such_name\nexcept AttributeError:\n    pass")
    assert not loaded["core.grid.engine"]


def test_names_resolve_on_first_use():
    loaded = _loaded_after("from core.grid import compute_heatmap")
    assert loaded["core.grid.engine"] and not loaded["altair"] and not loaded["ccxt"]
