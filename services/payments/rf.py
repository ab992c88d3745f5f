"""ISO 11649 structured creditor references ("RF"): the payment reference an invoice
carries, and finding it again in what a payer wrote on their transfer.

A reference is "RF", two check digits and a body of 1 to 21 letters and digits; its
check digits make it valid under ISO 7064 mod 97-10 (as an IBAN's do). Pure: no I/O.
"""

import re
from collections.abc import Callable, Iterable, Iterator

_BODY = re.compile(r"[0-9A-Z]{1,21}")
_REFERENCE = re.compile(r"RF([0-9]{2})([0-9A-Z]{1,21})")
_LONGEST = 25  # "RF", two check digits, 21 characters of body


def compact(text: str) -> str:
    """Uppercase, with all whitespace removed: the form references are compared in."""
    return "".join(text.split()).upper()


def _mod97(text: str) -> int:
    """The remainder of ``text`` read as a number, each letter as two digits (A=10..Z=35)."""
    return int("".join(str(int(char, 36)) for char in text)) % 97


def creditor_reference(body: str) -> str:
    """The compact RF reference with ``body`` (1 to 21 letters and digits)."""
    body = compact(body)
    if not _BODY.fullmatch(body):
        raise ValueError(f"An RF reference's body is 1 to 21 letters and digits: {body!r}")
    return f"RF{98 - _mod97(body + 'RF00'):02d}{body}"


def for_order(order_reference: str) -> str:
    """The RF reference of an order: its reference's letters and digits
    (``ECS27-7KQ3M9`` -> ``RF..ECS277KQ3M9``)."""
    return creditor_reference("".join(char for char in order_reference if char.isalnum()))


def is_valid(reference: str) -> bool:
    """Whether ``reference`` (spaces and case aside) is an RF reference whose check digits
    hold; never raises."""
    if not isinstance(reference, str):
        return False
    found = _REFERENCE.fullmatch(compact(reference))
    if found is None:
        return False
    check, body = found.groups()
    # 00, 01 and 99 pass the remainder test too (as 97, 98 and 02), but are never issued
    return 2 <= int(check) <= 98 and _mod97(body + "RF" + check) == 1


def printed(reference: str) -> str:
    """In groups of four, as printed: ``RF18 5390 0754 7034``."""
    reference = compact(reference)
    return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))


def references_in(text: str, known: Iterable[str]) -> list[str]:
    """The ``known`` references that ``text`` names, in the order they appear, each once:
    also written in another case or with spaces or hyphens anywhere inside
    (``Invoice rf47 ecs2 77kq 3m9 thanks``).

    A reference counts only as a whole: starting and ending at the edges of words. Where
    several known references could be read from the same place (``RF..ABC`` and
    ``RF..ABCD`` in ``RF..ABCD``), the longest is meant."""
    known = {compact(reference) for reference in known}
    return _found(text, known.__contains__)


def candidates(text: str) -> list[str]:
    """Every valid RF reference (compact) that ``text`` seems to name, known or not, read
    as :func:`references_in` reads them; the check digits keep out words that merely
    start with "RF"."""
    return _found(text, is_valid)


def _found(text: str, accepted: Callable[[str], bool]) -> list[str]:
    found: list[str] = []
    position = 0
    while position < len(text):
        if _starts_reference(text, position):
            readings = [(reading, end) for reading, end in _readings(text, position)
                        if accepted(reading)]
            if readings:
                reading, position = readings[-1]
                if reading not in found:
                    found.append(reading)
                continue
        position += 1
    return found


def _starts_reference(text: str, position: int) -> bool:
    """An "RF" at the start of a word."""
    return text[position : position + 2].upper() == "RF" and (
        position == 0 or not text[position - 1].isalnum()
    )


def _readings(text: str, start: int) -> Iterator[tuple[str, int]]:
    """The compact readings of ``text`` from ``start``, shortest first, that end at the end
    of a word, with where each ends. Spaces and hyphens are read through; any other
    character ends the reading."""
    reading = ""
    for position in range(start, len(text)):
        char = text[position]
        if char.isascii() and char.isalnum():
            reading += char.upper()
            if len(reading) > _LONGEST:
                return
            if not text[position + 1 : position + 2].isalnum():
                yield reading, position + 1
        elif not (char.isspace() or char == "-"):
            return
