"""Tests for the picture source: cameras that give pictures, not a stream."""

from __future__ import annotations

import io
import itertools
import struct
import time
import zlib

from PIL import Image
import pytest

from custom_components.home_guardian.engine import picture_source
from custom_components.home_guardian.engine.frame_source import (
    Problem,
    SourceState,
    StreamError,
)
from custom_components.home_guardian.engine.picture_source import PictureSource, decode_picture


def wait_until(condition, timeout: float = 10.0) -> None:
    """Wait in real time until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def png_claiming(width: int, height: int) -> bytes:
    """Return a tiny PNG whose header claims another size, as a hostile camera might send."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def test_decode_keeps_the_cameras_jpeg(clip_jpegs: list[bytes]) -> None:
    """A JPEG is decoded once and its own bytes are what stills send."""
    frame = decode_picture(clip_jpegs[0], sequence=7)
    assert frame.sequence == 7
    assert frame.width == 640
    assert frame.jpeg() is clip_jpegs[0]
    assert frame.grey(144).shape[0] == 144


def test_decode_other_formats_and_bad_pictures() -> None:
    """PNG and palette pictures decode; empty, broken and oversized ones are refused clearly."""
    buffer = io.BytesIO()
    Image.new("P", (32, 24)).save(buffer, format="PNG")
    frame = decode_picture(buffer.getvalue(), sequence=1)
    assert frame.jpeg()[:2] == b"\xff\xd8"
    assert frame.rgb().shape == (24, 32, 3)
    for data in (b"", b"<html>login</html>", buffer.getvalue()[:40], png_claiming(20000, 20000)):
        with pytest.raises(StreamError) as err:
            decode_picture(data, sequence=1)
        assert err.value.problem is Problem.NO_PICTURE


def test_polls_at_its_pace_and_reports_a_frozen_camera(
    clip_jpegs: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """New pictures become frames at the set pace; the same picture over and over does not."""
    monkeypatch.setattr(picture_source, "SAME_PICTURE_SECONDS", 0.5)
    served: list[float] = []
    pictures = iter(clip_jpegs[:5])
    frozen = clip_jpegs[5]

    def fetch() -> bytes:
        served.append(time.monotonic())
        return next(pictures, frozen)

    source = PictureSource(fetch, name="test", interval=0.1)
    source.start()
    try:
        assert source.wait_for_first(5).frames == 1
        wait_until(lambda: source.status.problem is Problem.SAME_PICTURE)
    finally:
        source.stop()
    assert source.status.frames == 6
    gaps = [b - a for a, b in itertools.pairwise(served)]
    assert min(gaps) >= 0.09
    # Reported only once the same picture had come for the whole span, then left to age.
    assert served[-1] - served[5] >= 0.5
    assert source.latest_if_fresh(60) is not None
    time.sleep(0.3)
    assert source.latest_if_fresh(0.2) is None


def test_a_cached_picture_stays_fresh_until_the_span_passes(
    clip_jpegs: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A picture repeated by an integration's cache is an answer: its frame stays fresh."""
    monkeypatch.setattr(picture_source, "SAME_PICTURE_SECONDS", 2.5)
    started = time.monotonic()

    def fetch() -> bytes:
        # A cloud camera whose integration refreshes its picture every 1.2 s.
        return clip_jpegs[int((time.monotonic() - started) / 1.2) % len(clip_jpegs)]

    source = PictureSource(fetch, name="cloud", interval=0.05)
    source.start()
    try:
        assert source.wait_for_first(5).frames == 1
        stale = 0
        # Fresh within 0.6 s throughout, though the picture changes only every 1.2 s; a busy
        # machine would have to stall the reader for half a second to fail it.
        for _ in range(60):
            time.sleep(0.05)
            stale += source.latest_if_fresh(0.6) is None
        assert stale == 0
        assert source.status.problem is None
    finally:
        source.stop()


def test_failures_are_retried_and_recovered(clip_jpegs: list[bytes]) -> None:
    """A source that fails for a while is blind, then read again without help."""
    answers: list[bytes | StreamError] = [StreamError(Problem.SOURCE_UNAVAILABLE), *clip_jpegs]

    def fetch() -> bytes:
        answer = answers.pop(0)
        if isinstance(answer, StreamError):
            raise answer
        return answer

    source = PictureSource(fetch, name="test", interval=0.05)
    problems: list[Problem | None] = []
    source.add_status_listener(lambda status: problems.append(status.problem))
    source.start()
    try:
        wait_until(lambda: source.status.frames >= 3)
    finally:
        source.stop()
    assert problems[0] is Problem.SOURCE_UNAVAILABLE
    assert None in problems
    assert source.status.state is SourceState.STOPPED


def test_failures_are_not_retried_faster_than_the_owners_pace() -> None:
    """A camera asked for a picture every 1.5 s is retried 1.5 s, then 3 s after failures."""
    asked: list[float] = []

    def fetch() -> bytes:
        asked.append(time.monotonic())
        raise StreamError(Problem.NO_PICTURE, "asleep")

    source = PictureSource(fetch, name="test", interval=1.5)
    source.start()
    try:
        wait_until(lambda: len(asked) >= 3, timeout=10)
    finally:
        source.stop()
    gaps = [later - earlier for earlier, later in itertools.pairwise(asked)]
    assert 1.4 < gaps[0] < 2.5, gaps
    assert 2.9 < gaps[1] < 4.0, gaps
