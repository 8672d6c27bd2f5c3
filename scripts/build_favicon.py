"""Draw assets/favicon.png: a 64x64 tile of the app's ember scale with two bright bands, like the heatmap.

The app's page icon is this local file, so opening the app fetches nothing from a font or emoji host.
Run: ``.venv/bin/python scripts/build_favicon.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.charts import ember_rgba  # noqa: E402

SIZE = 64


def favicon() -> Image.Image:
    """The icon: two liquidation bands (one brighter towards the right, one towards the left)."""
    y = np.linspace(0, 1, SIZE)[:, None]
    x = np.linspace(0, 1, SIZE)[None, :]
    bands = (np.exp(-((y - 0.3) / 0.06) ** 2) * (0.6 + 0.4 * x)
             + 0.8 * np.exp(-((y - 0.72) / 0.08) ** 2) * (1 - 0.5 * x))
    rgba = np.asarray(ember_rgba(bands, float(bands.max())), dtype=np.uint8).reshape(SIZE, SIZE, 4)
    return Image.fromarray(rgba, "RGBA")


if __name__ == "__main__":
    favicon().save(ROOT / "assets" / "favicon.png", optimize=True)
