"""The colour maps of the pictures: "ember" for the heatmap raster, a diverging map for differences.

"Ember" runs from near-black through purple, red and orange to pale yellow, in the spirit of the
viridis family's inferno: lightness rises monotonically, so the order of values reads the same
with any colour vision and in greyscale. The ramp is interpolated in OKLab (Ottosson, 2020,
"A perceptual color space for image processing") between hand-picked anchors, so equal steps in
value are close to equal steps in perceived colour.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# (position, sRGB hex): the anchors of the ramp, dark to light.
EMBER_ANCHORS: tuple[tuple[float, str], ...] = (
    (0.00, "#07051a"),
    (0.16, "#2b0c55"),
    (0.34, "#6a176e"),
    (0.50, "#a52c60"),
    (0.66, "#dd513a"),
    (0.80, "#f8850f"),
    (0.91, "#f9c032"),
    (1.00, "#fcffa4"),
)

# Diverging map of the sensitivity page's difference picture, dark in the middle:
# (position in -1..1, sRGB hex): green = less than the default, magenta = more.
DIVERGING_ANCHORS: tuple[tuple[float, str], ...] = (
    (-1.00, "#b8e186"),
    (-0.55, "#4d9221"),
    (-0.15, "#1f3a1c"),
    (0.00, "#15171f"),
    (0.15, "#3d1a33"),
    (0.55, "#c51b7d"),
    (1.00, "#f1b6da"),
)


def hex_to_rgb(code: str) -> tuple[int, int, int]:
    """"#rrggbb" -> (r, g, b) in 0..255: the one hex parser of the app."""
    return tuple(int(code[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def lut_to_hex(lut: np.ndarray, n: int) -> list[str]:
    """``n`` evenly spaced rows of a (m, 3) uint8 lookup table as "#rrggbb" strings."""
    idx = np.round(np.linspace(0, len(lut) - 1, n)).astype(int)
    return ["#%02x%02x%02x" % tuple(int(v) for v in lut[i]) for i in idx]


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


_M1 = np.array(
    [[0.4122214708, 0.5363325363, 0.0514459929], [0.2119034982, 0.6806995451, 0.1073969566],
     [0.0883024619, 0.2817188376, 0.6299787005]]
)
_M2 = np.array(
    [[0.2104542553, 0.7936177850, -0.0040720468], [1.9779984951, -2.4285922050, 0.4505937099],
     [0.0259040371, 0.7827717662, -0.8086757660]]
)


def srgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) -> OKLab (..., 3)."""
    lms = _srgb_to_linear(rgb) @ _M1.T
    return np.cbrt(lms) @ _M2.T


def oklab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """OKLab (..., 3) -> sRGB in [0, 1] (..., 3)."""
    lms = (lab @ np.linalg.inv(_M2).T) ** 3
    return np.clip(_linear_to_srgb(lms @ np.linalg.inv(_M1).T), 0.0, 1.0)


def oklab_ramp(anchors: tuple[tuple[float, str], ...], lo: float, hi: float, n: int) -> np.ndarray:
    """An (n, 3) uint8 lookup table over [lo, hi], interpolated in OKLab between (position, hex) anchors."""
    pos = np.array([p for p, _ in anchors])
    lab = srgb_to_oklab(np.array([hex_to_rgb(h) for _, h in anchors], dtype=float) / 255.0)
    x = np.linspace(lo, hi, n)
    ramp = np.stack([np.interp(x, pos, lab[:, k]) for k in range(3)], axis=1)
    return np.round(oklab_to_srgb(ramp) * 255).astype(np.uint8)


@lru_cache(maxsize=4)
def ember_lut(n: int = 256) -> np.ndarray:
    """The colour map as an (n, 3) uint8 lookup table."""
    return oklab_ramp(EMBER_ANCHORS, 0.0, 1.0, n)


def ember_hex(n: int = 9) -> list[str]:
    """``n`` evenly spaced colours of the map as hex strings (for Vega-Lite legends)."""
    return lut_to_hex(ember_lut(256), n)


def ember_rgba(cells: np.ndarray, vmax: float) -> np.ndarray:
    """Cells coloured with the ember map over [0, vmax] (brighter saturates); empty cells transparent."""
    level = np.clip(cells / max(vmax, 1e-12), 0.0, 1.0)
    rgba = np.zeros(cells.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = ember_lut(256)[np.round(level * 255).astype(int)]
    rgba[..., 3] = np.where(cells > 0, 255, 0)
    return rgba


@lru_cache(maxsize=2)
def diverging_lut(n: int = 256) -> np.ndarray:
    """The diverging map as an (n, 3) uint8 table: index 0 is -1 (less), n-1 is +1 (more)."""
    return oklab_ramp(DIVERGING_ANCHORS, -1.0, 1.0, n)


def diverging_hex(n: int = 11) -> list[str]:
    """``n`` evenly spaced colours of the diverging map (for a legend)."""
    return lut_to_hex(diverging_lut(256), n)
