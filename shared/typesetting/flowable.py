"""A reportlab (platypus) flowable for text in any script: what a Paragraph does for the
documents' names, addresses and descriptions, but through :mod:`shared.typesetting`, so that
Arabic joins and reads right to left and every script finds its font. reportlab's own
Paragraph can shape, but orders right-to-left words only with a package that is not on
PyPI, and knows one font per run of markup.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable

from shared import typesetting

Span = tuple[str, bool]  # text, bold


@dataclass
class _Line:
    spans: list[Span]

    def width(self) -> float:
        return sum(typesetting.layout(text, bold).width for text, bold in self.spans)

    def add(self, text: str, bold: bool) -> None:
        if self.spans and self.spans[-1][1] == bold:
            self.spans[-1] = (self.spans[-1][0] + text, bold)
        else:
            self.spans.append((text, bold))

    def stripped(self) -> _Line:
        spans = [(text, bold) for text, bold in self.spans]
        if spans:
            spans[-1] = (spans[-1][0].rstrip(), spans[-1][1])
        return _Line([(text, bold) for text, bold in spans if text])


class TextBlock(Flowable):
    """Spans of text (each regular or bold) wrapped to the width it is given; a newline in a
    span starts a new line. Lines are aligned as the style says."""

    def __init__(self, spans: list[Span], style: ParagraphStyle, bold_font: str):
        super().__init__()
        self.spans = [(unicodedata.normalize("NFC", text), bold) for text, bold in spans]
        self.size: float = style.fontSize
        self.leading: float = style.leading
        self.colour: Color = style.textColor
        self.alignment = style.alignment
        self.all_bold = style.fontName == bold_font
        self._lines: list[_Line] = []

    def _words(self):
        for text, bold in self.spans:
            for number, hard_line in enumerate(text.replace("\r\n", "\n").split("\n")):
                if number:
                    yield None, bold  # a line break
                for word in re.findall(r"\s+|\S+", hard_line):
                    yield (" " if word.isspace() else word), bold or self.all_bold

    def _break(self, width: float) -> list[_Line]:
        """Greedy: as many words on a line as fit; a word wider than a line (a long name in
        a script without spaces) is broken between characters."""
        limit = width / self.size
        lines, line = [], _Line([])
        for word, bold in self._words():
            if word is None:
                lines.append(line)
                line = _Line([])
                continue
            if word == " " and not line.spans:
                continue
            pieces = [word]
            if typesetting.layout(word, bold).width > limit:
                pieces = list(word)
            for piece in pieces:
                if line.spans and piece != " " and (
                        line.width() + typesetting.layout(piece, bold).width > limit):
                    lines.append(line)
                    line = _Line([])
                line.add(piece, bold)
        lines.append(line)
        return [line.stripped() for line in lines if line.stripped().spans] or [_Line([])]

    def wrap(self, available_width, available_height):
        self._lines = self._break(available_width)
        self.width = available_width
        self.height = len(self._lines) * self.leading
        return self.width, self.height

    def draw(self):
        canvas = self.canv
        canvas.setFillColor(self.colour)
        baseline = self.height - self.size - (self.leading - self.size) / 2
        for line in self._lines:
            width = line.width() * self.size
            x = {TA_RIGHT: self.width - width, TA_CENTER: (self.width - width) / 2}.get(
                self.alignment, 0)
            for number, (text, bold) in enumerate(line.spans, start=1):
                laid_out = typesetting.layout(text, bold)
                typesetting.draw(canvas, laid_out, self.size, x, baseline,
                                 ends_line=number == len(line.spans))
                x += laid_out.width_at(self.size)
            baseline -= self.leading
