"""The Noto fonts every printed name and document uses, and which characters each has.

The fonts are Debian's (``fonts-noto-core``, ``fonts-noto-cjk``; ``make install`` and the
Docker image install them). reportlab embeds TrueType outlines only, and Noto Sans CJK
ships with PostScript (CFF) outlines: :func:`prepare` converts its Simplified Chinese face
(which also has every kana and Hangul syllable) to TrueType once per machine, into
``FONTS_DIR``. ``conference fonts`` runs it.

The order of :data:`FACES` is the fallback chain: each character is drawn with the first
face that has it.
"""

from __future__ import annotations

import os
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

NOTO_DIR_DEFAULT = "/usr/share/fonts/truetype/noto"
CJK_SOURCE_DEFAULT = "/usr/share/fonts/opentype/noto"
CJK_FACE_INDEX = 2  # "Noto Sans CJK SC" in Debian's NotoSansCJK-*.ttc


@dataclass(frozen=True)
class Face:
    """One font of the chain, in one weight."""

    name: str  # as registered with reportlab
    filename: str
    complex: bool  # its script needs shaping: joining, reordering, mark positioning
    prepared: bool = False  # converted by prepare(), so in FONTS_DIR

    @property
    def path(self) -> Path:
        return (fonts_dir() if self.prepared else noto_dir()) / self.filename


def _family(stem: str, complex_script: bool = False, prepared: bool = False):
    return tuple(Face(f"{stem}-{weight}", f"{stem}-{weight}.ttf", complex_script, prepared)
                 for weight in ("Regular", "Bold"))


# (regular, bold) per script, in fallback order
FAMILIES = (
    _family("NotoSans"),  # Latin, Greek, Cyrillic, Vietnamese
    _family("NotoSansArabic", complex_script=True),
    _family("NotoSansHebrew", complex_script=True),
    _family("NotoSansDevanagari", complex_script=True),
    _family("NotoSansThai", complex_script=True),
    _family("NotoSansGeorgian"),
    _family("NotoSansArmenian"),
    _family("NotoSansCJKsc", prepared=True),  # Han, kana, Hangul
)
REGULAR = tuple(family[0] for family in FAMILIES)
BOLD = tuple(family[1] for family in FAMILIES)
FACES = REGULAR + BOLD


def noto_dir() -> Path:
    return Path(os.environ.get("NOTO_FONTS_DIR", NOTO_DIR_DEFAULT))


def fonts_dir() -> Path:
    """Where prepare() keeps the converted fonts: outside the checkout, so that a fresh
    clone (and CI) reuses them."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("FONTS_DIR", default / "ecsite-conference" / "fonts"))


def missing_files() -> list[Path]:
    return [face.path for face in FACES if not face.path.is_file()]


@cache
def characters(face: Face) -> frozenset[int]:
    """The code points the face maps to a glyph (its cmap only, read without the rest)."""
    from fontTools.ttLib import TTFont

    with TTFont(face.path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def read_coverage() -> None:
    """Read every face's characters now (about a third of a second), so that the first
    name checked or drawn does not wait for it on the event loop."""
    for face in FACES:
        characters(face)


def _ignorable(char: str) -> bool:
    """Characters nobody sees printed: spaces, joiners, variation selectors and other
    format characters (they steer shaping, they are not drawn)."""
    return (char.isspace() or unicodedata.category(char) == "Cf"
            or 0xFE00 <= ord(char) <= 0xFE0F)


def unprintable(text: str) -> str:
    """The characters of text that no face has, each once, in order of appearance."""
    found = []
    for char in dict.fromkeys(text):
        if _ignorable(char):
            continue
        if not any(ord(char) in characters(face) for face in REGULAR):
            found.append(char)
    return "".join(found)


# --- preparing the CJK face -------------------------------------------------------------


def _convert(source: str, target: str) -> str:
    """Noto Sans CJK SC's PostScript outlines as TrueType quadratic ones, saved to target."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(source, fontNumber=CJK_FACE_INDEX, lazy=True)
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["loca"], font["glyf"] = newTable("loca"), glyf
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font.sfntVersion = "\x00\x01\x00\x00"
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    font["post"].formatType = 3.0  # no glyph names: the CFF ones would not fit
    font["head"].glyphDataFormat = 0
    partial = f"{target}.partial"
    font.save(partial)
    os.replace(partial, target)  # never a half-written font
    return target


def prepare(log=print) -> list[Path]:
    """Convert the CJK faces that are not yet in fonts_dir() (about a minute and a half
    each; both weights at once on two cores). Returns the fonts made."""
    source_dir = Path(os.environ.get("NOTO_CJK_DIR", CJK_SOURCE_DEFAULT))
    todo = {face: source_dir / f"NotoSansCJK-{face.name.rsplit('-', 1)[1]}.ttc"
            for face in FACES if face.prepared and not face.path.is_file()}
    for source in todo.values():
        if not source.is_file():
            raise FileNotFoundError(f"{source} is missing: install Debian's fonts-noto-cjk")
    if not todo:
        return []
    fonts_dir().mkdir(parents=True, exist_ok=True)
    log(f"converting {len(todo)} CJK font(s) to TrueType into {fonts_dir()} (once)")
    with ProcessPoolExecutor(max_workers=len(todo)) as pool:
        made = list(pool.map(_convert, map(str, todo.values()),
                             [str(face.path) for face in todo]))
    return [Path(path) for path in made]
