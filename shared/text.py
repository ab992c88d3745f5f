"""Text helpers every service needs."""

import unicodedata

# Letters that Unicode does not decompose into a base letter and an accent.
_FOLDS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss",
                        "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h", "ŋ": "n"})


def search_key(text: str) -> str:
    """Lower-case, accent-free text for searching: 'Żółć' and 'zolc' both give 'zolc'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLDS))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.translate(_FOLDS).split())
