"""Splicing watermark bands into a JPEG encoded once: byte for byte what a full encode gives."""

from __future__ import annotations

import io

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image
import pytest

from custom_components.home_guardian.engine.splice import (
    MCU,
    SplicedJpeg,
    encode,
    interval_blocks,
    pieces,
)
from custom_components.home_guardian.engine.watermark import (
    CaptionText,
    SharedPicture,
    watermark,
)
from tests.common import shared_clip

type RGB = NDArray[np.uint8]

QUALITY = 80
# Sizes of real cameras and awkward ones: partial MCUs at the right and bottom edges.
SIZES = [(360, 640), (576, 768), (1080, 1920), (350, 630), (100, 90), (17, 33)]
LABELS = [
    CaptionText("Anna's parents", "K7QX2M", "14:03:22"),
    CaptionText("x", "K7QX2M"),
    CaptionText("A very long viewer name " * 10, "K7QX2M", "9:00"),
    CaptionText("张伟 · Дмитрий · محمد", "23456Z", "9:00"),
]


def real_pictures() -> list[RGB]:
    """Return three frames of real CCTV footage, far apart."""
    with av.open(str(shared_clip("vtest.avi"))) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return [frames[0], frames[len(frames) // 2], frames[-1]]


def decoded(jpeg: bytes) -> RGB:
    """Return a JPEG's pixels."""
    with Image.open(io.BytesIO(jpeg)) as picture:
        return np.array(picture.convert("RGB"))


def full_encode(rgb: RGB, text: CaptionText) -> bytes:
    """Burn the watermark into a copy of the whole picture and encode all of it."""
    out = rgb.copy()
    watermark(out, text)
    return encode(Image.fromarray(out), QUALITY, interval_blocks(rgb.shape[1]))


@pytest.mark.parametrize(("height", "width"), SIZES)
def test_spliced_pictures_equal_full_encodes_on_real_footage(height: int, width: int) -> None:
    """Every viewer's picture is the exact bytes of watermarking and encoding it whole."""
    for frame in real_pictures():
        rgb = np.asarray(Image.fromarray(frame).resize((width, height)))
        shared = SharedPicture(rgb, QUALITY)
        for text in LABELS:
            spliced = shared.for_viewer(*text)
            assert spliced == full_encode(rgb, text)
            with Image.open(io.BytesIO(spliced)) as picture:
                assert picture.size == (width, height)


def test_viewers_differ_only_in_their_watermark() -> None:
    """Two viewers' pictures decode to the same pixels outside the bottom-left corner."""
    rgb = real_pictures()[1]
    shared = SharedPicture(rgb, QUALITY)
    first, second = (decoded(shared.for_viewer(name, "K7QX2M", "9:00")) for name in ("Anna", "Ben"))
    differs = (first != second).any(axis=2)
    rows, cols = np.nonzero(differs)
    assert differs.any()
    assert rows.min() >= rgb.shape[0] - 64
    assert cols.max() < rgb.shape[1] // 2


def test_no_room_for_a_watermark_gives_the_shared_encoding() -> None:
    """A picture too small for any text is sent as it was encoded for everyone."""
    rgb = np.full((16, 12, 3), 90, dtype=np.uint8)
    shared = SharedPicture(rgb, QUALITY)
    alone = encode(Image.fromarray(rgb), QUALITY, 1)
    assert shared.for_viewer("Grandma", "K7QX2M", "9:00") == alone


def test_restart_intervals_divide_a_row_and_stay_narrow() -> None:
    """Intervals split each MCU row evenly, about 80 pixels wide where the width allows."""
    assert interval_blocks(640) == 5  # 40 MCUs a row, 80 px each
    assert interval_blocks(1920) == 5
    assert interval_blocks(33) == 3  # 3 MCUs a row: one interval of 48 px
    for width in (90, 630, 768, 1366, 2560):
        blocks = interval_blocks(width)
        assert -(-width // MCU) % blocks == 0


def test_wrong_inputs_are_refused() -> None:
    """Pictures and bands that do not follow the intervals are refused, never mixed up."""
    rgb = np.zeros((64, 160, 3), dtype=np.uint8)
    image = Image.fromarray(rgb)
    with pytest.raises(ValueError, match="restart"):
        SplicedJpeg(encode(image, QUALITY, 0), 160, 64, 5)  # no restart markers at all
    with pytest.raises(ValueError, match="marker"):
        SplicedJpeg(b"\xff\xd8\x00\x00", 160, 64, 5)
    jpeg = SplicedJpeg(encode(image, QUALITY, 5), 160, 64, 5)
    band = encode(Image.fromarray(rgb[32:]), QUALITY, 5)
    assert jpeg.with_band(32, pieces(band)) == jpeg.jpeg
    with pytest.raises(ValueError, match="band"):
        jpeg.with_band(24, pieces(band))  # not on an MCU row
    wide = encode(Image.fromarray(np.zeros((32, 320, 3), dtype=np.uint8)), QUALITY, 5)
    with pytest.raises(ValueError, match="band"):
        jpeg.with_band(32, pieces(wide))  # wider than the picture
