"""Cut an MJPEG camera's stream into its pictures by the pictures' own markers.

Cheap cameras' multipart answers often say wrong things about their parts: a Content-Length a
few bytes off, bare line feeds and no length at all, no Content-Type, a blank line before the
first boundary. FFmpeg's demuxer believes the headers, and gets one picture per connection, or
none, or the part's headers inside the picture. A JPEG says itself where it ends: each picture
here runs from its start marker to its end marker, whatever the headers say, and is handed on
the moment its end arrives, not when the next part begins. The demuxer then reads clean parts,
each with its true length (see `clean_part`).

A picture without its end marker (some encoders leave it out) ends at the boundary line before
the next picture, as FFmpeg would have cut it; bytes that are no picture are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
import re
from typing import Final

__all__ = ["MjpegParts", "clean_part"]

START: Final = b"\xff\xd8\xff"
# Every marker starts with this byte.
_MARK: Final = 0xFF
_END_MARKER: Final = 0xD9
_START_MARKER: Final = 0xD8
_SCAN_MARKER: Final = 0xDA
# Markers that stand alone, with no length after them: restarts and TEM.
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})
# In coded data, 0xFF is followed by 0x00 (a stuffed byte), a restart marker or more 0xFF
# (fill): any other byte after it is a marker, the end of the data.
_MARKER_IN_DATA: Final = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# Bytes read without any picture starting: the parts are something else than JPEGs.
NO_PICTURE_BYTES: Final = 1024 * 1024
BOUNDARY: Final = b"--picture"


def clean_part(picture: bytes) -> bytes:
    """Return a picture as one well-formed part of a multipart stream, for FFmpeg to demux."""
    head = b"%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % (
        BOUNDARY,
        len(picture),
    )
    return head + picture + b"\r\n"


class MjpegParts:
    """The pictures of an MJPEG stream, read a chunk at a time with `read` (b"" at its end)."""

    def __init__(self, read: Callable[[], bytes], max_part_bytes: int, first: bytes = b"") -> None:
        """Read nothing yet; `first` is what was already read of the stream."""
        self._read = read
        self._max_part_bytes = max_part_bytes
        self._buffer = bytearray(first)
        # Bytes read since the last picture: a part that never ends is cut off at the cap.
        self._since_picture = len(first)
        self._pictures = 0
        self.too_large = False
        self.no_pictures = False

    def next_picture(self) -> bytes | None:
        """Return the next whole picture; None once the stream ended or had to be given up."""
        walk = _Walk(self._buffer)
        while True:
            picture = walk.picture()
            if picture is not None:
                start, end = picture
                taken = bytes(self._buffer[start:end])
                del self._buffer[: walk.consumed]
                self._since_picture = len(self._buffer)
                self._pictures += 1
                return taken
            if walk.dropped:
                # Bytes that can no longer be part of any picture go now, not at the cap.
                del self._buffer[: walk.dropped]
                walk.rebase()
            if not self._more():
                return None

    def _more(self) -> bool:
        """Read the next chunk into the buffer; return False when there is no more to read."""
        if self._since_picture > self._max_part_bytes:
            self.too_large = True
            return False
        if (
            not self._pictures
            and self._since_picture > NO_PICTURE_BYTES
            and START not in self._buffer
        ):
            self.no_pictures = True
            return False
        chunk = self._read()
        if not chunk:
            return False
        self._buffer += chunk
        self._since_picture += len(chunk)
        return True


class _Walk:
    """Where the search for a whole picture in a buffer stands, kept across reads."""

    def __init__(self, buffer: bytearray) -> None:
        """Search from the buffer's start."""
        self._buffer = buffer
        self._start: int | None = None
        self._at = 0
        self._in_data = False
        # Where to look for the next start marker should this picture prove broken.
        self._resync = 0
        self.consumed = 0
        self.dropped = 0

    def rebase(self) -> None:
        """Shift every position after the buffer's first `dropped` bytes were deleted.

        Bytes are dropped only while no picture has started: no start to shift.
        """
        shift, self.dropped = self.dropped, 0
        self._at -= shift
        self._resync -= shift

    def picture(self) -> tuple[int, int] | None:
        """Return where the next whole picture lies in the buffer, or None to read more."""
        buffer = self._buffer
        while True:
            if self._start is None:
                found = buffer.find(START, self._resync)
                if found < 0:
                    # Keep the last bytes: a start marker may be cut between two reads.
                    self.dropped = max(0, len(buffer) - (len(START) - 1))
                    self._resync = self.dropped
                    return None
                self._start, self._at, self._in_data = found, found + 2, False
                self._resync = found + 2
            if self._in_data:
                match = _MARKER_IN_DATA.search(buffer, self._at)
                if match is None:
                    # The last byte may be a marker's first half.
                    self._at = max(self._at, len(buffer) - 1)
                    return None
                self._at, self._in_data = match.start(), False
            step = self._marker()
            if step is None:
                return None
            if step:
                return step

    def _marker(self) -> tuple[int, int] | tuple[()] | None:
        """Read the marker at the walk's place: a picture's span, () to go on, None for more."""
        buffer, at, start = self._buffer, self._at, self._start
        assert start is not None  # noqa: S101 - set by the caller
        while at + 1 < len(buffer) and buffer[at] == _MARK and buffer[at + 1] == _MARK:
            at += 1  # fill bytes before a marker
        self._at = at
        if at + 1 >= len(buffer):
            return None
        if buffer[at] != _MARK:
            # No marker where one must be: a broken picture. Look again past its last marker.
            self._start = None
            return ()
        marker = buffer[at + 1]
        if marker == _END_MARKER:
            self.consumed = at + 2
            return start, at + 2
        if marker == _START_MARKER:
            return self._next_began(at)
        if marker in _STANDALONE:
            self._at = self._resync = at + 2
            return ()
        return self._segment(at, marker)

    def _segment(self, at: int, marker: int) -> tuple[()] | None:
        """Step over the segment a marker begins: () to go on, None to read its length first."""
        if at + 4 > len(self._buffer):
            return None
        length = int.from_bytes(self._buffer[at + 2 : at + 4], "big")
        if length < 2:  # noqa: PLR2004 - a length counts its own two bytes
            self._start = None
            return ()
        self._resync = at + 2
        self._at = at + 2 + length
        self._in_data = marker == _SCAN_MARKER
        return ()

    def _next_began(self, at: int) -> tuple[int, int] | tuple[()]:
        """Handle a start marker inside a picture: it ended without its end marker, or broke."""
        start = self._start
        assert start is not None  # noqa: S101 - set by the caller
        # Ended at a boundary line ("--" at a line's start) between the two: the part's end.
        boundary = self._buffer.rfind(b"\n--", start, at)
        self._start, self._resync = None, at
        if boundary < 0:
            return ()
        end = boundary - 1 if self._buffer[boundary - 1] == ord("\r") else boundary
        self.consumed = at
        return start, end
