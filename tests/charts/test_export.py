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


def test_csv_rounds_usd_to_the_dollar_and_prices_to_about_the_tick():
    """A downloaded CSV reads 84213.4 and 1234567, not 84213.39999999 and 1234567.1234567891."""
    import io

    import pandas as pd

    from core.charts.export import to_csv_bytes

    frame = pd.DataFrame({"price_low": [84213.39999999, 84313.4123], "long_usd": [1234567.1234567891, 0.4],
                          "share": [0.123456789, 0.5]})
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame)))
    assert back["price_low"].tolist() == [84213.4, 84313.4]
    assert back["long_usd"].tolist() == [1234567.0, 0.0]
    assert back["share"].tolist() == [0.1235, 0.5]
    doge = pd.DataFrame({"price": [0.16234567891]})
    assert b"0.162346" in to_csv_bytes(doge)
