"""Import & accuracy page: any past period from Binance's public files, and the liquidations that
really happened, drawn over the model's map and scored against it."""

from __future__ import annotations

import streamlit as st

from ui.sections.accuracy import accuracy_section, import_section, realized_section
from ui.sections.per_candle import per_candle_section

st.title("Import & accuracy")
st.caption("Any past period, and the truth: load Binance's public files for the days you want, add the liquidations "
           "that really happened, and see how well the model foresaw them.")
import_section()
record = realized_section()
accuracy_section(record)
per_candle_section(record)
