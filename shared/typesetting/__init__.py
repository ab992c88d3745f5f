"""Lines of text in every script, for the PDFs the services print (badges, documents).

A line is cut into runs, each drawn with the first Noto face of the chain that has its
characters (:mod:`shared.typesetting.fonts`); spaces, punctuation, digits and marks stay in
the run of their neighbours. Right-to-left text is ordered with the Unicode bidirectional
algorithm (python-bidi), so "محمد الأحمد, Science Museum" reads correctly in both
directions. Runs in scripts that need it (Arabic joining, Devanagari conjuncts, Thai and
Hebrew marks) are shaped by reportlab with HarfBuzz (``uharfbuzz``), a word at a time.

Lines are laid out once per text and weight (cached) and measured at 1 pt, so fitting a
name to a badge is arithmetic, not repeated layout.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby

from bidi import algorithm as uba
from bidi.mirror import MIRRORED
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, shapeStr

from shared.typesetting.fonts import BOLD, REGULAR, Face, characters, unprintable

__all__ = ["Line", "draw", "layout", "register", "unprintable"]

_NEUTRAL = frozenset({"WS", "ON", "CS", "ES", "ET", "EN", "AN", "NSM", "BN", "B", "S"})
_RTL = frozenset({"R", "AL"})


@dataclass(frozen=True)
class Piece:
    """Characters drawn with one font, in visual order (shaped ones as HarfBuzz left them)."""

    font: str
    text: str
    advance: float  # width at 1 pt


@dataclass(frozen=True)
class Line:
    pieces: tuple[Piece, ...]
    width: float  # at 1 pt
    missing: str  # characters no face has (drawn as empty boxes)

    def width_at(self, size: float) -> float:
        return self.width * size


def register(face: Face) -> str:
    """Register the face with reportlab on first use; fonts nobody prints are never read."""
    if face.name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(face.name, str(face.path)))
    return face.name


def _face_of(char: str, faces: tuple[Face, ...], current: Face | None) -> Face:
    code = ord(char)
    if current is not None and code in characters(current) and (
            unicodedata.bidirectional(char) in _NEUTRAL
            or unicodedata.category(char) in ("Mn", "Mc", "Me", "Cf")):
        return current  # a space, digit, mark or joiner stays with its neighbours
    for face in faces:
        if code in characters(face):
            return face
    return current or faces[0]  # none has it: an empty box, reported as missing


def _levels(text: str) -> list[int]:
    """The bidirectional embedding level of each character (even: left to right)."""
    if not any(unicodedata.bidirectional(char) in _RTL for char in text):
        return [0] * len(text)
    storage = uba.get_empty_storage()
    base = uba.get_base_level(text)
    storage["base_level"], storage["base_dir"] = base, "LR"[base]
    uba.get_embedding_levels(text, storage)
    uba.explicit_embed_and_overrides(storage)
    uba.resolve_weak_types(storage)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    # the algorithm drops joiners and other controls (rule X9): they take the level before
    resolved = iter(storage["chars"])
    pending, level, levels = next(resolved, None), base, []
    for char in text:
        if pending is not None and pending["ch"] == char:
            level, pending = pending["level"], next(resolved, None)
        levels.append(level)
    return levels


def _visual(runs: list[tuple[int, object]]) -> list[tuple[int, object]]:
    """Runs (level, run) reordered for display (rule L2: from the highest level down to the
    lowest odd one, reverse every sequence at that level or higher)."""
    if not runs:
        return runs
    highest = max(level for level, _ in runs)
    lowest_odd = min((level for level, _ in runs if level % 2), default=highest + 1)
    for floor in range(highest, lowest_odd - 1, -1):
        reordered, index = [], 0
        while index < len(runs):
            if runs[index][0] < floor:
                reordered.append(runs[index])
                index += 1
                continue
            end = index
            while end < len(runs) and runs[end][0] >= floor:
                end += 1
            reordered.extend(reversed(runs[index:end]))
            index = end
        runs = reordered
    return runs


def _pieces(face: Face, text: str, rtl: bool) -> list[Piece]:
    """One run's pieces, left to right: shaped a word at a time where the script needs it
    (reportlab shapes one word correctly; several right-to-left words come out reversed)."""
    font = register(face)
    shaped = face.complex or any(unicodedata.category(c) in ("Mn", "Mc", "Me") for c in text)
    if not shaped:
        if rtl:
            text = "".join(MIRRORED.get(char, char) for char in reversed(text))
        return [Piece(font, text, pdfmetrics.stringWidth(text, font, 1))]
    words = [word for word in _split_spaces(text)]
    if rtl:
        words.reverse()
    pieces = []
    for word in words:
        glyphs = word if word.isspace() else shapeStr(word, font, 1)
        if isinstance(glyphs, ShapedStr):
            advance = sum(float(glyph[1]) for glyph in glyphs.__shapeData__) / 1000
        else:  # HarfBuzz changed nothing
            advance = pdfmetrics.stringWidth(glyphs, font, 1)
        pieces.append(Piece(font, glyphs, advance))
    return pieces


def _split_spaces(text: str) -> list[str]:
    return ["".join(chars) for _, chars in groupby(text, key=str.isspace)]


@lru_cache(maxsize=8192)
def layout(text: str, bold: bool = False) -> Line:
    """Text (one line, NFC) cut into pieces in visual order, each with its font."""
    faces = BOLD if bold else REGULAR
    current: Face | None = None
    chosen = []
    for char in text:
        current = _face_of(char, faces, current)
        chosen.append(current)
    levels = _levels(text)
    runs = []
    for (face, level), group in groupby(zip(chosen, levels, text, strict=True),
                                        key=lambda item: item[:2]):
        runs.append((level, (face, "".join(char for *_, char in group))))
    pieces = [piece for level, (face, run) in _visual(runs)
              for piece in _pieces(face, run, rtl=bool(level % 2))]
    return Line(tuple(pieces), sum(piece.advance for piece in pieces), unprintable(text))


def draw(canvas, line: Line, size: float, x: float, y: float, ends_line: bool = True) -> None:
    """Draw the line at font size ``size``, its left end at x and its baseline at y.
    ``ends_line`` marks the end of a line, so that text copied from the PDF has its line
    breaks (False for a part of a line drawn in pieces)."""
    text = canvas.beginText(x, y)
    for piece in line.pieces:
        text.setFont(piece.font, size)
        text.textOut(piece.text)
    if ends_line:
        text.textLine("")
    canvas.drawText(text)
