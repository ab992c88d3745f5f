"""Accent-insensitive search keys, names in order, characters drawn as nothing."""

import pytest

from shared.text import default_ignorable, full_name, search_key


class TestSearchKey:
    @pytest.mark.parametrize("text, key", [
        ("Łukasz Żółć", "lukasz zolc"), ("Søren Ørsted", "soren orsted"),
        ("Çağlar Öztürk", "caglar ozturk"), ("Straße", "strasse"),
        ("Αλέξανδρος", "αλεξανδροσ"), ("Борис  Іваненко", "борис іваненко"),
    ])
    def test_accents_and_case_fold_away(self, text, key):
        assert search_key(text) == key


def test_a_name_is_written_in_the_order_its_owner_asked():
    assert full_name("Anna", "Kowalska") == "Anna Kowalska"
    assert full_name("小明", "王", "family_first") == "王 小明"
    assert full_name("Yudhoyono", "", "family_first") == "Yudhoyono"


def test_default_ignorable_is_unicodes_property():
    drawn_as_nothing = "\u115f\u1160\u3164\uffa0\u034f\u00ad\u200b\u200d\ufe0f\U000e0101"
    assert all(default_ignorable(c) for c in drawn_as_nothing)
    assert not any(default_ignorable(c) for c in "Aя王ㅎ\u0301 ")
