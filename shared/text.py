"""Text helpers every service needs."""

import unicodedata

# Letters that Unicode does not decompose into a base letter and an accent.
_FOLDS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss",
                        "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h", "ŋ": "n"})


def full_name(given_name: str, family_name: str, name_order: str = "given_first") -> str:
    """A person's name written as they asked: given name first (Anna Kowalska) or family
    name first (王 小明)."""
    parts = [family_name, given_name] if name_order == "family_first" else [
        given_name, family_name]
    return " ".join(filter(None, parts))


def search_key(text: str) -> str:
    """Lower-case, accent-free text for searching: 'Żółć' and 'zolc' both give 'zolc'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLDS))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.translate(_FOLDS).split())
