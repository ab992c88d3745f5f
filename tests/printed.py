"""Reading a printed PDF back: the names of every script the brief lists, where a word is
printed (found in the text of the glyphs after Unicode normalisation, letters HarfBuzz fused
into one glyph standing as private-use characters) and whether its glyphs leave ink."""

import re
import unicodedata

import pypdfium2 as pdfium
import uharfbuzz

from shared import typesetting
from shared.typesetting.fonts import BOLD

# (script, given name, family name, organisation)
SCRIPTS = [
    ("Latin", "Łukasz", "Brzęczyszczykiewicz", "Copernicus Science Centre"),
    ("Greek", "Αλέξανδρος", "Παπαδόπουλος", "Ίδρυμα Ευγενίδου"),
    ("Cyrillic", "Борис", "Іваненко", "Музей науки"),
    ("Arabic", "فاطمة", "الأحمد", "متحف العلوم"),
    ("Hebrew", "נועה", "כהן", "מוזיאון המדע"),
    ("Chinese", "小明", "王", "中国科学技术馆"),
    ("Japanese", "さくら", "山田", "日本科学未来館"),
    ("Korean", "민준", "김", "국립과천과학관"),
    ("Devanagari", "अनुष्का", "शर्मा", "राष्ट्रीय विज्ञान संग्रहालय"),
    ("Thai", "สมชาย", "ใจดี", "พิพิธภัณฑ์วิทยาศาสตร์"),
    ("Georgian", "ნინო", "ბერიძე", "თბილისის მუზეუმი"),
    ("Armenian", "Արամ", "Պետրոսյան", "Գիտության թանգարան"),
]
PRIVATE_USE = "\ue000-\uf8ff"  # what a PDF's text has for a glyph of several characters
SCALE = 4  # pixels a point when a page is rendered to look for ink
INK = 128  # grey level below which a pixel is ink


def clusters(word: str) -> list[str]:
    """The word cut where HarfBuzz's glyphs are (a conjunct or ligature stays whole); checks
    that every glyph is a real one (not .notdef) and that some have ink in the font."""
    face = next(face for face in BOLD if all(
        ord(c) in typesetting.fonts.characters(face) for c in word))
    font = uharfbuzz.Font(uharfbuzz.Face(face.path.read_bytes()))
    buffer = uharfbuzz.Buffer()
    buffer.add_str(word)
    buffer.guess_segment_properties()
    uharfbuzz.shape(font, buffer)
    assert all(info.codepoint != 0 for info in buffer.glyph_infos), f"{word}: .notdef"
    assert any(font.get_glyph_extents(info.codepoint).width
               for info in buffer.glyph_infos), f"{word}: no glyph with ink"
    starts = sorted({info.cluster for info in buffer.glyph_infos}) + [len(word)]
    return [word[start:end] for start, end in zip(starts, starts[1:], strict=False)]


def fused_letters(word: str) -> set[str]:
    """Letters HarfBuzz draws as part of a glyph that stands for several characters, so that
    the PDF's text may have a private-use character instead of them."""
    return {c for cluster in clusters(word) if len(cluster) > 1 for c in cluster}


def _pattern(word: str) -> re.Pattern:
    """The word as a PDF's text may give it: each cluster of several characters as any run
    of its own characters and private-use ones."""
    parts = [re.escape(cluster) if len(cluster) == 1
             else f"[{re.escape(cluster)}{PRIVATE_USE}]+" for cluster in clusters(word)]
    return re.compile("".join(parts))


def boxes(pdf: bytes, word: str, page: int = 0) -> list[list[tuple[float, ...]]]:
    """Every place the page prints the word: the (left, bottom, right, top) box of each of
    its glyphs, in points, from pdfium's reading of the page (logical order, presentation
    forms made letters again by NFKC)."""
    text_page = pdfium.PdfDocument(pdf)[page].get_textpage()
    text, owner = "", []
    for index in range(text_page.count_chars()):
        char = unicodedata.normalize("NFKC", text_page.get_text_range(index, 1))
        text += char
        owner += [index] * len(char)
    return [[text_page.get_charbox(index) for index in sorted(set(owner[m.start():m.end()]))]
            for m in _pattern(unicodedata.normalize("NFKC", word)).finditer(text)]


def assert_inked(pdf: bytes, *names: str, page: int = 0) -> None:
    """Every word of the names is printed on the page, and each of its glyphs has ink where
    the PDF says it is: no blank glyph stands in for a letter."""
    document = pdfium.PdfDocument(pdf)
    height = document[page].get_height()
    image = document[page].render(scale=SCALE, grayscale=True).to_pil().convert("L")
    for word in (word for name in names for word in name.split()):
        found = boxes(pdf, word, page)
        assert found, f"{word} is not printed"
        for glyphs in found:
            for left, bottom, right, top in glyphs:
                area = image.crop((int(left * SCALE), int((height - top) * SCALE),
                                   int(right * SCALE) + 1, int((height - bottom) * SCALE) + 1))
                assert area.getextrema()[0] < INK, f"{word}: a glyph without ink"
