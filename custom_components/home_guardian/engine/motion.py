"""Find what moves in small greyscale frames, ignoring light, noise and compression."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

from .geometry import Box, Point, polygon_mask

# 144 rows keep a distant walker several pixels wide, and cost well under a millisecond a frame.
ANALYSIS_HEIGHT: Final = 144
# Pixels are pooled into square cells; blobs are found on this coarse grid, which is cheap.
CELL: Final = 4
# A cell moves when this share of its analysed pixels changed; isolated noisy pixels never do.
CELL_FILL: Final = 0.25
MAX_REGIONS: Final = 8
# Background memory: unmoving pixels follow the scene within seconds, moving ones barely.
BACKGROUND_SECONDS: Final = 4.0
FOREGROUND_SECONDS: Final = 60.0
NOISE_SECONDS: Final = 8.0
# After a lighting step the background is rebuilt fast while the camera's exposure settles.
SETTLE_SECONDS: Final = 1.0
SETTLE_BACKGROUND_SECONDS: Final = 0.25
# A pause this long (a reconnect, a paused stream) makes the old background worthless.
STALE_SECONDS: Final = 30.0
# More than this share of the picture changing at once is light or a moved camera, not a person.
GLOBAL_CHANGE: Final = 0.5
# A global brightness step of this many grey levels in one analysed frame is a light switched.
LIGHT_STEP: Final = 10.0
# Noise floor in grey levels: the scaled-down picture is never quieter than this.
NOISE_FLOOR: Final = 1.5
PRIOR_NOISE: Final = 3.0
# A frame counts as moving only when the frame before or the one before that moved too.
CONFIRM_FRAMES: Final = 2
CONFIRM_WINDOW: Final = 3

type Zones = tuple[tuple[Point, ...], ...]
type FloatArray = NDArray[np.float32]
type BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True, slots=True)
class MotionSettings:
    """How eager motion detection is, where it looks, and how long motion lasts."""

    sensitivity: int = 50
    # 0.1 % of the picture: a distant person is several times this, a noise speck is far smaller.
    min_object_size: float = 0.001
    ignore_zones: Zones = ()
    only_zones: Zones = ()
    # Long enough to bridge the still moments of a slow walk, short against inactivity timing.
    hold_seconds: float = 5.0

    @property
    def threshold_sigmas(self) -> float:
        """Return how many noise deviations a pixel must change by to count."""
        sensitivity = min(100, max(0, self.sensitivity))
        return 6.5 - 0.045 * sensitivity

    @property
    def threshold_levels(self) -> float:
        """Return the grey levels any change must exceed, whatever the noise, to count."""
        sensitivity = min(100, max(0, self.sensitivity))
        return 2.0 + 0.08 * (100 - sensitivity)


@dataclass(frozen=True, kw_only=True, slots=True)
class MotionResult:
    """What one frame showed."""

    motion: bool
    regions: tuple[Box, ...] = ()
    area: float = 0.0
    rejected: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Layout:
    """Masks for one frame size: which pixels and cells are analysed and which count."""

    rows: int
    cols: int
    height: int
    width: int
    analysed_pixels: BoolArray
    analysed_cells: BoolArray
    counted_cells: BoolArray
    cell_pixels: FloatArray
    analysed_count: int


def _layout(settings: MotionSettings, height: int, width: int) -> _Layout:
    """Rasterise the zones for a frame size, cropped to whole cells."""
    rows, cols = height // CELL, width // CELL
    h, w = rows * CELL, cols * CELL
    analysed = np.ones((h, w), dtype=bool)
    if settings.ignore_zones:
        analysed &= ~polygon_mask(settings.ignore_zones, width, height)[:h, :w]
    counted = analysed.copy()
    if settings.only_zones:
        counted &= polygon_mask(settings.only_zones, width, height)[:h, :w]
    cell_pixels = _cell_sum(analysed)
    half = CELL * CELL / 2
    analysed_cells = cell_pixels >= half
    counted_cells = _cell_sum(counted) >= half
    return _Layout(
        rows=rows,
        cols=cols,
        height=height,
        width=width,
        analysed_pixels=analysed,
        analysed_cells=analysed_cells,
        counted_cells=counted_cells & analysed_cells,
        cell_pixels=np.maximum(cell_pixels, 1.0),
        analysed_count=max(1, int(analysed_cells.sum())),
    )


def _cell_sum(values: NDArray[np.float32] | BoolArray) -> FloatArray:
    """Sum a picture over CELL x CELL squares."""
    # Strided adds are several times faster than a 4-D reshape-sum on arrays this small.
    # Booleans add as bytes: at most 16 per cell, no overflow.
    numbers = values.view(np.uint8) if values.dtype == np.bool_ else values
    rows = numbers[0::CELL] + numbers[1::CELL]
    for offset in range(2, CELL):
        rows += numbers[offset::CELL]
    cells = rows[:, 0::CELL] + rows[:, 1::CELL]
    for offset in range(2, CELL):
        cells += rows[:, offset::CELL]
    return cells.astype(np.float32, copy=False)


def _median(values: FloatArray) -> float:
    """Return the median, by partition, which is cheaper than np.median on small arrays."""
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])


def _fit_light(background: FloatArray, frame: FloatArray, usable: BoolArray) -> tuple[float, float]:
    """Return gain and offset mapping background cells to frame cells, ignoring outliers."""
    x, y = background[usable], frame[usable]
    if x.size < 8:  # noqa: PLR2004 - too little to fit; assume the light did not change
        return 1.0, 0.0
    keep: BoolArray = np.ones(x.size, dtype=bool)
    gain, offset = 1.0, 0.0
    # Two trimmed refits: people and moved objects are outliers, light changes everything.
    for _ in range(2):
        xs, ys = x[keep], y[keep]
        x_mean, y_mean = float(xs.mean()), float(ys.mean())
        centred = xs - x_mean
        spread = float(np.dot(centred, centred)) / max(1, xs.size)
        if xs.size < 8 or spread < 4.0:  # noqa: PLR2004 - flat scene: only an offset is knowable
            gain, offset = 1.0, _median(y - x)
        else:
            gain = float(np.dot(centred, ys - y_mean)) / xs.size / spread
            # A real camera never scales light by more than this between two analysed frames.
            gain = min(4.0, max(0.25, gain))
            offset = y_mean - gain * x_mean
        residual = np.abs(y - (gain * x + offset))
        keep = residual <= max(3.0, 2.5 * _median(residual))
    return gain, offset


class MotionDetector:
    """Compare each frame with a learned background and say whether something moved."""

    def __init__(self, settings: MotionSettings) -> None:
        """Start with no background; the first frame becomes it."""
        self.settings = settings
        self._layout: _Layout | None = None
        self._background: FloatArray | None = None
        self._previous: FloatArray | None = None
        self._variance: FloatArray | None = None
        self._last_at: float | None = None
        self._settle_until = -math.inf
        self._recent: deque[bool] = deque(maxlen=CONFIRM_WINDOW)
        self._active_until = -math.inf
        self._now = -math.inf

    @property
    def active(self) -> bool:
        """Return the debounced state: on from confirmed motion until hold_seconds after it."""
        return self._now < self._active_until

    @property
    def confirming(self) -> bool:
        """Return True when the last frame showed motion that a next one must still confirm."""
        return (
            bool(self._recent)
            and self._recent[-1]
            and sum(self._recent) < CONFIRM_FRAMES
            and not self.active
        )

    def reset(self) -> None:
        """Forget the background, as after a reconnect."""
        self._background = None
        self._variance = None
        self._last_at = None
        self._recent.clear()

    def process(self, grey: NDArray[np.uint8], at: float) -> MotionResult:
        """Analyse one frame taken at monotonic time `at` (seconds) and update the state."""
        result = self._analyse(grey, at)
        self._now = at
        self._recent.append(result.motion)
        if sum(self._recent) >= CONFIRM_FRAMES and result.motion:
            self._active_until = at + self.settings.hold_seconds
        return result

    def _analyse(self, grey: NDArray[np.uint8], at: float) -> MotionResult:
        """Return this frame's motion, learning the background as it goes."""
        if grey.ndim != 2 or grey.shape[0] < CELL or grey.shape[1] < CELL:  # noqa: PLR2004
            raise ValueError("motion needs a 2-D greyscale picture at least 4 pixels each way")
        height, width = grey.shape
        layout = self._layout
        if layout is None or (layout.rows, layout.cols) != (height // CELL, width // CELL):
            layout = self._layout = _layout(self.settings, height, width)
            self._background = None
        frame = grey[: layout.rows * CELL, : layout.cols * CELL].astype(np.float32)
        background, variance, last_at = self._background, self._variance, self._last_at
        if (
            background is None
            or variance is None
            or last_at is None
            or not 0.0 <= at - last_at <= STALE_SECONDS
        ):
            self._rebase(frame, at)
            self._variance = np.full_like(frame, PRIOR_NOISE**2)
            return MotionResult(motion=False, rejected="warmup")
        elapsed = at - last_at
        self._last_at = at

        # Light: map the background's brightness onto this frame's before comparing them.
        area = float(CELL * CELL)
        frame_cells = _cell_sum(frame) / area
        background_cells = _cell_sum(background) / area
        usable = layout.analysed_cells & (frame_cells < 250.0) & (frame_cells > 5.0)  # noqa: PLR2004
        gain, offset = _fit_light(background_cells, frame_cells, usable)
        background *= gain
        background += offset
        np.clip(background, 0.0, 255.0, out=background)
        step = (
            float(np.abs(background_cells[usable] * (gain - 1.0) + offset).mean())
            if usable.any()
            else 0.0
        )

        difference = np.abs(frame - background)
        # Noise: per pixel where the scene flickers, and the picture's overall level right now.
        sample = difference[::3, ::3].ravel()
        global_noise = 1.4826 * float(np.partition(sample, sample.size // 2)[sample.size // 2])
        floor = max(NOISE_FLOOR, global_noise) ** 2
        sigma = np.sqrt(np.maximum(variance, floor))
        threshold = self.settings.threshold_sigmas * sigma + self.settings.threshold_levels
        changed = (difference > threshold) & layout.analysed_pixels
        changed_share = _cell_sum(changed) / layout.cell_pixels
        moving_cells = (changed_share >= CELL_FILL) & layout.analysed_cells
        changed_area = float(moving_cells.sum()) / layout.analysed_count

        # A big brightness step leaves clipped highlights and shadows no gain can map: start over.
        if changed_area > GLOBAL_CHANGE or step > LIGHT_STEP:
            self._rebase(frame, at)
            self._settle_until = at + SETTLE_SECONDS
            return MotionResult(motion=False, area=changed_area, rejected="lighting")

        settling = at < self._settle_until
        previous = self._previous
        learning_cells = moving_cells
        if previous is not None:
            # What differs from the background but not from the last frame has stopped moving
            # (a parked chair, a ghost where something left): let the background take it in.
            stirring = _cell_sum(np.abs(frame - previous) > threshold) / layout.cell_pixels
            learning_cells = moving_cells & (stirring >= CELL_FILL)
        self._previous = frame
        self._learn(frame, difference, learning_cells, elapsed, settling=settling)
        if settling:
            return MotionResult(motion=False, area=changed_area, rejected="lighting")

        counted = moving_cells & layout.counted_cells
        regions, counted_area = self._blobs(counted, layout)
        return MotionResult(motion=bool(regions), regions=regions, area=counted_area, rejected=None)

    def _rebase(self, frame: FloatArray, at: float) -> None:
        """Take this frame as the whole background."""
        self._background = frame.copy()
        self._previous = frame
        self._last_at = at
        self._recent.clear()

    def _learn(
        self,
        frame: FloatArray,
        difference: FloatArray,
        moving: BoolArray,
        elapsed: float,
        *,
        settling: bool,
    ) -> None:
        """Blend the frame into the background and the noise estimate, slowly where things move."""
        background, variance = self._background, self._variance
        assert background is not None  # noqa: S101 - set by the caller's checks
        assert variance is not None  # noqa: S101
        still_seconds = SETTLE_BACKGROUND_SECONDS if settling else BACKGROUND_SECONDS
        still_rate = 1.0 - math.exp(-elapsed / still_seconds)
        moving_rate = 1.0 - math.exp(-elapsed / FOREGROUND_SECONDS)
        rate = np.where(moving, np.float32(moving_rate), np.float32(still_rate))
        rows, cols = moving.shape
        # Per-cell rates broadcast over each cell's pixels without building a full-size mask.
        pixel_rate = rate[:, None, :, None]
        background.reshape(rows, CELL, cols, CELL)[...] += pixel_rate * (
            frame - background
        ).reshape(rows, CELL, cols, CELL)
        # Outliers are capped so that one passing person does not teach the pixel to be noisy;
        # moving cells keep their noise estimate.
        noise_rate = np.where(
            moving, np.float32(0.0), np.float32(1.0 - math.exp(-elapsed / NOISE_SECONDS))
        )
        squared = np.minimum(difference * difference, np.float32(400.0))
        variance.reshape(rows, CELL, cols, CELL)[...] += noise_rate[:, None, :, None] * (
            squared - variance
        ).reshape(rows, CELL, cols, CELL)

    def _blobs(self, moving: BoolArray, layout: _Layout) -> tuple[tuple[Box, ...], float]:
        """Group moving cells into blobs big enough to count; return their boxes and area."""
        if not moving.any():
            return (), 0.0
        # Dilation joins the pieces of one person (head, torso, legs) into one blob.
        grown = moving.copy()
        grown[1:, :] |= moving[:-1, :]
        grown[:-1, :] |= moving[1:, :]
        wide = grown.copy()
        wide[:, 1:] |= grown[:, :-1]
        wide[:, :-1] |= grown[:, 1:]
        minimum = self.settings.min_object_size * layout.analysed_count
        blobs = [blob for blob in _components(wide, moving) if blob[0] > 0 and blob[0] >= minimum]
        if not blobs:
            return (), 0.0
        blobs.sort(reverse=True)
        if len(blobs) > MAX_REGIONS:
            # The privacy filter must still cover everything: the rest become one box.
            rest = blobs[MAX_REGIONS - 1 :]
            merged = (
                sum(b[0] for b in rest),
                min(b[1] for b in rest),
                min(b[2] for b in rest),
                max(b[3] for b in rest),
                max(b[4] for b in rest),
            )
            blobs = [*blobs[: MAX_REGIONS - 1], merged]
        # Cells cover the cropped picture; boxes are shares of the full one, a few pixels bigger.
        sy, sx = CELL / layout.height, CELL / layout.width
        regions = tuple(
            Box(x=left * sx, y=top * sy, width=(right - left) * sx, height=(bottom - top) * sy)
            for _, top, left, bottom, right in blobs
        )
        area = sum(b[0] for b in blobs) / layout.analysed_count
        return regions, area


class AnalysisPace:
    """Pick frames to analyse: `fps` a second, and the very next frame after unconfirmed motion.

    Confirmation needs a second moving frame; taking the camera's next frame for it, rather than
    waiting a whole analysis interval, brings motion to Home Assistant an interval sooner.
    """

    def __init__(self, fps: float) -> None:
        """Analyse `fps` frames a second."""
        self.period = 1.0 / fps
        self._due = -math.inf

    def due(self, at: float, detector: MotionDetector) -> bool:
        """Return True when the frame taken at `at` (seconds) should be analysed."""
        if at + 1e-9 >= self._due:
            # Keep to a fixed grid, so that jitter in frame times does not slow the rate.
            missed = 0 if math.isinf(self._due) else int((at - self._due) / self.period)
            self._due = (at if math.isinf(self._due) else self._due) + self.period * (missed + 1)
            return True
        return detector.confirming


def _components(mask: BoolArray, weights: BoolArray) -> list[tuple[int, int, int, int, int]]:
    """Return the 8-connected groups of True cells as (weight, top, left, bottom, right).

    Groups are found by joining runs of cells row by row (union-find over runs, not cells):
    a few dozen runs a frame instead of hundreds of cells keeps this well under 0.1 ms.
    """
    rows = mask.shape[0]
    padded = np.zeros((rows, mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    run_rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    # Moving cells in each run, from per-row running totals.
    totals = np.zeros((rows, mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(weights, axis=1, out=totals[:, 1:])
    sizes = totals[run_rows, ends] - totals[run_rows, starts]
    run_list = list(zip(run_rows.tolist(), starts.tolist(), ends.tolist(), strict=True))
    parent = list(range(len(run_list)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    previous: list[int] = []  # runs of the row above
    current: list[int] = []
    current_row = -1
    for index, (row, start, end) in enumerate(run_list):
        if row != current_row:
            previous = current if row == current_row + 1 else []
            current, current_row = [], row
        for other in previous:
            _, other_start, other_end = run_list[other]
            # Diagonal neighbours touch too: runs join when they overlap with one cell of slack.
            if other_start <= end and start <= other_end:
                parent[root(other)] = root(index)
        current.append(index)
    groups: dict[int, list[int]] = {}
    for index, (row, start, end) in enumerate(run_list):
        group = groups.setdefault(root(index), [0, row, start, row + 1, end])
        group[0] += int(sizes[index])
        group[2] = min(group[2], start)
        group[3] = row + 1
        group[4] = max(group[4], end)
    return [(g[0], g[1], g[2], g[3], g[4]) for g in groups.values()]
