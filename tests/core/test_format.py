"""core.format: the words numbers are written in."""

from __future__ import annotations

import pytest

from core.format import article


@pytest.mark.parametrize("text,expected", [
    ("8.0", "an"), ("18.2", "an"), ("11", "an"), ("80", "an"), ("800", "an"), ("11,000", "an"),
    ("1.5", "a"), ("3.0", "a"), ("110", "a"), ("180.5", "a"), ("1,800", "a"), ("+8.5", "an"),
])
def test_article_follows_how_the_number_is_read(text, expected):
    """"an 18.2% move", "a 1.5% move": the article matches the spoken number."""
    assert article(text) == expected
