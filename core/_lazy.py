"""Lazy re-exports for package ``__init__`` modules (PEP 562), so importing a package stays cheap."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, modules: dict[str, tuple[str, ...]]) -> tuple[Callable, Callable, list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package`` re-exporting ``modules``' names.

    ``modules`` maps a module path to the names it provides; a name's module is imported the first
    time the name is read (``from package import name`` included), then cached on the package.
    """
    where = {name: module for module, names in modules.items() for name in names}
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__, sorted(where)
