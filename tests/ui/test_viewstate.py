"""URL state: every value is validated; bad ones fall back to defaults with a notice."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.viewstate import CHOICES, RANGES, View, parse_view


def test_round_trip_of_a_non_default_view():
    view = View(src="btc_2026-02_crash", ex="bybit", sym="ETH/USDT:USDT", tf="1h", lb="7d", side="short", hl=65.5, zoom=3.0)
    parsed, notices = parse_view(view.to_params())
    assert parsed == view and notices == ()


def test_default_view_makes_an_empty_link():
    assert View().to_params() == {}


def test_bad_values_fall_back_with_notices_that_do_not_echo_markup():
    params = {"ex": ["<script>alert(1)</script>"], "clip": ["1e400"], "zoom": ["-3"], "tf": ["x" * 5000], "side": ["nan"]}
    view, notices = parse_view(params)
    assert view == View()
    assert len(notices) == 5
    assert all(len(n) < 200 for n in notices)


def test_an_old_links_clip_percentile_becomes_its_highlight():
    """Links from before "Highlight" keep their look: clip (the scale's top percentile) -> hl."""
    assert parse_view({"clip": ["95"]}) == (View(hl=41.0), ())
    assert parse_view({"clip": ["99"]})[0].hl == 18.0 and parse_view({"clip": ["60"]})[0].hl == 100.0
    assert parse_view({"clip": ["95"], "hl": ["70"]}) == (View(hl=70.0), ())  # the link's own hl wins
    view, notices = parse_view({"clip": ["1e400"]})
    assert view == View() and len(notices) == 1 and notices[0].startswith("Ignored clip=")
    assert "clip" not in View(hl=41.0).to_params()


def test_repeated_keys_last_one_counts():
    view, _ = parse_view({"tf": ["5m", "1h"]})
    assert view.tf == "1h"


def test_unknown_keys_are_ignored():
    view, notices = parse_view({"evil": ["1"], "ttl": ["0"]})
    assert view == View() and notices == ()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*CHOICES, *RANGES, "other"]), st.lists(st.text(max_size=80), max_size=3)))
def test_any_params_yield_a_valid_view(params):
    """Whatever a link says, the view holds only allowed values."""
    view, _ = parse_view(params)
    for name, allowed in CHOICES.items():
        assert getattr(view, name) in allowed
    for name, (lo, hi) in RANGES.items():
        assert lo <= getattr(view, name) <= hi


def test_too_many_candles_are_refused_with_a_notice():
    """30 days of 1-minute candles (43,200 columns) would not fit on a screen: 7 days instead."""
    view, notices = parse_view({"tf": ["1m"], "lb": ["30d"]})
    assert view.lb == "7d" and "too many" in notices[0]


def test_a_listed_coin_from_the_link_is_kept_and_an_unlisted_one_refused():
    """Any coin the exchange lists is accepted ("pepe" reads as PEPE/USDT:USDT); others fall back with a notice."""
    from core.viewstate import parse_view

    listed = {"bybit": ("BTC/USDT:USDT", "PEPE/USDT:USDT")}
    view, notices = parse_view({"ex": "bybit", "sym": "pepe"}, coins=lambda ex: listed.get(ex, ()))
    assert view.sym == "PEPE/USDT:USDT" and not notices
    view, notices = parse_view({"ex": "bybit", "sym": "WIF/USDT:USDT"}, coins=lambda ex: listed.get(ex, ()))
    assert view.sym == "BTC/USDT:USDT" and "not a coin this exchange lists" in notices[0]
    view, notices = parse_view({"sym": "BTC](javascript:x)"}, coins=lambda ex: listed["bybit"])
    assert view.sym == "BTC/USDT:USDT" and "](" not in notices[0]  # refused by form, escaped in the notice
    assert parse_view({"sym": "PEPEUSDT"})[0].sym == "BTC/USDT:USDT"  # no coin list: the five coins only
