"""Market data: fetch, validate, cache, last-good store, bundled and uploaded data -> ``MarketData``."""
