"""How full the app's caches are: core's single-flight cache and Streamlit's ``st.cache_*`` stores.

Read-only helpers for tests (in-process AppTest tests and the load-test launcher). Streamlit keeps
its caches in module-level managers; the counts are read from their stats providers (one stat per
``st.cache_data`` entry; one stat per ``st.cache_resource`` function whose ``byte_length`` is the
entry count unless ``server.enableExpensiveMemoryStats`` is on, which this app leaves off).
"""

from __future__ import annotations

from collections import Counter

from core.data.load import DataServices


def core_cache_sizes(services: DataServices) -> dict[str, int]:
    """Entries, bound, upstream calls and open breakers of ``services``' single-flight cache (the
    process's own one when the cache is shared on Redis: ``SharedResultCache.local``)."""
    cache = getattr(services.cache, "local", services.cache)
    return {
        "entries": len(cache),
        "maxsize": cache.maxsize,
        "upstream_calls": cache.upstream_calls,
        "open_breakers": len(cache._failures),  # noqa: SLF001 - read-only look for a test
    }


def st_cache_sizes() -> dict[str, int]:
    """Entries per cached function, ``{"data:<name>": n, "resource:<name>": n}``."""
    from streamlit.runtime.caching.cache_data_api import get_data_cache_stats_provider
    from streamlit.runtime.caching.cache_resource_api import get_resource_cache_stats_provider

    counts: Counter[str] = Counter()
    for stats in get_data_cache_stats_provider().get_stats().values():
        for stat in stats:
            counts[f"data:{stat.cache_name}"] += 1
    for stats in get_resource_cache_stats_provider().get_stats().values():
        for stat in stats:
            counts[f"resource:{stat.cache_name}"] += int(stat.byte_length)
    return dict(counts)


def st_cache_bounds() -> dict[str, float | None]:
    """``max_entries`` of every ``st.cache_*`` function created so far (None when unbounded)."""
    from streamlit.runtime.caching import cache_data_api, cache_resource_api

    bounds: dict[str, float | None] = {}
    for kind, manager in (("data", cache_data_api._data_caches), ("resource", cache_resource_api._resource_caches)):  # noqa: SLF001
        for caches in list(manager._function_caches.values()):  # noqa: SLF001
            for cache in list(caches.values()):
                name = getattr(cache, "display_name", None) or getattr(cache, "function_display_name", "?")
                bound = getattr(cache, "max_entries", None)
                if bound is None:
                    bound = getattr(getattr(cache, "_mem_cache", None), "maxsize", None)
                bounds[f"{kind}:{name}"] = bound
    return bounds
