"""Find what moves in small greyscale frames, ignoring light, noise and compression.

Each analysed frame is compared with a learned background (the scene without what moves) after
the background has been mapped onto the frame's light (see lighting.py). A 4 x 4 cell moves when
enough of its pixels changed beyond their own learned noise, or when its mean changed beyond
the cell's own learned noise: the first finds textured things, the second dim and low-contrast
ones in a noisy room, where single pixels drown. Moving cells group into objects (blobs.py).

Decided, and why:
- Settling: the first frame is a poor background (its noise is frozen into it) and nothing is
  known yet of the noise. Until WARMUP_FRAMES frames over WARMUP_SECONDS have been averaged in
  (for a slow snapshot camera, SLOW_WARMUP_SECONDS of pictures, at least REWARM_FRAMES), the
  detector is not settled: it reports `rejected="warmup"` and never motion. The same after
  a reset, a new picture size, or a gap in frames (a reconnect); the noise learned before a
  short gap is kept, since the camera is the same.
- Light: a change the fit explains is not motion, however large or fast (a lamp, an infrared
  switch, a 2 Hz flicker); what the fit leaves, locally, still is. Only when more than half of
  the picture is left changed (a cut, a moved camera) is the background taken anew, keeping
  the noise: one analysed frame later the detector looks again.
- Low-bitrate keyframes re-draw the noise and texture of the whole picture at once: changed
  pixels spread thinly everywhere fill few cells, and a cell seen only by its mean must have
  moved in the frame before too (near it) to count.
- Slow walkers: whatever differs from the background is learned into it slowly while it, or
  something near it, changed within the last STOPPED_SECONDS against a frame a second older.
  Only things that stopped (a parked chair, the ghost where something left) fade in fast.
- Size: an object's size is its changed pixels, so the minimum means what it says.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

from .blobs import MAX_REGIONS, find_regions
from .cells import CELL, cell_mean, cell_sum
from .geometry import Box, Point, polygon_mask
from .lighting import fit_light, median

__all__ = [
    "ANALYSIS_HEIGHT",
    "MAX_REGIONS",
    "AnalysisPace",
    "MotionDetector",
    "MotionResult",
    "MotionSettings",
    "Zones",
]

# 144 rows keep a distant walker several pixels wide, and cost well under a millisecond a frame.
ANALYSIS_HEIGHT: Final = 144
# A cell moves when this share of its analysed pixels changed; isolated noisy pixels never do.
CELL_FILL: Final = 0.25
# Background memory: unmoving pixels follow the scene within seconds, moving ones barely.
BACKGROUND_SECONDS: Final = 4.0
FOREGROUND_SECONDS: Final = 60.0
NOISE_SECONDS: Final = 8.0
# A light change is modelled to within this share of what it did to each cell; the doubt fades
# as the background follows the new light, fast, for about LIGHT_SETTLE_SECONDS.
LIGHT_ERROR: Final = 0.5
LIGHT_SETTLE_SECONDS: Final = 1.0
SETTLE_BACKGROUND_SECONDS: Final = 0.25
# Settling: frames averaged and time spent before the background and its noise are trusted.
WARMUP_FRAMES: Final = 8
WARMUP_SECONDS: Final = 1.5
# With the noise already known (a short gap), a few frames make a background good enough.
REWARM_FRAMES: Final = 3
# A slow camera (a snapshot every several seconds) settles on this much time rather than on
# WARMUP_FRAMES pictures, which would take it over a minute, and never on fewer than
# REWARM_FRAMES pictures; the noise learned from so few is doubted (NOISE_DOUBT) meanwhile.
SLOW_WARMUP_SECONDS: Final = 20.0
# A gap this long between analysed frames (a reconnect, a paused stream): settle again.
GAP_SECONDS: Final = 2.0
GAP_INTERVALS: Final = 3.0
# A pause this long makes even the learned noise worthless.
STALE_SECONDS: Final = 30.0
# More than this share of the picture changed after the light fit is a cut or a moved camera.
GLOBAL_CHANGE: Final = 0.5
# Moving cells over this share of the picture, strewn thinly over most of a 4 x 4 grid of zones
# about evenly (no zone three times the typical one), are a keyframe's redrawing, not objects.
PULSE_SHARE: Final = 0.05
ZONES: Final = 4
SCATTERED: Final = 0.875
EVEN: Final = 3.0
# Grey levels at which a camera's pixels saturate, and below which nothing shows a gain.
CLIPPED: Final = 250
# A background cell this bright is mostly saturated, whatever its pixels say.
CLIPPED_CELL: Final = 245.0
# A light change that moves no cell by this many grey levels leaves the background as it is.
UNCHANGED_LEVELS: Final = 0.25
DARK: Final = 5.0
# Within this many times its threshold, a cell's change just after a light change is the light.
RELIT_MARGIN: Final = 2.0
# Noise floor in grey levels: the scaled-down picture is never quieter than this.
NOISE_FLOOR: Final = 1.5
# A cell's mean is four times steadier than a pixel; its floor is lower by as much.
CELL_NOISE_FLOOR: Final = 0.5
# Squared differences are capped when learning noise, so one passer-by does not teach it.
NOISE_CAP: Final = 400.0
# The noise estimate is doubted by NOISE_DOUBT / sqrt(frames seen) until NOISE_FRAMES.
NOISE_DOUBT: Final = 1.5
NOISE_FRAMES: Final = 40
# The background averages about this many frames; fewer (after a rebase) leave its own noise in.
BACKGROUND_FRAMES: Final = 20
# Fewer pixels than this share beyond the lowest threshold are judged one by one; more, together.
FEW_CANDIDATES: Final = 0.125
# Slow movement: a frame is compared with one this old, and what changed keeps learning slow.
STIR_SECONDS: Final = 1.0
STOPPED_SECONDS: Final = 2.0
STIR_REACH: Final = 2
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
    analysed_pixel_count: int
    # Each pixel's cell, numbered in reading order: counts changed pixels per cell in one pass.
    cell_of_pixel: NDArray[np.intp]
    # NOISE_CAP for every pixel (see `_cap`).
    noise_caps: FloatArray
    # Some pixels are in ignore zones: pixel masks must be applied.
    ignores: bool


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
    cell_pixels = cell_sum(analysed)
    half = CELL * CELL / 2
    analysed_cells = cell_pixels >= half
    counted_cells = cell_sum(counted) >= half
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
        analysed_pixel_count=max(1, int(cell_pixels[analysed_cells].sum())),
        cell_of_pixel=np.repeat(
            np.repeat(np.arange(rows * cols).reshape(rows, cols), CELL, axis=0), CELL, axis=1
        ).ravel(),
        noise_caps=np.full((h, w), NOISE_CAP, dtype=np.float32),
        ignores=not bool(analysed.all()),
    )


def _by_cell(cells: FloatArray) -> FloatArray:
    """Return per-cell values shaped to broadcast over `_cell_rows` of a picture."""
    # Repeating along rows only, then broadcasting over each cell's CELL rows, keeps the inner
    # loop a whole picture row long: far cheaper than repeating both ways or a 4-D view.
    return np.repeat(cells, CELL, axis=1)[:, None, :]


def _noise(variance: FloatArray, floor: np.float32, inflate: np.float32) -> FloatArray:
    """Return the noise (a deviation) of pixels from their variance, a floor and a doubt."""
    sigma = np.maximum(variance, floor)
    sigma *= inflate
    np.sqrt(sigma, out=sigma)
    return sigma


def _cell_rows[T: np.generic](pixels: NDArray[T]) -> NDArray[T]:
    """Return a view of a cropped picture as rows of cells x CELL x width."""
    return pixels.reshape(pixels.shape[0] // CELL, CELL, pixels.shape[1])


def _cells_of[T: np.generic](pixels: NDArray[T]) -> NDArray[T]:
    """Return a view of a cropped picture as rows x CELL x cols x CELL, for per-cell factors."""
    rows, cols = pixels.shape[0] // CELL, pixels.shape[1] // CELL
    return pixels.reshape(rows, CELL, cols, CELL)


def _scattered(moving: BoolArray) -> bool:
    """Return True when moving cells are strewn thinly over nearly the whole picture.

    A person, however close, fills a few zones of a 4 x 4 grid densely; a keyframe that
    re-draws texture and noise touches almost every zone, about evenly.
    """
    rows, cols = moving.shape[0] // ZONES, moving.shape[1] // ZONES
    if rows == 0 or cols == 0:
        return False
    zones = (
        moving[: rows * ZONES, : cols * ZONES].reshape(ZONES, rows, ZONES, cols).mean(axis=(1, 3))
    )
    touched = int((zones > 0).sum())
    # np.median's value, without its overhead: of an even count, the mean of the middle two.
    ordered = np.sort(zones, axis=None)
    half = ZONES * ZONES // 2
    typical = (float(ordered[half - 1]) + float(ordered[half])) / 2
    return touched >= SCATTERED * ZONES * ZONES and float(zones.max()) <= EVEN * typical


def _spread(mask: BoolArray, reach: int) -> BoolArray:
    """Return the mask grown by `reach` cells each way (a square neighbourhood)."""
    rows, cols = mask.shape
    # One flat buffer, padded around and by `2 * reach` spare cells at its end, makes every
    # shift one contiguous OR; the padding columns, grown too, are cut off at the end.
    width = cols + 2 * reach
    padded_size = (rows + 2 * reach) * width
    flat = np.zeros(padded_size + 2 * reach, dtype=np.bool_)
    padded = flat[:padded_size].reshape(rows + 2 * reach, width)
    padded[reach : reach + rows, reach : reach + cols] = mask
    size = rows * width
    tall = flat[: size + 2 * reach].copy()
    for offset in range(1, 2 * reach + 1):
        tall |= flat[offset * width : offset * width + size + 2 * reach]
    grown = tall[:size] | tall[1 : size + 1]
    for offset in range(2, 2 * reach + 1):
        grown |= tall[offset : offset + size]
    return grown.reshape(rows, width)[:, :cols]


def _cap(values: FloatArray, caps: FloatArray) -> None:
    """Cap a picture's values at NOISE_CAP in place, given NOISE_CAP over the picture."""
    # np.minimum runs several times faster against an array than against a number.
    np.minimum(values, caps, out=values)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Evidence:
    """What differs between one frame and the background: pixel by pixel and cell by cell."""

    difference: FloatArray
    absolute: FloatArray
    # Each pixel's noise is sqrt(max(variance, noise_floor) * inflate), computed where needed.
    noise_floor: np.float32
    inflate: np.float32
    cell_difference: FloatArray
    cell_sigma: FloatArray
    cell_threshold: FloatArray
    changed_pixels: FloatArray
    filled: BoolArray
    shifted: BoolArray
    # The median pixel changed beyond the usual noise: the whole picture is new.
    everywhere: bool


class MotionDetector:
    """Compare each frame with a learned background and say whether something moved."""

    def __init__(self, settings: MotionSettings) -> None:
        """Start with no background; the first frames become it."""
        self.settings = settings
        self._layout: _Layout | None = None
        # The size of the camera's own pictures, when told: another is another picture.
        self._source_size: tuple[int, int] | None = None
        self._background: FloatArray | None = None
        # The background's cell means, kept in step with it rather than summed again.
        self._background_cells: FloatArray | None = None
        self._variance: FloatArray | None = None
        self._cell_variance: FloatArray | None = None
        self._samples = 0
        self._needed = WARMUP_FRAMES
        self._warm_since = -math.inf
        self._settled = False
        self._noise_known = False
        self._noise_samples = 1
        self._last_at: float | None = None
        # The usual time between analysed frames, learned; a gap is judged against it.
        self._interval: float | None = None
        # A frame's cell means about STIR_SECONDS old, in the background's light.
        self._reference: FloatArray | None = None
        self._reference_at = -math.inf
        self._stirred_at: FloatArray | None = None
        self._moved: BoolArray | None = None
        self._uncertainty: FloatArray | None = None
        self._recent: deque[bool] = deque(maxlen=CONFIRM_WINDOW)
        self._active_until = -math.inf
        self._now = -math.inf

    @property
    def active(self) -> bool:
        """Return the debounced state: on from confirmed motion until hold_seconds after it."""
        return self._now < self._active_until

    @property
    def settled(self) -> bool:
        """Return True once the background and its noise are learned well enough to judge."""
        return self._settled

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
        """Forget the background and the noise, as after a reconnect to another stream."""
        self._background = None
        self._variance = None
        self._cell_variance = None
        self._last_at = None
        self._settled = False
        self._recent.clear()

    def process(
        self, grey: NDArray[np.uint8], at: float, *, size: tuple[int, int] | None = None
    ) -> MotionResult:
        """Analyse one frame taken at monotonic time `at` (seconds) and update the state.

        `size` is the camera's own picture size (width, height) before scaling down. A camera
        that restarts its encoder at another size (at night, or on a setting changed) sends
        another picture, scaled and cropped otherwise, even where the scaled size is the same:
        the detector learns it afresh, as after a reconnect.
        """
        if size is not None and size != self._source_size:
            if self._source_size is not None:
                self.reset()
            self._source_size = size
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
            self.reset()
        picture = grey[: layout.rows * CELL, : layout.cols * CELL]
        gap = math.inf if self._last_at is None else at - self._last_at
        if self._background is None or not 0.0 <= gap <= self._gap_limit(gap):
            if gap > STALE_SECONDS:
                self._variance = self._cell_variance = None
            self._warm_up(picture.astype(np.float32), at)
            return MotionResult(motion=False, rejected="warmup")
        self._last_at = at
        assert self._background_cells is not None  # noqa: S101 - kept with the background
        # Converted once: a changed light needs the difference twice.
        frame = picture.astype(np.float32)
        difference = frame - self._background
        cell_difference = cell_mean(difference)
        frame_cells = self._background_cells + cell_difference
        uncertainty, mapped = self._relight(picture, frame_cells, gap, layout)
        if mapped:
            difference = frame - self._background
            cell_difference = cell_mean(difference)
        if not self._settled:
            return self._learn_warming(difference, cell_difference, at)
        seen = self._compare(difference, cell_difference, uncertainty, layout)
        moving = seen.filled | seen.shifted
        changed_area = float(moving.sum()) / layout.analysed_count
        if changed_area > GLOBAL_CHANGE or seen.everywhere:
            # A cut or a moved camera: nothing of the old background is any use; the noise is.
            self._rebase(frame, at, frames_needed=1)
            return MotionResult(motion=False, area=changed_area, rejected="lighting")

        if changed_area > PULSE_SHARE and _scattered(moving):
            # A keyframe redrew the whole picture's texture: specks everywhere and no shape.
            # Take the new rendering in fast, keep what clearly differs, and judge next frame.
            # Whatever it hides this frame shows again in the next, which is judged normally.
            self._moved = None
            self._uncertainty = np.maximum(uncertainty, np.abs(cell_difference))
            everything = np.ones_like(moving)
            self._learn(seen, moving, ~everything, everything, gap)
            return MotionResult(motion=False)

        # A cell seen only by its mean counts when it, or a neighbour, moved in the frame before:
        # noise and keyframes shift a cell's mean for one frame or everywhere thinly; people
        # persist.
        moved_before, self._moved = self._moved, moving
        persisted = _spread(moved_before, 1) if moved_before is not None else np.zeros_like(moving)
        confirmed = seen.filled | (seen.shifted & persisted)
        recent = self._stir(frame_cells, seen.cell_sigma, at)
        # Where the light just changed, what differs only a little more than the doubt allows is
        # the light fitted imperfectly, not a person: it is learned fast with the rest.
        relit = (uncertainty > self.settings.threshold_levels / 2) & (
            np.abs(cell_difference) < RELIT_MARGIN * seen.cell_threshold
        )
        # Regions are measured against the noise as it was, before this frame is learned.
        result = self._regions(seen, confirmed & layout.counted_cells, layout)
        self._learn(seen, moving, moving & recent & ~relit, relit, gap)
        return result

    def _gap_limit(self, gap: float) -> float:
        """Learn the source's pace from a gap; return the longest gap that is no reconnect.

        A gap is a reconnect only when long for this source: snapshot cameras send a picture
        every few seconds, and judging each of them as after a reconnect would never settle.
        """
        if not 0.0 < gap <= STALE_SECONDS:
            return max(GAP_SECONDS, GAP_INTERVALS * (self._interval or 0.0))
        if self._interval is None:
            # The first gap is all there is to know the pace by: a snapshot camera's second
            # picture continues its settling rather than starting it again.
            self._interval = gap
        limit = max(GAP_SECONDS, GAP_INTERVALS * self._interval)
        self._interval += 0.2 * (gap - self._interval)
        return limit

    def _relight(
        self, picture: NDArray[np.uint8], frame_cells: FloatArray, gap: float, layout: _Layout
    ) -> tuple[FloatArray, bool]:
        """Map the background onto the frame's light; return the light's doubt per cell.

        Also says whether the background was changed (the light had changed).
        """
        background, background_cells = self._background, self._background_cells
        assert background is not None  # noqa: S101 - checked by the caller
        assert background_cells is not None  # noqa: S101 - kept with the background
        # Clipped pixels say nothing of the gain: cells holding any are left out of the fit.
        clipped = background_cells >= CLIPPED_CELL
        if int(picture.max()) >= CLIPPED:  # most pictures have no clipped pixel at all
            # Few pixels are clipped: marking their cells is cheaper than pooling a mask.
            clipped.ravel()[layout.cell_of_pixel[np.flatnonzero(picture >= CLIPPED)]] = True
        usable = layout.analysed_cells & ~clipped & (frame_cells > DARK)
        gains, offsets = fit_light(background_cells, frame_cells, usable)
        # What a light change did to a cell is only known so well: allow a share of it as error
        # for a moment, while the background follows that cell's new light fast. Next to
        # saturated pixels a light change is not a gain at all (blooming, ringing).
        applied = np.abs(background_cells * (gains - np.float32(1.0)) + offsets)
        previous = self._uncertainty
        if previous is None or previous.shape != applied.shape:
            previous = np.zeros_like(applied)
        previous *= np.float32(math.exp(-gap / LIGHT_SETTLE_SECONDS))
        if float(applied.max()) < UNCHANGED_LEVELS:
            # Light as it was: nothing to map (most frames, and the cheapest path).
            self._uncertainty = previous
            return previous, False
        if clipped.any():
            error = np.where(_spread(clipped, 1), np.float32(1.0), np.float32(LIGHT_ERROR))
            uncertainty: FloatArray = np.maximum(previous, error * applied)
        else:
            uncertainty = np.maximum(previous, np.float32(LIGHT_ERROR) * applied)
        self._uncertainty = uncertainty
        if gains.size == 1:
            background *= gains[0, 0]
            background += offsets[0, 0]
        else:
            rows = _cell_rows(background)
            np.multiply(rows, _by_cell(gains), out=rows)
            background += offsets[0, 0]
        np.clip(background, 0.0, 255.0, out=background)
        self._background_cells = cell_mean(background)
        if self._reference is not None:
            self._reference = (self._reference * gains + offsets).astype(np.float32)
        # Noise scales with the light; the floors in _compare keep a dark picture's from vanishing.
        squared_gains = gains * gains
        if self._variance is not None and self._cell_variance is not None:
            if gains.size == 1:
                self._variance *= squared_gains[0, 0]
            else:
                rows = _cell_rows(self._variance)
                np.multiply(rows, _by_cell(squared_gains), out=rows)
            self._cell_variance *= squared_gains
            _cap(self._variance, layout.noise_caps)
            np.minimum(self._cell_variance, np.float32(NOISE_CAP), out=self._cell_variance)
        return uncertainty, True

    def _compare(
        self,
        difference: FloatArray,
        cell_difference: FloatArray,
        uncertainty: FloatArray,
        layout: _Layout,
    ) -> _Evidence:
        """Return what differs between the frame and the background beyond noise and light."""
        variance, cell_variance = self._variance, self._cell_variance
        assert variance is not None  # noqa: S101 - settled detectors have both
        assert cell_variance is not None  # noqa: S101
        absolute = np.abs(difference)
        # Noise: per pixel where the scene flickers, and the picture's overall level right now.
        global_noise = 1.4826 * median(absolute[::4, ::4].ravel())
        # A background of few frames still holds their noise: the difference is noisier by that.
        # A noise learned from few frames is itself uncertain (8 frames: easily a third off):
        # doubt it, less and less, until it has seen NOISE_FRAMES frames.
        doubt = max(0.0, NOISE_DOUBT * (self._noise_samples**-0.5 - NOISE_FRAMES**-0.5))
        inflate = np.float32(1.0 + 1.0 / min(self._samples, BACKGROUND_FRAMES) + doubt)
        sigmas, levels = self.settings.threshold_sigmas, self.settings.threshold_levels
        floor = np.float32(max(NOISE_FLOOR, global_noise) ** 2 / inflate)
        changed_pixels = self._changed_pixels(absolute, uncertainty, floor, inflate, layout)
        cell_sigma = np.sqrt(np.maximum(cell_variance * inflate, CELL_NOISE_FLOOR**2))
        cell_threshold = sigmas * cell_sigma + levels / 2 + uncertainty
        # Half the pixels beyond their usual noise, seen by the median: the whole picture changed.
        typical_noise = math.sqrt(median(variance[::6, ::6].ravel()))
        return _Evidence(
            difference=difference,
            absolute=absolute,
            noise_floor=floor,
            inflate=inflate,
            cell_difference=cell_difference,
            cell_sigma=cell_sigma,
            cell_threshold=cell_threshold,
            changed_pixels=changed_pixels,
            filled=(changed_pixels / layout.cell_pixels >= CELL_FILL) & layout.analysed_cells,
            shifted=(np.abs(cell_difference) > cell_threshold) & layout.analysed_cells,
            everywhere=global_noise > sigmas * typical_noise + levels,
        )

    def _changed_pixels(
        self,
        absolute: FloatArray,
        uncertainty: FloatArray,
        floor: np.float32,
        inflate: np.float32,
        layout: _Layout,
    ) -> FloatArray:
        """Return how many pixels of each cell changed beyond their threshold."""
        variance = self._variance
        assert variance is not None  # noqa: S101 - settled detectors have it
        sigmas = np.float32(self.settings.threshold_sigmas)
        levels = np.float32(self.settings.threshold_levels)
        doubted = float(uncertainty.max()) > 0.0
        # No pixel's threshold is below the noise floor's (rounding keeps order, the doubt is
        # never negative): only pixels beyond it can have changed, and most pictures have few.
        lowest = np.sqrt(floor * inflate) * sigmas + levels
        candidates = np.flatnonzero(absolute > lowest)
        if candidates.size > FEW_CANDIDATES * absolute.size:
            threshold = _noise(variance, floor, inflate)
            threshold *= sigmas
            threshold += levels
            if doubted:
                rows = _cell_rows(threshold)
                np.add(rows, _by_cell(uncertainty), out=rows)
            changed = absolute > threshold
            if layout.ignores:
                changed &= layout.analysed_pixels
            return cell_sum(changed)
        threshold = _noise(variance.ravel()[candidates], floor, inflate)
        threshold *= sigmas
        threshold += levels
        cells = layout.cell_of_pixel[candidates]
        if doubted:
            threshold += uncertainty.ravel()[cells]
        changed = absolute.ravel()[candidates] > threshold
        if layout.ignores:
            changed &= layout.analysed_pixels.ravel()[candidates]
        counts = np.bincount(cells[changed], minlength=layout.rows * layout.cols)
        return counts.reshape(layout.rows, layout.cols).astype(np.float32)

    def _regions(self, seen: _Evidence, counted: BoolArray, layout: _Layout) -> MotionResult:
        """Group the counted cells into objects and measure them in changed pixels."""
        if not counted.any():
            return MotionResult(motion=False)
        pixels_changed = seen.changed_pixels.astype(np.int32)
        # A cell found by its mean: its size is its pixels that changed clearly the same way.
        rows, cols = np.nonzero(counted & ~seen.filled)
        if rows.size:
            levels = np.float32(self.settings.threshold_levels / 2)
            blocks = _cells_of(seen.difference)[rows, :, cols, :]
            assert self._variance is not None  # noqa: S101 - settled detectors have it
            variance = _cells_of(self._variance)[rows, :, cols, :]
            noise = np.maximum(_noise(variance, seen.noise_floor, seen.inflate), levels)
            sign = np.sign(seen.cell_difference[rows, cols])[:, None, None]
            clear = blocks * sign > noise
            if layout.ignores:
                clear &= _cells_of(layout.analysed_pixels)[rows, :, cols, :]
            pixels_changed[rows, cols] = clear.sum(axis=(1, 2))
        regions, object_pixels = find_regions(
            counted,
            pixels_changed,
            cell=CELL,
            minimum=self.settings.min_object_size * layout.analysed_pixel_count,
            height=layout.height,
            width=layout.width,
        )
        return MotionResult(
            motion=bool(regions),
            regions=regions,
            area=object_pixels / layout.analysed_pixel_count,
        )

    def _warm_up(self, frame: FloatArray, at: float) -> None:
        """Start learning from this frame; judge nothing until settled."""
        known_noise = self._noise_known = self._variance is not None
        self._rebase(frame, at, frames_needed=REWARM_FRAMES if known_noise else WARMUP_FRAMES)
        self._warm_since = at if not known_noise else at - WARMUP_SECONDS
        self._settled = False
        self._recent.clear()

    def _rebase(self, frame: FloatArray, at: float, *, frames_needed: int) -> None:
        """Take this frame as the whole background."""
        layout = self._layout
        assert layout is not None  # noqa: S101 - set before any frame is analysed
        self._background = frame.copy()
        self._background_cells = cell_mean(frame)
        self._samples = 1
        self._needed = frames_needed
        self._last_at = at
        self._reference = self._background_cells.copy()
        self._reference_at = at
        self._stirred_at = np.full((layout.rows, layout.cols), -math.inf, dtype=np.float32)
        self._moved = None
        # Only a detector whose noise is learned may judge the very next frame.
        self._settled = frames_needed <= 1 and self._variance is not None

    def _learn_warming(
        self, difference: FloatArray, cell_difference: FloatArray, at: float
    ) -> MotionResult:
        """Average the frame into the background and learn the noise while settling."""
        background, background_cells, layout = (
            self._background,
            self._background_cells,
            self._layout,
        )
        assert background is not None  # noqa: S101 - set by the caller's checks
        assert background_cells is not None  # noqa: S101
        assert layout is not None  # noqa: S101
        samples = self._samples
        if self._cell_variance is not None:
            # A cut or a light step the fit cannot explain, while settling: start again from here.
            bound = np.maximum(4.0 * np.sqrt(self._cell_variance), np.float32(10.0))
            jumped = (np.abs(cell_difference) > bound) & layout.analysed_cells
            if float(jumped.sum()) / layout.analysed_count > GLOBAL_CHANGE:
                self._rebase(background + difference, at, frames_needed=self._needed)
                return MotionResult(motion=False, rejected="warmup")
        # A background of n frames differs from a new frame by the noise times sqrt(1 + 1/n).
        unbiased = np.float32(samples / (samples + 1.0))
        squared = difference * difference
        _cap(squared, layout.noise_caps)
        squared *= unbiased
        cell_squared = np.minimum(cell_difference * cell_difference, np.float32(NOISE_CAP))
        cell_squared *= unbiased
        if self._variance is None or self._cell_variance is None:
            self._variance, self._cell_variance = squared, cell_squared
            self._noise_samples = 1
        else:
            weight = np.float32(1.0 / (samples + (WARMUP_FRAMES if self._noise_known else 0)))
            self._variance += weight * (squared - self._variance)
            self._cell_variance += weight * (cell_squared - self._cell_variance)
        share = np.float32(1.0 / (samples + 1))
        background += share * difference
        background_cells += share * cell_difference
        self._samples = samples + 1
        self._noise_samples += 1
        self._reference = background_cells.copy()
        self._reference_at = at
        if self._samples >= self._frames_to_settle() and at - self._warm_since >= WARMUP_SECONDS:
            self._settled = True
        return MotionResult(motion=False, rejected="warmup")

    def _frames_to_settle(self) -> int:
        """Return how many pictures settle the detector: fewer for a slow source."""
        if self._interval is None:
            return self._needed
        by_time = math.ceil(SLOW_WARMUP_SECONDS / self._interval)
        return min(self._needed, max(REWARM_FRAMES, by_time))

    def _stir(self, frame_cells: FloatArray, cell_sigma: FloatArray, at: float) -> BoolArray:
        """Return cells near a change against a frame a second older within STOPPED_SECONDS."""
        reference, stirred_at = self._reference, self._stirred_at
        assert reference is not None  # noqa: S101 - set with the background
        assert stirred_at is not None  # noqa: S101
        threshold = self.settings.threshold_sigmas * cell_sigma * math.sqrt(2.0)
        stirring = np.abs(frame_cells - reference) > threshold + self.settings.threshold_levels / 2
        stirred_at[stirring] = at
        if at - self._reference_at >= STIR_SECONDS:
            self._reference = frame_cells.copy()
            self._reference_at = at
        return _spread((at - stirred_at) <= STOPPED_SECONDS, STIR_REACH)

    def _learn(
        self,
        seen: _Evidence,
        moving: BoolArray,
        keep_out: BoolArray,
        relit: BoolArray,
        elapsed: float,
    ) -> None:
        """Blend the frame into the background and the noise, slowly where things move."""
        background, background_cells = self._background, self._background_cells
        variance, cell_variance = self._variance, self._cell_variance
        assert background is not None  # noqa: S101 - set by the caller's checks
        assert background_cells is not None  # noqa: S101
        assert variance is not None  # noqa: S101
        assert cell_variance is not None  # noqa: S101
        assert self._layout is not None  # noqa: S101 - set before any frame is analysed
        self._samples += 1
        self._noise_samples += 1
        # What differs but has not stirred for a while has stopped (a parked chair, the ghost
        # of something that left): the background takes it in at the still rate.
        still_rate = np.float32(1.0 - math.exp(-elapsed / BACKGROUND_SECONDS))
        noise_rate = np.float32(1.0 - math.exp(-elapsed / NOISE_SECONDS))
        # In place, in one scratch picture: fewer passes over memory than fresh temporaries.
        squared = np.multiply(seen.absolute, seen.absolute)
        _cap(squared, self._layout.noise_caps)
        squared -= variance
        cell_squared = np.minimum(seen.cell_difference**2, np.float32(NOISE_CAP)) - cell_variance
        step = np.empty_like(seen.difference)
        if not (keep_out.any() or relit.any() or moving.any()):
            # Nothing moves and the light is steady: one rate for the whole picture.
            background += np.multiply(seen.difference, still_rate, out=step)
            background_cells += still_rate * seen.cell_difference
            variance += np.multiply(squared, noise_rate, out=squared)
            cell_variance += noise_rate * cell_squared
            return
        moving_rate = np.float32(1.0 - math.exp(-elapsed / FOREGROUND_SECONDS))
        relit_rate = np.float32(1.0 - math.exp(-elapsed / SETTLE_BACKGROUND_SECONDS))
        rate = np.where(keep_out, moving_rate, np.where(relit, relit_rate, still_rate))
        # Per-cell rates move each cell's mean by exactly rate x its mean difference.
        np.multiply(_cell_rows(seen.difference), _by_cell(rate), out=_cell_rows(step))
        background += step
        background_cells += rate * seen.cell_difference
        # Moving cells keep their noise estimate; others learn it, capped against outliers.
        cell_noise_rate = np.where(moving, np.float32(0.0), noise_rate)
        np.multiply(_cell_rows(squared), _by_cell(cell_noise_rate), out=_cell_rows(squared))
        variance += squared
        cell_variance += cell_noise_rate * cell_squared


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
