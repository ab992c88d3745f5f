"""shared.typesetting without a PDF: which font each run gets, the order runs are drawn in,
and which characters nothing can print."""

import pytest

from shared import typesetting
from shared.typesetting import fonts


def fonts_of(text: str, bold: bool = False) -> list[str]:
    return [piece.font for piece in typesetting.layout(text, bold).pieces]


@pytest.mark.parametrize(("text", "family"), [
    ("Żółć", "NotoSans"), ("Παπαδόπουλος", "NotoSans"), ("Іваненко", "NotoSans"),
    ("الأحمد", "NotoSansArabic"), ("כהן", "NotoSansHebrew"), ("शर्मा", "NotoSansDevanagari"),
    ("ใจดี", "NotoSansThai"), ("ბერიძე", "NotoSansGeorgian"), ("Պետրոսյան", "NotoSansArmenian"),
    ("王小明", "NotoSansCJKsc"), ("さくら", "NotoSansCJKsc"), ("김민준", "NotoSansCJKsc"),
])
def test_each_script_gets_its_noto(text, family):
    assert set(fonts_of(text)) == {f"{family}-Regular"}
    assert set(fonts_of(text, bold=True)) == {f"{family}-Bold"}


def test_spaces_and_punctuation_stay_with_their_neighbours():
    assert fonts_of("王 小明") == ["NotoSansCJKsc-Regular"]
    assert len(typesetting.layout("Ana-Maria Łącka", False).pieces) == 1


def test_a_mixed_line_is_cut_into_runs_in_reading_order():
    line = typesetting.layout("Wang 王 Studio", False)
    assert [piece.text for piece in line.pieces] == ["Wang ", "王 ", "Studio"]


def test_right_to_left_runs_are_drawn_from_the_right():
    pieces = typesetting.layout("Museum متحف العلوم", False).pieces
    assert pieces[0].text == "Museum "
    # then the Arabic words, the second word of the line first (leftmost)
    words = [piece.text for piece in pieces[1:] if piece.text.strip()]
    assert len(words) == 2
    assert typesetting.layout("متحف", False).pieces[0].text == words[1]


def test_widths_scale_with_the_size():
    line = typesetting.layout("Παπαδόπουλος", True)
    assert line.width > 0
    assert line.width_at(20) == pytest.approx(2 * line.width_at(10))


def test_unprintable_names_what_no_font_has():
    assert typesetting.unprintable("Łukasz 王 محمد") == ""
    assert typesetting.unprintable("Anna \U0001F9EA\U0001F9EA") == "\U0001F9EA"
    assert typesetting.unprintable("نسرین\u200cدخت") == ""  # a zero-width non-joiner
    assert typesetting.layout("Anna \U0001F9EA", False).missing == "\U0001F9EA"


def test_every_font_file_is_there():
    assert fonts.missing_files() == []
