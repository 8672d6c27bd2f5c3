"""How it works: the model in plain language, with its formulas and its limits."""

from __future__ import annotations

import streamlit as st

from core.cascade import CASCADE_RULE
from core.constants import DEFAULT_LEVERAGE_WEIGHTS
from core.data.bundled import BUNDLED
from core.accuracy import SCORE_METHOD
from ui.context import page_context
from ui.sections import truth

st.title("How it works")
st.caption(f"Model shown on the other pages: **{page_context().model_label}** (sidebar). Sections 1-5 describe "
           "reference model v1 (MODEL.md); the default, Calibrated (v2), changes four of its assumptions: entries, "
           "leverage ladder, turnover and same-candle share (model v2, further down).")
st.markdown(
    """
No exchange publishes where open positions would be liquidated. Every liquidation heatmap — ours,
CoinGlass's, Hyblock's — is a **model**. Ours is open: here is all of it, and every assumption is a
control you can move (*Leverage sensitivity* page).
"""
)

st.header("1. New positions come from open interest")
st.markdown(
    "Open interest (OI) is the total USD value of open futures positions. When it **rises** during a candle, "
    "new positions were opened; we assume they were opened at the candle's typical price."
)
st.latex(r"\Delta OI_t = OI_t - OI_{t-1}, \qquad E_t = \frac{high_t + low_t + close_t}{3}")
st.markdown(
    "Where no OI history exists (some past periods), new notional is estimated from **trading volume** "
    "instead, and every view built on it says so."
)

st.header("2. Who opened them, and with what leverage")
weights = ", ".join(f"{k}x: {v:.0%}" for k, v in DEFAULT_LEVERAGE_WEIGHTS.items())
st.markdown(
    f"A share *s* (default 50%) of new notional is long, the rest short. It is spread over leverage tiers "
    f"with weights ({weights}). These are assumptions: the exchanges do not publish them."
)

st.header("3. Where each position is liquidated")
st.markdown(
    "Binance USD-M's isolated-margin formula, with maintenance margin rate *m* and maintenance amount *cum* "
    "(from Binance's published bracket table for BTC and ETH, or a flat rate), quantity *Q = notional / E*:"
)
st.latex(r"\text{long: } LP = \frac{E\,(1 - 1/L) - cum/Q}{1 - m} \qquad \text{short: } LP = \frac{E\,(1 + 1/L) + cum/Q}{1 + m}")
st.markdown(
    "So a 100x long opened at 84,000 is liquidated about 0.5% lower; a 10x long about 9.5% lower. "
    "The reference model uses a flat *m* = 0.5% and *cum* = 0."
)

st.header("4. Levels live until price trades through them")
st.markdown(
    "A long level at price *p* dies in the first later candle whose **low** reaches *p*; a short level in the first "
    "whose **high** reaches it. That is the model's **liquidated notional** for that candle. When OI **falls**, "
    "every open level shrinks in proportion (positions closed):"
)
st.latex(r"v_{c} = v_{c-1} \cdot \frac{OI_c}{OI_{c-1}} \quad \text{when } OI_c < OI_{c-1}")
st.markdown(
    "The heatmap's colour at (time *c*, price band *b*) is the USD of levels alive at the close of *c* whose price lies in *b*. "
    "The liquidation map on the right is the last column."
)

st.header("What it cannot know")
st.markdown(
    """
- **Leverage and side** of new positions are assumed, not observed. Change them and the picture moves:
  see *Leverage sensitivity*.
- **Netting**: a rise in OI can hide positions closed and opened in the same candle.
- **Cross margin**, added margin, partial closes and stop-losses make real liquidation prices differ.
- **Exchanges differ**: formulas and brackets here are Binance's; Bybit and OKX are close but not identical.
- The liquidation **engine** of an exchange closes positions before bankruptcy, at the maintenance level,
  which is what the formula gives; insurance funds and auto-deleveraging are not modelled.
"""
)

st.header("The data")
for meta in BUNDLED.values():
    st.markdown(f"- **{meta.title}** — {meta.provenance}.")
st.markdown(
    "Live data comes from the exchanges' public APIs through ccxt (no keys). When an exchange fails, the app "
    "shows the last good data it fetched, with its age, or the bundled sample, and says so."
)

st.header("How cascades are found")
st.markdown(CASCADE_RULE.removeprefix("How cascades are found. "))

truth.per_candle_method()
truth.model_v2()
truth.magnets()

st.header("How accuracy is scored")
st.markdown(
    "On the *Import & accuracy* page, the map is compared with liquidations that really happened "
    "(recorded exchange liquidation streams you upload)."
)
st.markdown(SCORE_METHOD)
