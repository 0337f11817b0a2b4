"""Burn a caption that names the viewer into every shared picture, in any script.

The caption reads "viewer's name · share code · time" in white on a solid dark box in the
bottom-left corner. The share code (`share_code`, six characters from an alphabet without 0/O
or 1/I) is derived from the share's id, is never cut, and is what traces a leaked screenshot
even where the name cannot be read; the owner finds it beside the share in the share list.
When room runs short the time goes first, then the name is cut with an ellipsis; a picture too
narrow even for the code (under about 64 pixels) gets no caption. The text is drawn by `text`,
with glyphs that ship with the integration: no font needs to be installed.

`SharedPicture` encodes a filtered picture once; each viewer's caption is spliced in as the
bytes of its own band (see `splice`), so a viewer costs a copy of the picture, not an encoding.
"""

from __future__ import annotations

import functools
import hashlib
import math
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from .frames import JPEG_QUALITY
from .splice import MCU, SplicedJpeg, encode, interval_blocks, pieces
from .text import GLYPH_ROWS, Ink, fit, ink, visual

type RGB = NDArray[np.uint8]

# Text height as a share of the picture height, never below a readable minimum; the glyphs are
# 16 pixels high and scaled by the whole number nearest to that height.
WATERMARK_SHARE: Final = 1 / 24
WATERMARK_MIN_PX: Final = 12
WATERMARK_BACKGROUND: Final = (24, 24, 24)
WATERMARK_TEXT: Final = (255, 255, 255)
_BACKGROUND: Final = np.array(WATERMARK_BACKGROUND, dtype=np.uint8)
SEPARATOR: Final = " · "
# 32 characters without 0/O and 1/I: six of them give about a billion codes, read off a blurred
# screenshot without doubt; a household's shares all differ but by an astronomical chance.
SHARE_CODE_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SHARE_CODE_LENGTH: Final = 6
# The time is dropped before the name gets fewer glyph pixels than this (six Latin letters).
MIN_NAME_PX: Final = 48


def share_code(share_id: str) -> str:
    """Return the short code that a share's captions carry: six characters, the same for ever."""
    digest = int.from_bytes(hashlib.sha256(share_id.encode()).digest()[:8], "big")
    return "".join(
        SHARE_CODE_ALPHABET[(digest >> (5 * index)) & 31] for index in range(SHARE_CODE_LENGTH)
    )


class CaptionText(NamedTuple):
    """What one viewer's caption says: their name, their share's code and the time."""

    viewer: str
    code: str
    stamp: str = ""


def _scale(height: int) -> int:
    """Return the whole-pixel scale of the glyphs for a picture height."""
    size = max(WATERMARK_MIN_PX, round(height * WATERMARK_SHARE))
    return max(1, round(size / GLYPH_ROWS))


def caption_line(text: CaptionText, room: int) -> Ink | None:
    """Return the caption's pixels at glyph size within `room` glyph pixels, or None.

    The code always stays; the time goes before the name is squeezed below MIN_NAME_PX.
    """
    viewer, code, stamp = text
    fixed = ink(code)
    if fixed.shape[1] > room:
        return None
    tail = ink(SEPARATOR + stamp) if stamp else None
    separator = ink(SEPARATOR)
    full_name = ink(visual(viewer)).shape[1]
    needed = min(full_name, MIN_NAME_PX) + separator.shape[1] if full_name else 0
    if tail is not None and fixed.shape[1] + tail.shape[1] + needed > room:
        tail = None  # the name matters more than the time
    free = room - fixed.shape[1] - (0 if tail is None else tail.shape[1]) - separator.shape[1]
    name = fit(viewer, free) if free > 0 else ""
    parts = [ink(name), separator] if name else []
    parts.append(fixed)
    if tail is not None:
        parts.append(tail)
    return np.hstack(parts)


@functools.lru_cache(maxsize=64)
def _caption(text: CaptionText, height: int, width: int) -> RGB | None:
    """Return a picture size's caption, text on a solid box; None when not even the code fits.

    The box is solid and fills whole restart intervals of the JPEG, so a viewer's band holds
    nothing of the picture and is encoded once a second, when its time changes (see
    `SharedPicture`), rather than with every frame.
    """
    scale = _scale(height)
    pad = max(2, scale * GLYPH_ROWS // 3)
    line = caption_line(text, (width - 4 * pad) // scale)
    if line is None:
        return None
    if scale > 1:
        line = np.repeat(np.repeat(line, scale, axis=0), scale, axis=1)
    line_height, line_width = line.shape
    step = interval_blocks(width) * MCU
    box_width = min(width, math.ceil((line_width + 2 * pad) / step) * step)
    box_height = height - (height - min(height, line_height + 2 * pad)) // MCU * MCU
    # Tiling the colour is several times faster than assigning it to every pixel.
    caption = np.tile(_BACKGROUND, (box_height, box_width, 1))
    top = max(0, (box_height - line_height) // 2)
    shown = line[: box_height - top, : box_width - pad]
    caption[top : top + shown.shape[0], pad : pad + shown.shape[1]][shown] = WATERMARK_TEXT
    caption.flags.writeable = False  # shared by every caller of the cache
    return caption


@functools.lru_cache(maxsize=64)
def _caption_band(
    text: CaptionText, height: int, width: int, quality: int
) -> tuple[int, list[bytes]] | None:
    """Return the first row of a viewer's caption and the caption encoded alone, or None."""
    caption = _caption(text, height, width)
    if caption is None:
        return None
    band = encode(Image.fromarray(caption), quality, interval_blocks(width))
    return height - caption.shape[0], pieces(band)


def watermark(out: RGB, text: CaptionText) -> None:
    """Burn the caption into the bottom-left corner of a whole picture, in place."""
    height, width = out.shape[:2]
    caption = _caption(text, height, width)
    if caption is not None:
        out[height - caption.shape[0] :, : caption.shape[1]] = caption


class SharedPicture:
    """A filtered picture encoded once; each viewer's caption is put into a copy of the bytes.

    The JPEG restarts every few MCUs and the caption fills whole intervals, so the caption's
    band, encoded alone, replaces the same band of the shared encoding byte for byte (see
    `splice`): a viewer costs a copy of the picture's bytes, not an encoding.
    """

    def __init__(self, filtered: RGB, quality: int = JPEG_QUALITY) -> None:
        """Encode the filtered picture once."""
        self._quality = quality
        self._height, self._width = filtered.shape[:2]
        blocks = interval_blocks(self._width)
        self._base = SplicedJpeg(
            encode(Image.fromarray(filtered), quality, blocks), self._width, self._height, blocks
        )

    def for_viewer(self, viewer: str, code: str, stamp: str) -> bytes:
        """Return the picture as JPEG with the viewer's name, share code and time burned in."""
        text = CaptionText(viewer, code, stamp)
        band = _caption_band(text, self._height, self._width, self._quality)
        if band is None:
            return self._base.jpeg
        return self._base.with_band(*band)
