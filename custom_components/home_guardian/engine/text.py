"""Draw a line of text in any script of Unicode's first plane, without any system font.

Glyphs come from GNU Unifont (glyphs/unifont.bin, made by scripts/make_glyphs.py; SIL Open Font
License 1.1, text in glyphs/LICENSE.txt): Latin with accents, Greek, Cyrillic, Hebrew, Arabic,
Indic, Thai, CJK, kana and hangul, 57,021 glyphs in 0.8 MB, read once and drawn with numpy.
Chosen over:
- Pillow's `ImageFont.load_default(size)`: its embedded font (Aileron) has ASCII only, even
  "é" is a box;
- system fonts: Home Assistant OS and the container (Alpine) have none to rely on;
- a Noto CJK subset: several MB for CJK alone, and FreeType without Raqm (not in Pillow's musl
  wheels) still cannot join Arabic or order right-to-left text;
- a font package from PyPI: none is pure data across these scripts, and it is one more install.
Unifont is a pixel font: scaled by whole pixels it stays sharp, and looks the same everywhere.

A line is cleaned (`one_line`) and composed (NFC); Arabic letters take their joining forms,
found from the presentation forms Unicode itself decomposes; right-to-left runs are reordered
by a compact form of the Unicode bidirectional algorithm (numbers, neutrals, mirrored
brackets); combining marks are drawn over their base letter. Not done: Indic conjuncts and
vowel reordering (letters stand side by side, still legible), and characters beyond the first
plane (emoji, rare CJK extension ideographs), drawn as the replacement glyph, a box with a
question mark, so a gap is never silent.
"""

from __future__ import annotations

import bisect
import functools
from itertools import accumulate, chain
from pathlib import Path
import struct
from typing import Final, NamedTuple
import unicodedata
import zlib

import numpy as np
from numpy.typing import NDArray

type Ink = NDArray[np.bool_]

GLYPH_ROWS: Final = 16
GLYPH_FILE: Final = Path(__file__).with_name("glyphs") / "unifont.bin"
# Drawn for any character the table lacks: visible, so a gap in a name is never silent.
PLACEHOLDER: Final = "\ufffd"
ELLIPSIS: Final = "…"
# Names are at most 64 characters; this bounds the work on anything else handed in.
MAX_CLUSTERS: Final = 256
# Control characters and line breaks become spaces; format characters (bidi overrides and
# isolates, zero-width spaces and joiners, soft hyphens) and lone surrogates are dropped: they
# could hide or reorder what the owner or the viewer reads.
_AS_SPACE: Final = frozenset({"Cc", "Zl", "Zp"})
_DROPPED: Final = frozenset({"Cf", "Cs"})
_MARKS: Final = frozenset({"Mn", "Me"})
_MIRRORED: Final = dict(zip("()[]{}<>«»\u2039\u203a", ")(][}{><»«\u203a\u2039", strict=True))
_TATWEEL: Final = "\u0640"
# Lam with an alef: the one ligature that writing Arabic requires.
_LAM_ALEF: Final = range(0xFEF5, 0xFEFD)
_FORMS: Final = ("isolated", "final", "initial", "medial")


def one_line(text: str) -> str:
    """Return text on one line, without control or format characters or runs of spaces."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        kept.append(" " if category in _AS_SPACE else "" if category in _DROPPED else char)
    return " ".join("".join(kept).split())


class Glyph(NamedTuple):
    """One character's pixels, 16 rows high, and how far it reaches back over the one before."""

    ink: Ink
    reach: int


class GlyphTable:
    """Unifont's glyphs as made by scripts/make_glyphs.py, looked up by code point."""

    def __init__(self, compressed: bytes) -> None:
        """Read a table; raise ValueError when it is not one."""
        raw = zlib.decompress(compressed)
        if raw[:4] != b"HGG1":
            raise ValueError("not a glyph table")
        (count,) = struct.unpack_from("<I", raw, 4)
        at = 8 + 4 * count
        self._points = struct.unpack_from(f"<{count}I", raw, 8)
        self._widths = raw[at : at + count]
        self._reach = struct.unpack_from(f"<{count}b", raw, at + count)
        at += 2 * count
        # Each glyph holds 16 rows of its width in bits: twice its width in bytes.
        self._starts = list(accumulate((2 * width for width in self._widths), initial=at))
        if self._starts[-1] != len(raw):
            raise ValueError("the glyph table is truncated")
        self._raw = raw

    def __len__(self) -> int:
        """Return how many characters have a glyph."""
        return len(self._points)

    def __contains__(self, char: object) -> bool:
        """Return True when the character has a glyph of its own."""
        return isinstance(char, str) and len(char) == 1 and self._index(char) is not None

    def glyph(self, char: str) -> Glyph | None:
        """Return a character's glyph, or None when the table has none."""
        index = self._index(char)
        if index is None:
            return None
        width, start = self._widths[index], self._starts[index]
        bits = np.frombuffer(self._raw, np.uint8, 2 * width, start)
        ink = np.unpackbits(bits).reshape(GLYPH_ROWS, width).astype(bool)
        ink.flags.writeable = False  # shared through the cache
        return Glyph(ink=ink, reach=-self._reach[index])

    def _index(self, char: str) -> int | None:
        """Return the position of a character in the table, or None."""
        point = ord(char)
        index = bisect.bisect_left(self._points, point)
        if index < len(self._points) and self._points[index] == point:
            return index
        return None


@functools.cache
def glyph_table() -> GlyphTable:
    """Return the committed glyph table, read once (about 10 ms: call it off the event loop)."""
    return GlyphTable(GLYPH_FILE.read_bytes())


@functools.lru_cache(maxsize=4096)
def _glyph(char: str) -> Glyph:
    """Return a character's glyph, or the placeholder's."""
    table = glyph_table()
    found = table.glyph(char)
    if found is None:
        found = table.glyph(PLACEHOLDER)
    if found is None:  # pragma: no cover - the committed table has U+FFFD
        raise ValueError("the glyph table has no placeholder")
    return found


@functools.cache
def _arabic_forms() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Return each Arabic letter's joining forms, and lam-alef's ligatures, from Unicode's data.

    The presentation-form characters decompose to "<final> 0628" and the like: that is all a
    renderer needs to know which letters join on which side.
    """
    forms: dict[str, dict[str, str]] = {}
    ligatures: dict[str, dict[str, str]] = {}
    for point in chain(range(0xFB50, 0xFE00), range(0xFE70, 0xFF00)):
        tag, *parts = unicodedata.decomposition(chr(point)).split() or ("",)
        form = tag.strip("<>")
        if form not in _FORMS:
            continue
        letters = "".join(chr(int(part, 16)) for part in parts)
        if len(letters) == 1:
            forms.setdefault(letters, {}).setdefault(form, chr(point))
        elif point in _LAM_ALEF:
            ligatures.setdefault(letters, {})[form] = chr(point)
    return forms, ligatures


def _joins_next(char: str, forms: dict[str, dict[str, str]]) -> bool:
    """Return True when a letter connects to the letter after it."""
    return char == _TATWEEL or bool(forms.get(char, {}).keys() & {"initial", "medial"})


def _joins_previous(char: str, forms: dict[str, dict[str, str]]) -> bool:
    """Return True when a letter connects to the letter before it."""
    return char == _TATWEEL or "final" in forms.get(char, {})


def _shape_arabic(text: str) -> str:
    """Return text with Arabic letters in their joining forms (logical order kept)."""
    forms, ligatures = _arabic_forms()
    if not any(char in forms for char in text):
        return text
    out = list(text)
    # Marks (vowel signs) are transparent: letters join across them.
    letters = [index for index, char in enumerate(text) if unicodedata.category(char) not in _MARKS]
    for order, index in enumerate(letters):
        char = text[index]
        if char not in forms or not out[index]:
            continue
        before = (
            order > 0
            and _joins_next(text[letters[order - 1]], forms)
            and _joins_previous(char, forms)
        )
        after_index = letters[order + 1] if order + 1 < len(letters) else None
        after = "" if after_index is None else text[after_index]
        if after_index is not None and (ligature := ligatures.get(char + after)):
            out[index] = ligature["final" if before else "isolated"]
            out[after_index] = ""
            continue
        joins = bool(after) and _joins_next(char, forms) and _joins_previous(after, forms)
        form = ("medial" if joins else "final") if before else ("initial" if joins else "isolated")
        own = forms[char]
        out[index] = own.get(form) or own.get("isolated", char)
    return "".join(out)


def _clusters(text: str) -> list[str]:
    """Return text cut into base characters, each with the marks that follow it."""
    clusters: list[str] = []
    for char in text:
        if clusters and unicodedata.category(char) in _MARKS:
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _bidi_class(cluster: str) -> str:
    """Return a cluster's direction class: L, R, EN, AN, CS (number separators) or ON."""
    kind = unicodedata.bidirectional(cluster[0])
    if kind == "AL":
        return "R"
    return kind if kind in {"L", "R", "EN", "AN", "CS"} else "ON"


def _reorder(clusters: list[str]) -> list[str]:
    """Return clusters in visual order, by the bidirectional algorithm's rules for one line."""
    levels = _levels([_bidi_class(cluster) for cluster in clusters])
    # L4: a right-to-left bracket is drawn as its mirror image.
    placed = [
        (level, "".join(_MIRRORED.get(char, char) for char in cluster) if level % 2 else cluster)
        for level, cluster in zip(levels, clusters, strict=True)
    ]
    # L2: reverse every run at or above each level, from the highest level down to 1.
    for level in range(max(levels, default=0), 0, -1):
        for start, end in _runs([placed_level >= level for placed_level, _ in placed]):
            placed[start:end] = placed[start:end][::-1]
    return [cluster for _, cluster in placed]


def _levels(kinds: list[str]) -> list[int]:
    """Return each cluster's embedding level from its direction class (rules P, W4, W7, N, I)."""
    count = len(kinds)
    numbers = {"EN", "AN"}
    # W4: a separator between two numbers is part of them (1.5, 1,000).
    for index in range(1, count - 1):
        if kinds[index] == "CS" and kinds[index - 1] in numbers and kinds[index + 1] in numbers:
            kinds[index] = kinds[index - 1]
    # P2, P3: the line's direction is that of its first strong character.
    base = next((kind for kind in kinds if kind in {"L", "R"}), "L")
    # W7: European digits after left-to-right text (or at the start of it) are left-to-right.
    strong = base
    for index, kind in enumerate(kinds):
        if kind in {"L", "R"}:
            strong = kind
        elif kind == "EN" and strong == "L":
            kinds[index] = "L"
    # N1, N2: neutrals between the same direction take it (numbers count as right-to-left);
    # other neutrals take the line's.
    sides = ["L" if kind == "L" else "R" if kind in {"R", *numbers} else "" for kind in kinds]
    for start, end in _runs([not side for side in sides]):
        before = sides[start - 1] if start else base
        after = sides[end] if end < count else base
        kinds[start:end] = [before if before == after else base] * (end - start)
    # I1, I2: left-to-right text is even, right-to-left odd, numbers one above.
    if base == "L":
        return [0 if kind == "L" else 1 if kind == "R" else 2 for kind in kinds]
    return [1 if kind == "R" else 2 for kind in kinds]


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """Return the (start, end) of every run of True in a list."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index))
            start = None
    return runs


@functools.lru_cache(maxsize=256)
def visual(text: str) -> str:
    """Return a line as drawn from left to right: cleaned, composed, joined, reordered."""
    clusters = _clusters(_shape_arabic(unicodedata.normalize("NFC", one_line(text))))
    return "".join(_reorder(clusters[:MAX_CLUSTERS]))


@functools.lru_cache(maxsize=256)
def ink(drawn: str) -> Ink:
    """Return the pixels of a line already in visual order, 16 rows high, True where inked."""
    placed: list[tuple[int, Ink]] = []
    cursor = 0
    for char in drawn:
        glyph = _glyph(char)
        # A combining mark is drawn back over the letter before it, not beside it.
        left = max(0, cursor - glyph.reach)
        placed.append((left, glyph.ink))
        cursor = max(cursor, left + glyph.ink.shape[1])
    line = np.zeros((GLYPH_ROWS, cursor), dtype=bool)
    for left, pixels in placed:
        line[:, left : left + pixels.shape[1]] |= pixels
    line.flags.writeable = False  # shared through the cache
    return line


@functools.lru_cache(maxsize=128)
def fit(text: str, room: int) -> str:
    """Return a line in visual order, cut at its end with an ellipsis to `room` glyph pixels."""
    drawn = visual(text)
    if ink(drawn).shape[1] <= room:
        return drawn
    clusters = _clusters(unicodedata.normalize("NFC", one_line(text)))[:MAX_CLUSTERS]
    # The longest start of the text that fits with an ellipsis; width grows with the length.
    low, high, best = 0, len(clusters) - 1, ""
    while low <= high:
        middle = (low + high) // 2
        candidate = visual("".join(clusters[:middle]) + ELLIPSIS) if middle else ""
        if ink(candidate).shape[1] <= room:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best
