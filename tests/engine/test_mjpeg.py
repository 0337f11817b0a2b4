"""Cutting MJPEG streams into pictures by their markers, whatever the parts' headers say."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import io
import itertools

from PIL import Image
import pytest

from custom_components.home_guardian.engine import mjpeg
from custom_components.home_guardian.engine.mjpeg import MjpegParts, clean_part


def jpeg(seed: int, *, progressive: bool = False, size: tuple[int, int] = (64, 48)) -> bytes:
    """Return a real JPEG of noise, different for each seed."""
    picture = Image.effect_noise(size, 40 + seed).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, progressive=progressive)
    return out.getvalue()


def with_thumbnail(picture: bytes) -> bytes:
    """Return a JPEG carrying another whole JPEG in an APP1 segment, as EXIF thumbnails are."""
    thumbnail = jpeg(99, size=(16, 12))
    payload = b"Exif\x00\x00" + thumbnail
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return picture[:2] + segment + picture[2:]


def reader(stream: bytes, chunk: int) -> tuple[Callable[[], bytes], list[int]]:
    """Return a read function serving `stream` `chunk` bytes at a time, and the reads' ends."""
    chunks = iter([stream[i : i + chunk] for i in range(0, len(stream), chunk)])
    ends: list[int] = []

    def read() -> bytes:
        data = next(chunks, b"")
        ends.append((ends[-1] if ends else 0) + len(data))
        return data

    return read, ends


def pictures_of(stream: bytes, chunk: int, *, cap: int = 1 << 20) -> tuple[list[bytes], MjpegParts]:
    """Return every picture cut from a stream read `chunk` bytes at a time."""
    read, _ = reader(stream, chunk)
    parts = MjpegParts(read, cap)
    found = list(iter(parts.next_picture, None))
    return found, parts


def part(picture: bytes, head: bytes, eol: bytes = b"\r\n") -> bytes:
    """Return one multipart part: its header lines (their ends given), a blank line, the picture."""
    return head.replace(b"\r\n", eol) + eol + picture + eol


PICTURES = [jpeg(i) for i in range(5)]
CHUNKS = [1, 7, 4096, 1 << 20]


def heads() -> Iterator[tuple[str, Callable[[bytes], bytes]]]:
    """Yield what odd cameras put around their pictures, by name."""
    typed = b"--frame\r\nContent-Type: image/jpeg\r\n"

    def length(delta: int, eol: bytes = b"\r\n") -> Callable[[bytes], bytes]:
        return lambda p: part(p, typed + b"Content-Length: %d\r\n" % (len(p) + delta), eol)

    yield "well formed", length(0)
    yield "length 2 short", length(-2)
    yield "length 50 long", length(50)
    yield "length 3000 long", length(3000)
    yield "bare line feeds with a length", length(0, b"\n")
    yield "bare line feeds without a length", lambda p: part(p, typed, b"\n")
    yield "no type, no length", lambda p: part(p, b"--frame\r\nX-Timestamp: 12\r\n")
    yield "no headers at all", lambda p: b"--frame\r\n\r\n" + p
    yield "no boundary at all", lambda p: p
    yield "padding after the end", lambda p: part(p + b"\x00" * 9 + b"\xff" * 3, typed)


@pytest.mark.parametrize(("name", "wrap"), list(heads()), ids=[name for name, _ in heads()])
@pytest.mark.parametrize("chunk", CHUNKS)
def test_every_picture_comes_whole_whatever_its_part_says(
    name: str, wrap: Callable[[bytes], bytes], chunk: int
) -> None:
    """Each picture is cut from its start to its end marker, byte for byte."""
    stream = b"\r\n" + b"".join(wrap(p) for p in PICTURES)
    found, parts = pictures_of(stream, chunk)
    assert found == PICTURES, name
    assert not parts.too_large
    assert not parts.no_pictures


@pytest.mark.parametrize("chunk", CHUNKS)
def test_pictures_holding_markers_inside_come_whole(chunk: int) -> None:
    """An EXIF thumbnail's own end, progressive scans and fill bytes do not end a picture."""
    odd = [
        with_thumbnail(PICTURES[0]),
        jpeg(7, progressive=True),
        PICTURES[1][:-2] + b"\xff\xff\xff\xd9",
        # Fill bytes before a segment's marker, and a restart marker between segments.
        PICTURES[2][:2] + b"\xff\xff" + PICTURES[2][2:],
        PICTURES[3][:2] + b"\xff\xd0" + PICTURES[3][2:],
    ]
    stream = b"".join(part(p, b"--frame\r\n") for p in odd)
    found, _ = pictures_of(stream, chunk)
    assert found == odd
    for picture in found[:4]:
        assert Image.open(io.BytesIO(picture)).size


@pytest.mark.parametrize("chunk", CHUNKS)
def test_a_picture_without_its_end_marker_ends_at_the_next_boundary(chunk: int) -> None:
    """Encoders that leave the end marker out still give pictures, ended by the boundary line."""
    cut = [p[:-2] for p in PICTURES[:3]]
    stream = b"".join(part(p, b"--frame\r\nContent-Type: image/jpeg\r\n") for p in cut)
    stream += part(PICTURES[3], b"--frame\r\n")
    found, _ = pictures_of(stream, chunk)
    assert found == [*cut, PICTURES[3]]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_broken_bytes_cost_their_picture_only(chunk: int) -> None:
    """A false start, a marker with a broken length or bare garbage never hides what follows."""
    garbage = [
        b"\xff\xd8\xff\xe0\x00\x01",  # a segment length shorter than itself
        b"\xff\xd8\xff\xe0\x00\x04AB" + b"xyz",  # no marker where one must be
        b"\xff\xd8\xff",  # a start and nothing more, then the next part's text
        bytes(range(256)) * 3,
        PICTURES[0][:300],  # a picture cut off in its headers
    ]
    stream = b"".join(
        g + part(p, b"\r\n--frame\r\n") for g, p in zip(garbage, PICTURES, strict=True)
    )
    # A picture cut off in its coded data, the next one right after it with no boundary.
    stream += PICTURES[0][:-300] + PICTURES[1]
    found, _ = pictures_of(stream, chunk)
    assert found == [*PICTURES, PICTURES[1]]


def test_a_picture_is_handed_on_as_soon_as_its_end_arrived() -> None:
    """Nothing after a picture's end marker is waited for: no picture comes a part late."""
    stream = b"".join(part(p, b"--frame\r\n") for p in PICTURES)
    read, ends = reader(stream, 1)
    parts = MjpegParts(read, 1 << 20)
    for picture in PICTURES:
        assert parts.next_picture() == picture
        # The last byte read is the picture's last.
        assert stream[: ends[-1]].endswith(picture)


def test_a_part_that_never_ends_is_cut_off_at_the_cap() -> None:
    """A picture that starts and never ends is given up once the cap was read, holding no more."""
    endless = itertools.chain([part(PICTURES[0], b"--frame\r\n") + PICTURES[1][:-2]])
    zeros = itertools.repeat(b"\x00" * 4096)
    chunks = itertools.chain(endless, zeros)
    read_bytes = [0]

    def read() -> bytes:
        data = next(chunks)
        read_bytes[0] += len(data)
        return data

    parts = MjpegParts(read, 100_000)
    assert parts.next_picture() == PICTURES[0]
    assert parts.next_picture() is None
    assert parts.too_large
    assert not parts.no_pictures
    assert read_bytes[0] < 100_000 + 2 * 4096 + len(PICTURES[0]) + len(PICTURES[1]) + 100


def test_parts_that_hold_no_jpeg_end_the_stream_as_no_pictures() -> None:
    """A multipart answer of text or other pictures is no MJPEG camera, told after 1 MiB."""
    text = part(b"<html>" + b"x" * 10_000 + b"</html>", b"--frame\r\nContent-Type: text/html\r\n")
    found, parts = pictures_of(text * 120, 65536, cap=1 << 24)
    assert found == []
    assert parts.no_pictures
    assert not parts.too_large
    assert len(text * 120) > mjpeg.NO_PICTURE_BYTES


def test_a_clean_part_says_its_true_length() -> None:
    """FFmpeg reads exactly the picture, after a typed header and before a line's end."""
    cleaned = clean_part(PICTURES[0])
    head, _, rest = cleaned.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [
        mjpeg.BOUNDARY,
        b"Content-Type: image/jpeg",
        b"Content-Length: %d" % len(PICTURES[0]),
    ]
    assert rest == PICTURES[0] + b"\r\n"
