"""Tell a camera that stopped seeing from a quiet room, by the pictures it still sends.

A camera whose firmware froze keeps sending pictures, and so does one whose lens is covered:
frames arrive, nothing in them moves, and a motion sensor would say "clear" for hours. A quiet
room is never that still, so `SightCheck` judges the pictures themselves, and a frame source
that hears a problem from it publishes no frame: its latest ages until the camera counts as
gone, as when no picture comes at all (see `FrameSource._publish` and `PictureSource`).

Decided edge cases:
- The same picture: the analysis pictures (`ANALYSIS_HEIGHT` rows of grey) of the frames
  looked at are equal, pixel for pixel, to the first picture of the still stretch but for
  `SAME_OUTLIERS` of their pixels at most, for the source's own bound (a stream's and a picture
  camera's differ, each argued beside its source) and at least `SIGHT_PICTURES` looks. Cheap
  cameras draw a clock into the picture after the sensor, and keep it ticking when the sensor
  or its pipeline hangs: the pixels that ever differed from the first picture are kept, and as
  long as all of them together stay within that share (the clock, its compression halo, a
  blinking colon, a name in another corner), the picture is the same. The union, not each
  picture on its own, is judged, so a room whose pictures each differ a little, somewhere else
  every time, is not frozen. Outside those pixels the smallest change counts: a still room
  shows its sensor's noise at every keyframe, over more than a quarter of the picture even dark
  and noise-reduced, and that ends the stretch; the changed picture starts the next one.
  JPEG pictures (snapshots, MJPEG) are coded block by block, so a frozen one changes only
  around its clock; so does H.264 that codes the unchanged picture the same at each keyframe.
- A picture nine tenths of which or more is flat and never changes (a night picture crushed
  to black but for a lamp) is the same picture, however the rest changes: it sees a tenth of
  the room at most. Flatter still, it is empty.
- Not caught: an encoder that codes the frozen picture anew, a little differently, at most
  keyframes (refining it between keyframes with the bits a still picture leaves over, or
  carrying a top-left clock's change through the intra prediction of the picture below it, as
  x264 does on a 360p substream, and at 720p with letters 48 pixels high): its differences
  are a level or two, as a dark noise-reduced room's noise is, and telling one from the other
  by size would call that room frozen. A clock that wanders over the picture is not caught
  either. Such cameras stay taken for a still room, as before. One that does so now and then
  (at 720p, when the date turns over) restarts the stretch and is judged frozen that much later.
- An empty picture: all but `BLANK_OUTLIERS` of its pixels (an on-screen clock's text) within
  `BLANK_SPREAD` grey level of each other, whatever the level: a covered lens, a black or
  blue "no signal" screen, a picture burnt white. One level is what rounding and compression
  leave of an even picture; a dark room is never that even: the sensor's noise, with infrared
  light or without, even filtered by the camera, spreads its pixels wider (the motion detector
  counts on 1.5 levels of noise at the least). A few seconds of an empty picture are normal
  (a switch to night vision, exposure catching up after the light goes off, a camera booting):
  `BLANK_SECONDS` is far past them, and short next to the guardian's cannot-monitor grace.
- A picture both empty and the same (a covered lens, its clock ticking) is told as empty.
- Both need `SIGHT_PICTURES` looks, so a camera read once a minute is not judged on two.
- A stream is looked at no more than once every `interval` (a second: one small grey picture a
  second, which motion analysis shares when it takes the same frame); a change is thus seen
  within a second. Pictures asked for one at a time are each looked at.
- The judgement lasts through reconnections: a frozen camera sends the same picture again.
- The first changed picture with something in it ends the problem at once: a camera that
  sees again changes more than the share it was allowed, wherever its noise falls.
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
# Pixels that may keep changing in the same picture: an on-screen clock, a name, a counter,
# with the room an empty picture leaves them. Measured on the analysis picture over five
# minutes, H.264's halo around the digits included: letters 32 pixels high change 0.4% of a
# 720p picture, and 2 to 5% of a 360p substream's, at its foot; so two such corners fit. A
# still room's keyframe changes 70% of it, over a quarter dark and noise-reduced (figures:
# `benchmarks/frozen_clock.py`).
SAME_OUTLIERS: Final = BLANK_OUTLIERS
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
        # The first picture of the still stretch, and the pixels that have differed from it.
        self._still: NDArray[np.uint8] | None = None
        self._changed: NDArray[np.bool_] = np.zeros(0, bool)
        self._differs: NDArray[np.bool_] = np.zeros(0, bool)
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
        if self._same_picture(grey):
            self._same += 1
        else:
            self._start_still(grey, at)
        if not is_blank(grey):
            self._blank_since = None
        elif self._blank_since is None:
            self._blank_since, self._blanks = at, 0
        else:
            self._blanks += 1
        return self._judge(at)

    def _same_picture(self, grey: NDArray[np.uint8]) -> bool:
        """Add where a picture differs from the still one; True while those are within the share."""
        if self._still is None or grey.shape != self._still.shape:
            return False
        # Three passes over a small picture, into buffers kept from one look to the next.
        np.not_equal(grey, self._still, out=self._differs)
        np.logical_or(self._changed, self._differs, out=self._changed)
        return np.count_nonzero(self._changed) <= SAME_OUTLIERS * self._changed.size

    def _start_still(self, grey: NDArray[np.uint8], at: float) -> None:
        """Start a still stretch at a changed picture."""
        self._still, self._changed_at, self._same = grey, at, 0
        if self._changed.shape != grey.shape:
            self._changed = np.zeros(grey.shape, bool)
            self._differs = np.zeros(grey.shape, bool)
        else:
            self._changed.fill(False)

    def again(self, at: float) -> Problem | None:
        """Count the picture looked at last as handed over again, byte for byte, at `at`."""
        self._same += 1
        if self._blank_since is not None:
            self._blanks += 1
        return self._judge(at)

    def _judge(self, at: float) -> Problem | None:
        """Say what the looks so far show is wrong, if anything."""
        # An empty picture is told as such even when it is the same too (a covered lens with
        # its clock ticking): that says more, and its message does not change at the bound.
        if (
            self._blank_since is not None
            and self._blanks >= SIGHT_PICTURES
            and at - self._blank_since >= BLANK_SECONDS
        ):
            self.problem = Problem.BLANK_PICTURE
        elif self._same >= SIGHT_PICTURES and at - self._changed_at >= self._same_seconds:
            self.problem = Problem.SAME_PICTURE
        else:
            self.problem = None
        return self.problem
