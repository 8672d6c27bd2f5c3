"""How well the map matched what was really liquidated: realized liquidations and the score."""

from core._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "core.accuracy.realized": ("FORMATS", "read_realized", "realized_per_candle", "sniff_format"),
    "core.accuracy.realized_formats": ("normalize_symbol",),
    "core.accuracy.score": ("SCORE_METHOD", "Score", "score_against_realized"),
})
