"""Progress callbacks: ``progress(fraction, message)``, owned by the session that passed it.

A callback is a session's own (a Streamlit progress bar); it may raise what its framework uses
to stop or rerun a script (Streamlit's RerunException/StopException are ``BaseException``s).
Inside a fetch that other sessions wait for, such an exception must neither abort the fetch nor
reach the other sessions: ``HeldProgress`` holds it and re-raises it in its owner's thread after
the fetch. ``Reporter`` keeps the fraction monotonic; ``scaled`` maps 0..1 onto a sub-range.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Progress = Callable[[float, str], None]


class Reporter:
    """Forwards progress to the caller, never going backwards and never past 1.0."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if self._progress is None:
            return
        self._last = max(self._last, min(1.0, float(fraction)))
        self._progress(self._last, message)

    def part(self, lo: float, hi: float) -> Callable[[float, str], None]:
        """A reporter mapping 0..1 onto ``lo``..``hi``."""
        return lambda f, m: self(lo + (hi - lo) * f, m)


class HeldProgress:
    """A session's callback, safe to call from inside a shared fetch.

    Calls from another thread than the one that made it are ignored (the callback belongs to its
    own session). Whatever the callback raises is held, later calls are dropped, and ``release``
    re-raises it in the owner's thread once the fetch is over, so the fetch's result is kept.
    """

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._owner = threading.get_ident()
        self._held: BaseException | None = None

    def __call__(self, fraction: float, message: str) -> None:
        if self._progress is None or self._held is not None or threading.get_ident() != self._owner:
            return
        try:
            self._progress(fraction, message)
        except BaseException as raised:  # noqa: BLE001 - held for the owner, re-raised by release()
            self._held = raised

    @property
    def held(self) -> BaseException | None:
        """What the callback raised, if anything."""
        return self._held

    def release(self) -> None:
        """Re-raise what the callback raised (in the owner's thread), if anything."""
        if self._held is not None and threading.get_ident() == self._owner:
            held, self._held = self._held, None
            raise held


def scaled(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    """A progress callback mapping 0..1 onto ``lo``..``hi`` of ``progress``."""
    if progress is None:
        return None
    return lambda fraction, message: progress(lo + (hi - lo) * fraction, message)
