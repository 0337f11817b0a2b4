"""Put a re-encoded band into a JPEG without encoding the rest again, through restart markers.

A baseline JPEG whose coded data restarts every few MCUs is a grid of independent pieces. A band
cut from the picture on MCU lines and encoded with the same settings gives byte for byte the
same pieces wherever its pixels are the same. So a picture shared with many viewers is encoded
once, and each viewer's watermark costs only the encoding of the small band it covers.
"""

from __future__ import annotations

from collections.abc import Sequence
import functools
import io
import math
import re
from typing import Final

from PIL import Image

# With 4:2:0 chroma, the only subsampling used here, one MCU covers 16 x 16 pixels.
MCU: Final = 16
# Narrow intervals let small bands be swapped; each interval costs a marker of a few bytes.
INTERVAL_PX: Final = 80
_SOS: Final = 0xDA
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")
_MARKERS: Final = tuple(bytes((0xFF, 0xD0 + number)) for number in range(8))
_END: Final = b"\xff\xd9"


@functools.lru_cache(maxsize=16)
def interval_blocks(width: int) -> int:
    """Return the MCUs per restart interval for a width: a divisor of a row, about 80 px wide."""
    per_row = math.ceil(width / MCU)
    divisors = [size for size in range(1, per_row + 1) if per_row % size == 0]
    return min(divisors, key=lambda size: (abs(size * MCU - INTERVAL_PX), size))


def encode(image: Image.Image, quality: int, blocks: int) -> bytes:
    """Encode a picture as a baseline 4:2:0 JPEG restarting every `blocks` MCUs."""
    buffer = io.BytesIO()
    image.save(
        buffer, format="JPEG", quality=quality, subsampling="4:2:0", restart_marker_blocks=blocks
    )
    return buffer.getvalue()


def pieces(jpeg: bytes) -> list[bytes]:
    """Return a JPEG's coded data cut at its restart markers, as `with_band` takes a band."""
    return _split(jpeg)[1]


def _split(jpeg: bytes) -> tuple[bytes, list[bytes]]:
    """Return the headers up to the scan's data, and the data's pieces between restart markers."""
    at = 2
    while True:
        if jpeg[at] != 0xFF:  # noqa: PLR2004 - every header segment starts with a marker
            raise ValueError("not a baseline JPEG: a header segment is not a marker")
        marker = jpeg[at + 1]
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
        if marker == _SOS:
            break
    end = jpeg.rindex(_END)
    return jpeg[:at], _RESTART.split(jpeg[at:end])


class SplicedJpeg:
    """A JPEG cut into its restart intervals, into which bands of the same picture are put."""

    def __init__(self, jpeg: bytes, width: int, height: int, blocks: int) -> None:
        """Cut `jpeg`, a `width` x `height` picture encoded by `encode` with `blocks`."""
        self.jpeg = jpeg
        self.width, self.height, self.blocks = width, height, blocks
        self.per_row = math.ceil(width / MCU) // blocks
        head, pieces = _split(jpeg)
        if len(pieces) != math.ceil(height / MCU) * self.per_row:
            raise ValueError("the JPEG does not restart where it was meant to")
        # Headers, then piece, marker, piece...: piece k sits at index 1 + 2k.
        self._parts = [head, pieces[0]]
        for number, piece in enumerate(pieces[1:]):
            self._parts += (_MARKERS[number % 8], piece)
        self._parts.append(_END)

    def with_band(self, top: int, band: Sequence[bytes]) -> bytes:
        """Return the JPEG with the band from row `top` replaced by a band's `pieces`."""
        rows = math.ceil((self.height - top) / MCU)
        across = len(band) // rows
        if top % MCU or across * rows != len(band) or across > self.per_row:
            raise ValueError("the band does not fit the picture's restart intervals")
        parts = self._parts.copy()
        first = top // MCU
        for row in range(rows):
            start = 1 + 2 * (first + row) * self.per_row
            parts[start : start + 2 * across : 2] = band[row * across : (row + 1) * across]
        return b"".join(parts)
