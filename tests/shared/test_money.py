"""How money reads."""

import pytest

from shared.money import format_money


@pytest.mark.parametrize(("cents", "expected"), [
    (0, "EUR 0.00"), (5, "EUR 0.05"), (99, "EUR 0.99"), (59000, "EUR 590.00"),
    (123450, "EUR 1,234.50"), (123456789, "EUR 1,234,567.89"), (-8850, "-EUR 88.50"),
    (-5, "-EUR 0.05"), (-123450, "-EUR 1,234.50"),
])
def test_format_money(cents, expected):
    assert format_money(cents, "EUR") == expected
