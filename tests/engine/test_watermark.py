"""The viewer's caption: the share code always there, names in any script fitted, the box."""

from __future__ import annotations

import string

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
import pytest

from custom_components.home_guardian.engine.text import (
    ELLIPSIS,
    GLYPH_ROWS,
    PLACEHOLDER,
    glyph_table,
    ink,
)
from custom_components.home_guardian.engine.watermark import (
    SEPARATOR,
    SHARE_CODE_ALPHABET,
    WATERMARK_BACKGROUND,
    WATERMARK_TEXT,
    CaptionText,
    caption_line,
    share_code,
    watermark,
)

type RGB = NDArray[np.uint8]
type Ink = NDArray[np.bool_]

HEIGHT, WIDTH = 360, 640
CODE = "K7QX2M"
# Long names in three kinds of script: wide CJK, joined right-to-left Arabic, accented Latin.
NAMES = {
    "chinese": "张伟 (爷爷)",
    "arabic": "محمد عبد الله",
    "latin": "Zoë Müller-Łukasiewicz",
}


def noise(height: int = HEIGHT, width: int = WIDTH) -> RGB:
    """Return a picture of random colours, which no caption pixel matches by chance."""
    return np.random.default_rng(7).integers(60, 200, (height, width, 3), dtype=np.uint8)


def marked(rgb: RGB, text: CaptionText) -> RGB:
    """Return a copy of the picture with the caption burned in."""
    out = rgb.copy()
    watermark(out, text)
    return out


def text_pixels(rgb: RGB) -> Ink:
    """Return where a picture holds the caption's text colour."""
    return (rgb == WATERMARK_TEXT).all(axis=2)


def holds(line: Ink, piece: Ink) -> bool:
    """Return True when `piece` appears in `line` at some column (and the same rows)."""
    if piece.shape[1] > line.shape[1] or piece.shape[0] != line.shape[0]:
        return False
    windows = sliding_window_view(line, piece.shape)[0]
    return bool((windows == piece).all(axis=(1, 2)).any())


def scaled(pixels: Ink, scale: int) -> Ink:
    """Return glyph pixels scaled by whole pixels, as the caption draws them."""
    return np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)


def caption_text_rows(original: RGB, out: RGB, scale: int) -> Ink:
    """Return the caption's line of text, 16 x scale rows centred in its box."""
    box_top = int(np.flatnonzero((out != original).any(axis=(1, 2)))[0])
    line_height = GLYPH_ROWS * scale
    top = box_top + (out.shape[0] - box_top - line_height) // 2
    return text_pixels(out)[top : top + line_height]


def test_a_missing_glyph_leaves_the_rest_and_the_code() -> None:
    line = caption_line(CaptionText("Anna \U0001f642", CODE, "14:03"), 600)
    assert line is not None
    assert holds(line, ink("Anna " + PLACEHOLDER))
    assert holds(line, ink(CODE))


def test_bidi_overrides_cannot_change_the_caption() -> None:
    spoofed = marked(noise(), CaptionText("Anna\u202eSmith\u2069\u200b", CODE, "14:03"))
    assert (spoofed == marked(noise(), CaptionText("AnnaSmith", CODE, "14:03"))).all()


# --- Fitting ----------------------------------------------------------------------------------


def test_very_long_names_are_cut_and_keep_code_and_time() -> None:
    name = "A very long viewer name\n" * 20
    line = caption_line(CaptionText(name, CODE, "14:03:22"), 600)
    assert line is not None
    assert line.shape[1] <= 600
    start = ink("A very long viewer name A very")
    assert np.array_equal(line[:, : start.shape[1]], start)
    assert holds(line, ink(ELLIPSIS + SEPARATOR + CODE))
    assert holds(line, ink(SEPARATOR + CODE + SEPARATOR + "14:03:22"))
    out = marked(noise(), CaptionText(name, CODE, "14:03:22"))
    changed = (out != noise()).any(axis=2)
    # One line along the bottom, not wrapped upwards, not spilling off the edge.
    assert changed[HEIGHT - 2, : WIDTH - 30].all()
    assert not changed[: HEIGHT - 40].any()


@pytest.mark.parametrize("script", ["chinese", "arabic", "latin"])
def test_long_names_in_any_script_are_cut_with_an_ellipsis(script: str) -> None:
    name = (NAMES[script] + " ") * 6
    line = caption_line(CaptionText(name, CODE, "14:03:22"), 400)
    assert line is not None
    assert line.shape[1] <= 400
    assert holds(line, ink(ELLIPSIS))
    assert holds(line, ink(SEPARATOR + CODE))


def test_the_share_code_is_always_there() -> None:
    # A name that cleans to nothing still leaves the code and the time.
    line = caption_line(CaptionText("\u202e\u200b", CODE, "14:03"), 600)
    assert line is not None
    assert np.array_equal(line, ink(CODE + SEPARATOR + "14:03"))
    # Narrow pictures drop the time, then cut the name, never the code.
    for room in (200, 120, 80, 48):
        line = caption_line(CaptionText("Grandma Müller", CODE, "14:03:22"), room)
        assert line is not None, room
        assert line.shape[1] <= room
        assert holds(line, ink(CODE))
        assert not holds(line, ink("14:03:22"))
    assert caption_line(CaptionText("Grandma", CODE, "14:03:22"), 47) is None
    # In a whole picture, at every size: the code's pixels are in the caption.
    for height, width in [(360, 640), (120, 96), (1080, 1920), (2160, 3840)]:
        scale = max(1, round(max(12, round(height / 24)) / 16))
        rgb = noise(height, width)
        out = marked(rgb, CaptionText("张伟" * 40, CODE, "14:03:22"))
        line = caption_text_rows(rgb, out, scale)
        assert holds(line, scaled(ink(CODE), scale)), (height, width)
    tiny = noise(16, 12)
    assert (marked(tiny, CaptionText("Grandma", CODE)) == tiny).all()  # no room at all


def test_watermark_marks_the_bottom_left_corner_only() -> None:
    rgb = noise()
    out = marked(rgb, CaptionText("Grandma", CODE, "2026-11-25 14:03:22"))
    changed = (out != rgb).any(axis=2)
    assert changed[HEIGHT - 20 :, :150].mean() > 0.9  # the solid box covers all of it
    assert not changed[: HEIGHT - 40].any()
    assert not changed[:, WIDTH // 2 :].any()
    # The box is solid and dark around the white text: nothing of the picture shows through.
    box = out[HEIGHT - 2 :, :100]
    assert (box == WATERMARK_BACKGROUND).all()
    inside = out[HEIGHT - 40 :, :150].reshape(-1, 3)
    colours = {tuple(int(value) for value in pixel) for pixel in inside}
    assert colours <= {WATERMARK_BACKGROUND, WATERMARK_TEXT}


def test_watermark_grows_with_the_picture() -> None:
    small = marked(np.full((360, 640, 3), 200, dtype=np.uint8), CaptionText("Grandma", CODE))
    large = marked(np.full((1080, 1920, 3), 200, dtype=np.uint8), CaptionText("Grandma", CODE))
    rows_small = (small != 200).any(axis=(1, 2)).sum()
    rows_large = (large != 200).any(axis=(1, 2)).sum()
    # Three times the height; the box is rounded up to whole 16-pixel rows of the JPEG.
    assert rows_large > 2 * rows_small
    # The text itself, scaled by whole pixels: three times as many rows of it.
    assert text_pixels(large).any(axis=1).sum() == 3 * text_pixels(small).any(axis=1).sum()


# --- The share code ---------------------------------------------------------------------------


def test_share_codes_are_short_stable_and_distinct() -> None:
    code = share_code("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert len(code) == 6
    assert set(code) <= set(SHARE_CODE_ALPHABET)
    assert not set(SHARE_CODE_ALPHABET) & set("01OI")
    # Captions already out there name shares by it: it must never change for a share.
    assert share_code("abc") == "CZM5J9"
    assert share_code("abc") == share_code("abc")
    ids = [f"{number:032x}" for number in range(2000)]
    assert len({share_code(share_id) for share_id in ids}) == len(ids)
    # Every character of the alphabet is drawn, and drawn differently.
    glyphs = {ink(char).tobytes() for char in SHARE_CODE_ALPHABET}
    assert len(glyphs) == len(SHARE_CODE_ALPHABET)
    assert all(char in glyph_table() for char in string.digits + string.ascii_uppercase)
