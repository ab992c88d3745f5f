"""ISO 11649 creditor references: check digits, print form, finding them in free text."""

import random
import string

import pytest

from services.payments.rf import (
    candidates,
    compact,
    creditor_reference,
    for_order,
    is_valid,
    printed,
    references_in,
)

ORDER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as registration makes references


def test_the_standards_example():
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert is_valid("RF18539007547034")
    assert is_valid("RF18 5390 0754 7034")
    assert is_valid("rf18 5390 0754 7034")
    assert printed("RF18539007547034") == "RF18 5390 0754 7034"


@pytest.mark.parametrize(
    "reference",
    [
        "RF18539007547035",  # a digit of the body changed
        "RF19539007547034",  # a check digit changed
        "RF18539007547043",  # two digits swapped
        "RF18 5390 0754 703",  # a digit dropped
    ],
)
def test_a_changed_reference_is_invalid(reference):
    assert not is_valid(reference)


@pytest.mark.parametrize(
    "text",
    ["", "RF", "RF18", "RF1", "XX18539007547034", "RF1853900754703$", "RF18" + "1" * 22,
     "RFAB539007547034", "RF18 5390-0754-7034", "ECS27-7KQ3M9", None, 18539007547034],
)
def test_malformed_is_invalid_not_an_error(text):
    assert is_valid(text) is False


def test_check_digits_never_issued_are_invalid():
    # 00, 01 and 99 pass the remainder test when 97, 98 and 02 do, but are never issued
    body = next(
        body for body in (f"ECS{n}" for n in range(10_000))
        if creditor_reference(body)[2:4] in ("97", "98", "02")
    )
    check = creditor_reference(body)[2:4]
    twin = {"97": "00", "98": "01", "02": "99"}[check]
    assert not is_valid(f"RF{twin}{body}")


def test_for_order_uses_the_letters_and_digits_of_the_order_reference():
    assert for_order("ECS27-7KQ3M9") == creditor_reference("ECS277KQ3M9")
    assert for_order("ecs27-7kq3m9") == for_order("ECS27-7KQ3M9")
    assert for_order("ECS27-7KQ3M9").startswith("RF")
    assert for_order("ECS27-7KQ3M9")[4:] == "ECS277KQ3M9"


@pytest.mark.parametrize("body", ["", "-", "A" * 22, "ECS27-7KQ3M9-ÉTÉ", "ECS 27/7KQ3M9"])
def test_a_body_is_1_to_21_letters_and_digits(body):
    with pytest.raises(ValueError):
        creditor_reference(body)


def test_an_order_reference_without_letters_or_digits_or_too_long_is_refused():
    with pytest.raises(ValueError):
        for_order("---")
    with pytest.raises(ValueError):
        for_order("ECS27-" + "7" * 17)
    assert is_valid(for_order("ECS27-" + "7" * 16))


def test_round_trip_for_many_references():
    chance = random.Random(11649)
    for _ in range(2_000):
        reference = "ECS27-" + "".join(chance.choices(ORDER_ALPHABET, k=6))
        issued = for_order(reference)
        assert is_valid(issued), reference
        assert is_valid(printed(issued).lower())
        assert compact(printed(issued)) == issued
        # a digit changed for another digit, or a letter for another letter, is caught
        # (mod 97-10 promises no more: a letter reads as two digits)
        position = chance.randrange(len(issued))
        same_kind = string.digits if issued[position].isdigit() else string.ascii_uppercase
        changed = chance.choice([c for c in same_kind if c != issued[position]])
        tampered = issued[:position] + changed + issued[position + 1:]
        assert not is_valid(tampered), (issued, tampered)


def test_compact_and_printed():
    assert compact(" rf18 5390\t0754\n7034 ") == "RF18539007547034"
    assert printed("rf02ecs277kq3m9") == "RF02 ECS2 77KQ 3M9"
    assert printed("RF18 5390 0754 7034") == "RF18 5390 0754 7034"


# --- finding references in what payers write --------------------------------------------

ORDER = for_order("ECS27-7KQ3M9")  # RF02ECS277KQ3M9
OTHER = for_order("ECS27-H4TX2P")  # RF83ECS27H4TX2P


@pytest.mark.parametrize(
    "text",
    [
        "RF02ECS277KQ3M9",
        "Invoice rf02 ecs2 77kq 3m9 thanks",
        "Invoice RF02-ECS27-7KQ3M9, thanks",
        "payment rf02ecs 277kq3m9 / Copernicus",
        "rf 02 ecs 27 7kq 3m9",
        "ref:RF02ECS277KQ3M9.",
        "(RF02 ECS2 77KQ 3M9)",
        "ECS27-I-000012\nRF02 ECS2\n77KQ 3M9",
    ],
)
def test_finds_a_known_reference_however_written(text):
    assert references_in(text, [ORDER, OTHER]) == [ORDER]


def test_known_references_may_be_given_in_print_form():
    assert references_in("rf02ecs277kq3m9", [printed(ORDER)]) == [ORDER]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Membership fee 2027",
        "ECS27-7KQ3M9",  # the order reference, not its RF reference
        "XRF02ECS277KQ3M9",  # inside a longer word
        "RF02ECS277KQ3M9X",
        "RF02ECS277KQ3M",  # cut short
    ],
)
def test_finds_nothing_that_is_not_a_whole_known_reference(text):
    assert references_in(text, [ORDER, OTHER]) == []


def test_a_reference_ends_at_punctuation():
    assert references_in("RF02ECS277KQ3M9/ECS27", [ORDER]) == [ORDER]


def test_several_in_the_order_they_appear_each_once():
    text = f"{printed(OTHER).lower()} and {ORDER}, again {printed(OTHER)}"
    assert references_in(text, [ORDER, OTHER]) == [OTHER, ORDER]


def _reference_and_a_longer_one_beginning_with_it() -> tuple[str, str]:
    """Two references where the first, written compact, is the start of the second: same
    check digits, the second's body the first's and more."""
    for body in (f"ECS27ABC{n}" for n in range(1_000)):
        short = creditor_reference(body)
        for extra in ORDER_ALPHABET:
            longer = creditor_reference(body + extra)
            if longer.startswith(short):
                return short, longer
    raise AssertionError("no such pair")


def test_a_reference_that_begins_another_is_not_found_in_the_other():
    short, longer = _reference_and_a_longer_one_beginning_with_it()
    assert longer.startswith(short)
    known = [short, longer]
    assert references_in(f"Invoice {longer} thanks", known) == [longer]
    assert references_in(f"Invoice {printed(longer).lower()} thanks", known) == [longer]
    assert references_in(f"Invoice {printed(short)} thanks", known) == [short]
    assert references_in(f"{short}, {longer}", known) == [short, longer]
    # the shorter one alone is not read out of the longer one either
    assert references_in(f"Invoice {longer}", [short]) == []


def test_a_reference_with_a_different_order_that_is_a_prefix():
    # ECS27-ABC and ECS27-ABCD: their check digits differ, and neither is found in the other
    short, longer = for_order("ECS27-ABC"), for_order("ECS27-ABCD")
    assert references_in(f"paid {longer}", [short, longer]) == [longer]
    assert references_in(f"paid {short}", [short, longer]) == [short]
    assert references_in(f"paid {longer}", [short]) == []


def test_candidates_are_valid_references_known_or_not():
    text = "Refund? RFQ. rf18 5390 0754 7034 and RF02-ECS2-77KQ-3M9; RF99 1234; reference RF"
    assert candidates(text) == ["RF18539007547034", ORDER]


def test_candidates_skip_words_that_merely_start_with_rf():
    assert candidates("RFID badge refund RF12 please") == []
    assert candidates("Invoice RF19539007547034") == []  # wrong check digits
