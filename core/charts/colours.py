"""A perceptually ordered, colour-blind-safe colour map for the heatmap raster.

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


def _hex_to_rgb(code: str) -> np.ndarray:
    return np.array([int(code[i : i + 2], 16) for i in (1, 3, 5)], dtype=float) / 255.0


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


@lru_cache(maxsize=4)
def ember_lut(n: int = 256) -> np.ndarray:
    """The colour map as an (n, 3) uint8 lookup table."""
    pos = np.array([p for p, _ in EMBER_ANCHORS])
    lab = srgb_to_oklab(np.stack([_hex_to_rgb(h) for _, h in EMBER_ANCHORS]))
    x = np.linspace(0.0, 1.0, n)
    ramp = np.stack([np.interp(x, pos, lab[:, k]) for k in range(3)], axis=1)
    return np.round(oklab_to_srgb(ramp) * 255).astype(np.uint8)


def ember_hex(n: int = 9) -> list[str]:
    """``n`` evenly spaced colours of the map as hex strings (for Vega-Lite legends)."""
    lut = ember_lut(256)
    idx = np.round(np.linspace(0, 255, n)).astype(int)
    return ["#%02x%02x%02x" % tuple(int(v) for v in lut[i]) for i in idx]
