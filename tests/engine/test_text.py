"""Lines of text in any script: the glyph table, Arabic joining, bidi order, cleaning, fitting."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from custom_components.home_guardian.engine.text import (
    ELLIPSIS,
    GLYPH_FILE,
    GLYPH_ROWS,
    PLACEHOLDER,
    GlyphTable,
    fit,
    glyph_table,
    ink,
    one_line,
    visual,
)

# Real names in the scripts viewers write them in.
NAMES = {
    "latin": "Zoë Müller-Łukasiewicz",
    "vietnamese": "Nguyễn Thị Minh Khai",
    "cyrillic": "Дмитрий Шостакович",
    "greek": "Αλέξανδρος Παπαδόπουλος",
    "chinese": "张伟 (爷爷)",
    "japanese": "山田 太郎 やまだ タロウ",
    "korean": "김민준",
    "arabic": "محمد عبد الله",
    "hebrew": "דוד כהן",
    "devanagari": "अनिल कुमार",
}


# --- The glyphs -------------------------------------------------------------------------------


def test_the_table_covers_the_scripts_the_integration_needs() -> None:
    table = glyph_table()
    assert len(table) > 50_000
    ranges = {
        "latin": range(0x00C0, 0x0250),
        "greek": range(0x0391, 0x03AA),
        "cyrillic": range(0x0400, 0x0460),
        "cjk": range(0x4E00, 0xA000),
        "hiragana": range(0x3041, 0x3097),
        "katakana": range(0x30A1, 0x30FB),
        "hangul": range(0xAC00, 0xD7A4),
        "arabic forms": range(0xFE80, 0xFEFD),
    }
    for script, points in ranges.items():
        missing = [hex(point) for point in points if chr(point) not in table]
        assert not missing, f"{script}: {missing[:5]}"
    assert "\U0001f642" not in table  # beyond the first plane: the placeholder's case
    assert "ab" not in table
    assert 0x4E2D not in table


@pytest.mark.parametrize("script", list(NAMES))
def test_every_script_is_drawn_with_its_own_glyphs(script: str) -> None:
    name = NAMES[script]
    drawn = visual(name)
    table = glyph_table()
    assert all(char in table for char in drawn)
    pixels = ink(drawn)
    assert pixels.shape[0] == GLYPH_ROWS
    # Every letter leaves ink of its own, and none is the placeholder.
    placeholder = ink(PLACEHOLDER)
    for char in drawn:
        if char != " ":
            assert ink(char).any(), repr(char)
            assert ink(char).shape != placeholder.shape or (ink(char) != placeholder).any()
    boxes = ink(PLACEHOLDER * len(drawn))
    assert pixels.shape != boxes.shape or (pixels != boxes).any()


def test_distinct_names_give_distinct_pixels() -> None:
    drawn = {script: ink(visual(name)).tobytes() for script, name in NAMES.items()}
    assert len(set(drawn.values())) == len(NAMES)
    # Names that differ by one letter or one accent differ in pixels too.
    for first, second in [("张伟", "张传"), ("Zoe", "Zoë"), ("Иван", "Иваи"), ("김민준", "김민존")]:
        assert not np.array_equal(ink(visual(first)), ink(visual(second)))


def test_combining_marks_sit_on_their_letter() -> None:
    # No precomposed q with an acute: the mark is drawn over the q, in the q's own cell.
    plain, accented = ink("q"), ink(visual("q\u0301"))
    assert accented.shape == plain.shape
    assert (accented & ~plain).any()
    assert (accented >= plain).all()
    # Decomposed input is composed first: the same pixels as the precomposed letter.
    assert np.array_equal(ink(visual("Zoe\u0308")), ink(visual("Zoë")))


# --- Arabic and Hebrew ------------------------------------------------------------------------


def test_arabic_letters_join_and_read_right_to_left() -> None:
    # Seen from the left: meem final... the first letter of the word is drawn rightmost.
    assert visual("محمد") == "\ufeaa\ufee4\ufea4\ufee3"
    # Lam and alef become their ligature; a letter after alef starts anew.
    assert visual("سلام") == "\ufee1\ufefc\ufeb3"
    # Vowel marks do not break the joining, and stay with their letter.
    assert visual("بَب") == "\ufe90\ufe91\u064e"
    # Letters that never join after themselves (dal, alef, waw) leave the next one initial.
    assert visual("دب") == "\ufe8f\ufea9"


def test_right_to_left_runs_are_reordered_numbers_kept() -> None:
    assert visual("abc אבג") == "abc גבא"
    assert visual("אב 12") == "12 בא"
    assert visual("אב 1.5") == "1.5 בא"
    assert visual("(אב)") == "(בא)"  # brackets mirrored
    assert visual("Ali علي") == "Ali \ufef2\ufee0\ufecb"
    assert visual("Room 12") == "Room 12"


# --- Cleaning and fitting ---------------------------------------------------------------------


def test_control_and_bidi_characters_are_cleaned() -> None:
    assert one_line("A\u202eB\u2066C\u200b D\nE\x00F\u2028G\u00adH  ") == "ABC D E F GH"
    assert one_line("\u202e\u200f\u061c\ufeff") == ""
    # An override cannot reverse what the caption shows, nor hide anything in it.
    assert visual("Anna\u202e evil\u202c") == "Anna evil"


def test_fit_cuts_at_the_logical_end_with_an_ellipsis() -> None:
    assert fit("Grandma", 56) == "Grandma"
    assert fit("Grandma", 55) == "Grand" + ELLIPSIS
    assert fit("Grandma", 7) == ""
    # Right-to-left text loses its last letters, drawn at its left, where the ellipsis goes.
    cut = fit("שלום עולם", 48)
    assert cut == ELLIPSIS + " םולש"
    assert ink(cut).shape[1] <= 48
    # Whole clusters go: a letter never loses its accent alone.
    assert fit("q\u0301q\u0301q\u0301", 16) == "q\u0301" + ELLIPSIS


def test_missing_characters_are_drawn_as_a_visible_placeholder() -> None:
    assert "\U0001f642" not in glyph_table()
    assert np.array_equal(ink("\U0001f642"), ink(PLACEHOLDER))
    assert ink(PLACEHOLDER).any()
    assert np.array_equal(ink("a\U0001f642b"), ink("a" + PLACEHOLDER + "b"))


def test_a_damaged_table_is_refused() -> None:
    with pytest.raises(ValueError, match="not a glyph table"):
        GlyphTable(zlib.compress(b"nope"))
    good = zlib.decompress(GLYPH_FILE.read_bytes())
    with pytest.raises(ValueError, match="truncated"):
        GlyphTable(zlib.compress(good[:-5]))
