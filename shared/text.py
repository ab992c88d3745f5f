"""Text helpers every service needs."""

import unicodedata

# Letters that Unicode does not decompose into a base letter and an accent.
_FOLDS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss",
                        "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h", "ŋ": "n"})
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties, 15.0-17.0): characters
# drawn as nothing, Hangul fillers and variation selectors among them.
_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
              (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
              (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
              (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
              (0xE0000, 0xE0FFF))


def full_name(given_name: str, family_name: str, name_order: str = "given_first") -> str:
    """A person's name written as they asked: given name first (Anna Kowalska) or family
    name first (王 小明)."""
    parts = [family_name, given_name] if name_order == "family_first" else [
        given_name, family_name]
    return " ".join(filter(None, parts))


def default_ignorable(char: str) -> bool:
    """Whether Unicode says char is drawn as nothing (Default_Ignorable_Code_Point)."""
    return any(low <= ord(char) <= high for low, high in _IGNORABLE)


def search_key(text: str) -> str:
    """Lower-case, accent-free text for searching: 'Żółć' and 'zolc' both give 'zolc'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLDS))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.translate(_FOLDS).split())
