"""One binder between a frozen dataclass of view state, its widgets and the link's query parameters.

A ``Binding`` names a state's session keys and maps each field to a widget key; the state's URL
keys are its field names (plus ``extra_keys``: e.g. the sensitivity preset's slug). Parsing is pure
and lives in ``core.viewstate`` (testable without Streamlit); this module only moves values:

- ``seed_from_url``: once per session, the validated link seeds the widgets (notices kept to show once);
- ``restore``: widget keys Streamlit dropped (their page was not shown) are put back before drawing;
- ``current``: the state the widgets describe now (remembered for the pages that do not draw them);
- ``put``: a callback writes a whole state (preset, reset, "replay the crash");
- ``sync_url``: the state's own keys into the address bar; other pages' keys are left alone;
- ``show_notices``: what was ignored from the link, once.

Any number of bindings share one link. The assumptions of the model are one binding
(``ui.state.MODEL``): a page that seeds and syncs it in app.py, before the page runs, would share one
set of assumptions across every page (issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, Generic, Mapping, TypeVar

import streamlit as st

from core.viewstate import Query

S = TypeVar("S")


@dataclass(frozen=True)
class Binding(Generic[S]):
    """A frozen dataclass ``default`` (its type is the state), bound to widgets and the link.

    ``prefix`` names the widget keys (``f"{prefix}_{field}"`` unless ``keys`` says otherwise);
    ``parse`` validates query parameters into a state and notices (``core.viewstate``).
    """

    name: str
    default: S
    parse: Callable[[Query], tuple[S, tuple[str, ...]]]
    prefix: str
    keys: Mapping[str, str] | None = None
    extra_keys: tuple[str, ...] = ()

    def key(self, field: str) -> str:
        """The widget key of ``field``."""
        return (self.keys or {}).get(field, f"{self.prefix}_{field}")

    @property
    def widget_keys(self) -> dict[str, str]:
        """Field -> widget key, for every field."""
        return {f.name: self.key(f.name) for f in fields(self.default)}

    @property
    def kept_key(self) -> str:
        """Session key holding the last state (it survives pages that do not draw the widgets)."""
        return f"_{self.name}"

    @property
    def notices_key(self) -> str:
        """Session key of the notices still to show."""
        return f"_{self.name}_notices"

    def kept(self) -> S:
        """The last state read (the default before any)."""
        return st.session_state.get(self.kept_key, self.default)

    def seed_from_url(self) -> None:
        """Once per session: seed every widget from the link's validated query parameters."""
        done = f"_{self.name}_initialised"
        if st.session_state.get(done):
            return
        raw = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
        state, notices = self.parse(raw)
        st.session_state[self.kept_key] = state  # widgets already set this session keep their value
        self.restore()
        st.session_state[self.notices_key] = notices
        st.session_state[done] = True

    def restore(self) -> None:
        """Re-seed the widget keys Streamlit dropped while their page was not shown."""
        kept = self.kept()
        for name, key in self.widget_keys.items():
            if key not in st.session_state:
                st.session_state[key] = getattr(kept, name)

    def current(self) -> S:
        """The state the widgets describe now (remembered for the pages that do not draw them)."""
        kept = self.kept()
        state = type(kept)(**{n: st.session_state.get(k, getattr(kept, n)) for n, k in self.widget_keys.items()})
        st.session_state[self.kept_key] = state
        return state

    def put(self, state: S) -> None:
        """Write ``state`` into the widget keys (in a callback, or before the widgets are drawn)."""
        for name, key in self.widget_keys.items():
            st.session_state[key] = getattr(state, name)
        st.session_state[self.kept_key] = state

    def set(self, **values: Any) -> None:
        """Set some fields' widgets (in a callback, or before the widgets are drawn)."""
        for name, value in values.items():
            st.session_state[self.key(name)] = value

    def sync_url(self, state: S) -> None:
        """Write ``state`` into the address bar so the link reproduces what is on screen.

        Only this binding's keys are set or removed: other pages keep theirs in the link."""
        wanted: dict[str, str] = state.to_params()  # type: ignore[attr-defined]
        for name in (*self.widget_keys, *self.extra_keys):
            if name in wanted and st.query_params.get(name) != wanted[name]:
                st.query_params[name] = wanted[name]
            elif name not in wanted and name in st.query_params:
                del st.query_params[name]

    def add_notice(self, notice: str) -> None:
        """A notice to show once (e.g. from a widget callback)."""
        st.session_state[self.notices_key] = (*st.session_state.get(self.notices_key, ()), notice)

    def show_notices(self) -> None:
        """Show, once, what was ignored from the link."""
        for notice in st.session_state.pop(self.notices_key, ()):
            st.warning(notice, icon=":material/link_off:")
