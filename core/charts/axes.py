"""Axis conventions shared by every chart: label size and dollar labels in a trader's words."""

from __future__ import annotations

import altair as alt

AXIS_FONT = 11
#: Vega label expression turning d3's SI "G" (giga) into the trader's "B" (billion) and its "k" into
#: "K", as ``core.format.format_usd`` writes them: "$2.0B", "$400K".
DOLLAR_LABEL = "replace(replace(datum.label, 'G', 'B'), 'k', 'K')"
#: The same without the minus sign (a panel that draws longs below zero, in positive USD).
UNSIGNED_DOLLAR_LABEL = "replace(replace(replace(datum.label, '−', ''), 'G', 'B'), 'k', 'K')"
#: The absolute value formatted from the datum itself (no axis ``format`` needed): "$2B" below zero too.
ABS_DOLLAR_LABEL = "replace(replace(format(abs(datum.value), '$~s'), 'G', 'B'), 'k', 'K')"


def dollar_axis(fmt: str = "$.2s", unsigned: bool = False, **kw) -> alt.Axis:
    """An axis of USD amounts labelled $850K, $412M, $1.2B (never "G")."""
    return alt.Axis(format=fmt, labelExpr=UNSIGNED_DOLLAR_LABEL if unsigned else DOLLAR_LABEL,
                    labelFontSize=AXIS_FONT, **kw)
