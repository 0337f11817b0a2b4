"""Decoded pictures, with the cheap views of them that analysis, stills and sharing ask for."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image

if TYPE_CHECKING:
    import av

JPEG_QUALITY: Final = 80


class Frame:
    """One decoded picture and when it arrived; its views are computed once, on first use."""

    __slots__ = ("_grey", "_jpeg", "_lock", "_picture", "_rgb", "monotonic", "sequence", "wall")

    def __init__(
        self,
        picture: av.VideoFrame | Image.Image,
        *,
        sequence: int,
        monotonic: float,
        wall: float,
        jpeg: bytes | None = None,
    ) -> None:
        """Wrap a decoded picture; `jpeg` is the camera's own encoding when it sent one."""
        self._picture = picture
        self.sequence = sequence
        self.monotonic = monotonic
        self.wall = wall
        self._jpeg = jpeg
        self._grey: dict[int, NDArray[np.uint8]] = {}
        self._rgb: NDArray[np.uint8] | None = None
        # Views are asked for from the reader thread and executor threads at once.
        self._lock = threading.Lock()

    @property
    def width(self) -> int:
        """Return the picture's width in pixels."""
        return self._picture.width

    @property
    def height(self) -> int:
        """Return the picture's height in pixels."""
        return self._picture.height

    @property
    def stream_time(self) -> float | None:
        """Return when the picture is shown in its stream, in seconds; None if unknown."""
        if isinstance(self._picture, Image.Image):
            return None
        return self._picture.time

    def grey(self, height: int) -> NDArray[np.uint8]:
        """Return a small greyscale copy `height` pixels high, aspect kept, for analysis."""
        with self._lock:
            cached = self._grey.get(height)
            if cached is None:
                cached = self._grey[height] = self._make_grey(min(height, self.height))
            return cached

    def rgb(self) -> NDArray[np.uint8]:
        """Return the full picture as an RGB array (height x width x 3, uint8)."""
        with self._lock:
            rgb = self._rgb
            if rgb is None:
                if isinstance(self._picture, Image.Image):
                    rgb = np.asarray(self._picture.convert("RGB"))
                else:
                    rgb = np.asarray(self._picture.to_ndarray(format="rgb24"), dtype=np.uint8)
                self._rgb = rgb
            return rgb

    def jpeg(self) -> bytes:
        """Return the picture as JPEG, the camera's own bytes when it sent JPEG."""
        with self._lock:
            if self._jpeg is None:
                self._jpeg = encode_jpeg(self._rgb_image())
            return self._jpeg

    def _rgb_image(self) -> Image.Image:
        """Return the picture as a Pillow RGB image."""
        if isinstance(self._picture, Image.Image):
            return self._picture.convert("RGB")
        return self._picture.to_image()

    def _make_grey(self, height: int) -> NDArray[np.uint8]:
        """Scale the luma down cheaply; the motion detector models the noise that remains."""
        width = max(1, round(self.width * height / self.height))
        # Even widths keep swscale on its fast path and make results independent of odd sizes.
        width += width % 2
        if isinstance(self._picture, Image.Image):
            small = self._picture.convert("L").resize((width, height), Image.Resampling.BOX)
            return np.asarray(small)
        # Fast bilinear costs a third of area averaging on a 720p frame, and the detector, which
        # learns each pixel's noise, finds the same motion on the shared footage with either.
        small_frame = self._picture.reformat(
            width=width, height=height, format="gray", interpolation="FAST_BILINEAR"
        )
        return np.asarray(small_frame.to_ndarray(), dtype=np.uint8)


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """Encode a Pillow image as a baseline JPEG that every browser shows."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
