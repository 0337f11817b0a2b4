"""Tests for frames: the views analysis, stills and sharing ask for."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from custom_components.home_guardian.engine import frame_source
from custom_components.home_guardian.engine.frame_source import (
    Problem,
    StreamError,
    iter_frames,
    open_stream,
)
from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.urls import StreamAddress
from tests.common import as_players_show, shared_clip, turned_clip


def first_frame() -> Frame:
    """Return the first frame of a real clip."""
    container = open_stream(StreamAddress(url=str(shared_clip("vtest.avi"))))
    try:
        return next(iter_frames(container))
    finally:
        container.close()


def test_video_frame_views() -> None:
    """A decoded video frame gives RGB, a small grey copy and a JPEG of the same picture."""
    frame = first_frame()
    rgb = frame.rgb()
    assert rgb.shape == (576, 768, 3)
    assert frame.rgb() is rgb  # computed once
    grey = frame.grey(144)
    assert grey.shape == (144, 192)
    assert grey.dtype == np.uint8
    # The small grey copy is the picture's luma, area-averaged.
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    assert abs(float(grey.mean()) - float(luma.mean())) < 4
    with Image.open(io.BytesIO(frame.jpeg())) as picture:
        assert picture.size == (768, 576)


def test_still_image_frame_views() -> None:
    """A picture from a snapshot keeps the camera's JPEG and gives the same views."""
    image = Image.new("RGB", (320, 240), (200, 100, 50))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    frame = Frame(image, sequence=1, monotonic=0.0, wall=0.0, jpeg=buffer.getvalue())
    assert frame.jpeg() == buffer.getvalue()
    assert frame.rgb()[0, 0].tolist() == [200, 100, 50]
    assert frame.grey(60).shape == (60, 80)
    assert frame.grey(1000).shape == (240, 320)  # never scaled up
    assert (frame.width, frame.height) == (320, 240)
    fresh = Frame(image, sequence=2, monotonic=0.0, wall=0.0)
    assert fresh.jpeg()[:2] == b"\xff\xd8"


def test_huge_frames_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A camera sending absurdly large frames is refused instead of eating memory."""
    monkeypatch.setattr(frame_source, "MAX_PIXELS", 640 * 480)
    container = open_stream(StreamAddress(url=str(shared_clip("vtest.avi"))))
    try:
        with pytest.raises(StreamError) as err:
            next(iter_frames(container))
    finally:
        container.close()
    assert err.value.problem is Problem.TOO_LARGE


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_a_picture_stored_on_its_side_says_how_players_turn_it(
    degrees: int, tmp_path: Path
) -> None:
    """A phone's note to turn its picture is read the way FFmpeg's own player path turns it."""
    clip = turned_clip(tmp_path, degrees)
    container = open_stream(StreamAddress(url=str(clip)))
    try:
        turns = round(frame_source.stream_rotation(container.streams.video[0]) / 90) % 4
        frame = next(iter_frames(container))
    finally:
        container.close()
    assert (frame.width, frame.height) == (320, 240)  # as stored
    assert (turns == 0) == (degrees == 0)
    shown = as_players_show(clip)
    upright = np.rot90(frame.grey(frame.height), turns)
    assert upright.shape == shown.shape
    assert float(np.abs(upright.astype(float) - shown).mean()) < 2


def test_a_display_matrix_that_squashes_the_picture_has_no_turn() -> None:
    """A stream without a note is not turned, nor one whose matrix makes no sense."""
    container = open_stream(StreamAddress(url=str(shared_clip("vtest.avi"))))
    try:
        assert frame_source.stream_rotation(container.streams.video[0]) == 0.0
    finally:
        container.close()
    flat = np.zeros(9, dtype=np.int32).tobytes()
    assert math.isnan(frame_source._display_rotation(flat))
    assert frame_source._display_rotation(b"short") == 0.0
    quarter = np.array([0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30], dtype=np.int32).tobytes()
    assert frame_source._display_rotation(quarter) == pytest.approx(-90.0)
