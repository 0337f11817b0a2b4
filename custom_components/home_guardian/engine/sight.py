"""Tell a camera that stopped seeing from a quiet room, by the pictures it still sends.

A camera whose firmware froze keeps sending pictures, and so does one whose lens is covered:
frames arrive, nothing in them moves, and a motion sensor would say "clear" for hours. A quiet
room is never that still, so `SightCheck` judges the pictures themselves, and a frame source
that hears a problem from it publishes no frame: its latest ages until the camera counts as
gone, as when no picture comes at all (see `FrameSource._publish` and `PictureSource`).

Decided edge cases:
- The same picture: the analysis pictures (`ANALYSIS_HEIGHT` rows of grey) of the frames
  looked at are equal pixel for pixel, for the source's own bound (a stream's and a picture
  camera's differ, each argued beside its source) and at least `SIGHT_PICTURES` looks. The
  smallest change counts as a change: a still room shows its sensor's noise at every keyframe.
- An empty picture: all but `BLANK_OUTLIERS` of its pixels (an on-screen clock's text) within
  `BLANK_SPREAD` grey level of each other, whatever the level: a covered lens, a black or
  blue "no signal" screen, a picture burnt white. One level is what rounding and compression
  leave of an even picture; a dark room is never that even: the sensor's noise, with infrared
  light or without, even filtered by the camera, spreads its pixels wider (the motion detector
  counts on 1.5 levels of noise at the least). A few seconds of an empty picture are normal
  (a switch to night vision, exposure catching up after the light goes off, a camera booting):
  `BLANK_SECONDS` is far past them, and short next to the guardian's cannot-monitor grace.
- Both need `SIGHT_PICTURES` looks, so a camera read once a minute is not judged on two.
- A stream is looked at no more than once every `interval` (a second: one small grey picture a
  second, which motion analysis shares when it takes the same frame); a change is thus seen
  within a second. Pictures asked for one at a time are each looked at.
- The judgement lasts through reconnections: a frozen camera sends the same picture again.
- The first changed picture with something in it ends the problem at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from .errors import Problem
from .motion import ANALYSIS_HEIGHT

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .frames import Frame

# A picture with this share of its pixels within BLANK_SPREAD grey levels is empty; the share
# left over is room for an on-screen clock or name, a few percent of any picture.
BLANK_OUTLIERS: Final = 0.1
BLANK_SPREAD: Final = 1.0
BLANK_SECONDS: Final = 60.0
# Looks at the same or an empty picture before it is judged, over the bound as well.
SIGHT_PICTURES: Final = 5
LOOK_INTERVAL: Final = 1.0


def is_blank(grey: NDArray[np.uint8]) -> bool:
    """Return True when a grey picture is one even level, but for a few outlying pixels."""
    low, high = np.percentile(grey, (50 * BLANK_OUTLIERS, 100 - 50 * BLANK_OUTLIERS))
    return bool(high - low <= BLANK_SPREAD)


class SightCheck:
    """Judge from a camera's pictures whether it still sees, and say what is wrong when not."""

    def __init__(self, *, same_seconds: float, interval: float = LOOK_INTERVAL) -> None:
        """Judge the same picture after `same_seconds`; look at most once every `interval` s."""
        self._same_seconds = same_seconds
        self._interval = interval
        self._looked_at = float("-inf")
        self._previous: NDArray[np.uint8] | None = None
        # When the picture last changed, and the looks at the same picture since.
        self._changed_at = float("-inf")
        self._same = 0
        # When the pictures became empty (None: they are not), and the looks at empty ones since.
        self._blank_since: float | None = None
        self._blanks = 0
        self.problem: Problem | None = None

    def look(self, frame: Frame) -> Problem | None:
        """Judge a new frame when a look is due; between looks the last judgement stands."""
        at = frame.monotonic
        if at - self._looked_at < self._interval:
            return self.problem
        self._looked_at = at
        grey = frame.grey(ANALYSIS_HEIGHT)
        if self._previous is not None and np.array_equal(grey, self._previous):
            self._same += 1
        else:
            self._previous, self._changed_at, self._same = grey, at, 0
        if not is_blank(grey):
            self._blank_since = None
        elif self._blank_since is None:
            self._blank_since, self._blanks = at, 0
        else:
            self._blanks += 1
        return self._judge(at)

    def again(self, at: float) -> Problem | None:
        """Count the picture looked at last as handed over again, byte for byte, at `at`."""
        self._same += 1
        if self._blank_since is not None:
            self._blanks += 1
        return self._judge(at)

    def _judge(self, at: float) -> Problem | None:
        """Say what the looks so far show is wrong, if anything."""
        if self._same >= SIGHT_PICTURES and at - self._changed_at >= self._same_seconds:
            self.problem = Problem.SAME_PICTURE
        elif (
            self._blank_since is not None
            and self._blanks >= SIGHT_PICTURES
            and at - self._blank_since >= BLANK_SECONDS
        ):
            self.problem = Problem.BLANK_PICTURE
        else:
            self.problem = None
        return self.problem
