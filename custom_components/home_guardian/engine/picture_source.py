"""Read a camera that gives pictures rather than a stream, at a pace its owner sets.

Some cameras can only be asked for a picture: cloud cameras shown over WebRTC, battery cameras,
snapshot-only models. `PictureSource` asks a callable for one picture per interval and publishes
it through the same status, listeners and backoff as a stream, so motion, stills and sharing
cannot tell the difference, except in the pace.

Decided edge cases:
- A picture byte for byte equal to the previous one is not a new frame, but it is an answer.
  Cloud and battery cameras' integrations cache their picture for seconds to minutes, so a
  repeat keeps the latest frame fresh (freshness counts from the last successful fetch).
  Integrations that fail often hand back their last good picture forever, though, and counting
  that would show a frozen room as a quiet one: once the same picture (or a picture with the
  same pixels, but for a ticking clock) has come for `SAME_PICTURE_SECONDS`, the source
  reports `same_picture` and the frame ages until the camera counts as gone; an empty picture
  is judged as a stream's is (see `sight`).
- A picture that does not decode, or is larger than a frame may be, is `no_picture`.
- The callable's own failures arrive as `StreamError`s and are retried with backoff, starting
  at the interval: asking faster after a failure than the owner asked at all helps nobody.
"""

from __future__ import annotations

from collections.abc import Callable
import io
import time
from typing import Final
import warnings

from PIL import Image, UnidentifiedImageError

from .frame_source import MAX_PIXELS, FrameSource, Problem, SourceState, StreamError
from .frames import Frame
from .sight import SightCheck
from .urls import StreamAddress

DEFAULT_PICTURE_INTERVAL: Final = 1.0
# Cloud cameras' integrations refresh a cached picture every few seconds to a minute or so; the
# same picture for longer than this is a camera that stopped seeing.
SAME_PICTURE_SECONDS: Final = 120.0

# Returns one encoded picture (JPEG or any format Pillow reads); raises StreamError otherwise.
type PictureProvider = Callable[[], bytes]


def decode_picture(data: bytes, *, sequence: int) -> Frame:
    """Decode an encoded picture into a frame; raise StreamError when it is not one."""
    if not data:
        raise StreamError(Problem.NO_PICTURE, "empty picture")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise StreamError(Problem.NO_PICTURE, "picture too large")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise StreamError(Problem.NO_PICTURE, type(err).__name__) from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise StreamError(Problem.NO_PICTURE, "picture too large") from None
    # The camera's own JPEG is what stills and shares send, with no second encoding.
    jpeg = data if image.format == "JPEG" else None
    picture = image if image.mode in {"RGB", "L"} else image.convert("RGB")
    return Frame(
        picture, sequence=sequence, monotonic=time.monotonic(), wall=time.time(), jpeg=jpeg
    )


class PictureSource(FrameSource):
    """Ask for one picture per interval and share it as a frame source shares its frames."""

    def __init__(
        self,
        fetch: PictureProvider,
        *,
        name: str,
        interval: float = DEFAULT_PICTURE_INTERVAL,
        description: str = "pictures",
    ) -> None:
        """Prepare to call `fetch` every `interval` seconds; `description` names it in logs."""
        super().__init__(StreamAddress(url=description), name=name, poll_interval=interval)
        self._fetch = fetch
        self._paced = True
        # Pictures come at the owner's pace: each one is looked at.
        self._sight = SightCheck(same_seconds=SAME_PICTURE_SECONDS, interval=0.0)
        self._previous: bytes | None = None

    def _read_once(self) -> None:
        """Fetch and publish one picture; return normally so the next one waits its turn."""
        if self._status.state is not SourceState.STREAMING:
            self._set_status(state=SourceState.CONNECTING)
        data = self._fetch()
        if data == self._previous and self._latest is not None:
            # The same bytes are the same picture: counted again, not decoded again.
            if (problem := self._sight.again(time.monotonic())) is None:
                self._confirm_latest()
            else:
                self._lose_sight(problem)
            return
        frame = decode_picture(data, sequence=self._status.frames + 1)
        self._previous = data
        self._set_status(connections=self._status.connections + 1)
        self._publish(frame)
