"""Downloads: formula-safe CSV and the colour map."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from core.charts import csv_safe, ember_lut, escape_cell, srgb_to_oklab, to_csv_bytes


def test_formula_cells_are_escaped_and_numbers_kept():
    frame = pd.DataFrame({"side": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "long"], "usd": [1.0, -2.0, 3.0, 4.0, 5.0]})
    out = csv_safe(frame)
    assert out["side"].tolist() == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "long"]
    assert out["usd"].tolist() == [1.0, -2.0, 3.0, 4.0, 5.0]
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame)))
    assert not back["side"].astype(str).str.match(r"^[=+\-@]").any()


@given(st.text())
def test_no_escaped_cell_starts_a_formula(text):
    value = escape_cell(text)
    assert not str(value).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_ember_colour_map_gets_lighter_monotonically():
    """Perceptual order: OKLab lightness rises along the map (reads right in greyscale and for CVD)."""
    lightness = srgb_to_oklab(ember_lut(256) / 255.0)[:, 0]
    assert np.all(np.diff(lightness) > -1e-3)
    assert lightness[-1] - lightness[0] > 0.8
