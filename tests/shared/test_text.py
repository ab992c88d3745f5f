"""Accent-insensitive search keys."""

import pytest

from shared.text import search_key


class TestSearchKey:
    @pytest.mark.parametrize("text, key", [
        ("Łukasz Żółć", "lukasz zolc"), ("Søren Ørsted", "soren orsted"),
        ("Çağlar Öztürk", "caglar ozturk"), ("Straße", "strasse"),
        ("Αλέξανδρος", "αλεξανδροσ"), ("Борис  Іваненко", "борис іваненко"),
    ])
    def test_accents_and_case_fold_away(self, text, key):
        assert search_key(text) == key
