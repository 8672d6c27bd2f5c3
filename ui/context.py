"""What every page starts from: the loaded markets, the shared view, and how to name them.

app.py loads the data once per run and ``publish``es it; ``page_context`` is the only reader of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import streamlit as st

from core.constants import ALL_EXCHANGES
from core.data.market import MarketData
from core.model import ModelParams
from core.sensitivity_state import SensitivityState, model_label
from core.viewstate import View
from ui.data import Loaded, exchange_label
from ui.state import MODEL, VIEW

_LOADED = "_loaded"  # session key: read only here


@dataclass(frozen=True)
class PageContext:
    """The data app.py loaded for this run, the view, the model's assumptions (one set for every
    page), and the words a page title uses."""

    loaded: Loaded
    view: View
    model: SensitivityState

    @property
    def params(self) -> ModelParams:
        """The model's parameters under the shared assumptions."""
        return self.model.to_model()

    @property
    def model_label(self) -> str:
        """"Degen (high leverage), edited": the assumptions' preset, and whether they were changed."""
        return model_label(self.model)

    @property
    def market(self) -> MarketData:
        """The first (usually the only) market."""
        return self.loaded.primary

    @property
    def coin(self) -> str:
        """"BTC" for BTC/USDT:USDT."""
        return self.market.symbol.split("/")[0]

    @property
    def where(self) -> str:
        """The exchange's name, or "All exchanges" for an aggregate."""
        return exchange_label(ALL_EXCHANGES if len(self.loaded.markets) > 1 else self.market.exchange)

    @property
    def span(self) -> str:
        """"05 Feb 21:00 – 06 Feb 03:00 UTC, model memory 7.0 days": the window's first and last
        candle, and the history before it the model ran on (when there is any)."""
        idx = self.market.window_candles.index
        text = f"{idx[0]:%d %b %H:%M} – {idx[-1]:%d %b %H:%M} UTC"
        memory = self.market.memory
        if memory > pd.Timedelta(0):
            hours = memory.total_seconds() / 3600
            text += f", model memory {hours / 24:.1f} days" if hours >= 48 else f", model memory {hours:.0f} h"
        return text


def publish(loaded: Loaded) -> None:
    """app.py: the data of this run, for the page about to run."""
    st.session_state[_LOADED] = loaded


def page_context() -> PageContext:
    """The context of this run (app.py loads the data before the page runs)."""
    return PageContext(loaded=st.session_state[_LOADED], view=VIEW.current(), model=MODEL.current())
