"""Badges fuzzed through its OpenAPI document (tests/fuzz.py): each operation on a
confirmed delegate of its own, with their badge made, so that requests reach past the
lookups that random ids never pass."""

from tests.fuzz import fuzz

# The desk page is HTML whose only input is the path.
SKIP = {"desk_page"}


def test_no_5xx_and_every_answer_as_documented(desk, subtests):
    fuzz(desk.badges, subtests, skip=SKIP,
         pinned=lambda: {"registration_id": desk.confirmed()["id"]})
