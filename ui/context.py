"""What every page starts from: the loaded markets, the shared view, and how to name them."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.constants import ALL_EXCHANGES
from core.data.market import MarketData
from core.viewstate import View
from ui import state
from ui.data import Loaded, exchange_label


@dataclass(frozen=True)
class PageContext:
    """The data app.py loaded for this run, the view, and the words a page title uses."""

    loaded: Loaded
    view: View

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


def page_context() -> PageContext:
    """The context of this run (app.py loads the data before the page runs)."""
    return PageContext(loaded=st.session_state["_loaded"], view=state.current_view())
