"""Learn what the room looks like empty, and say where the picture differs from it.

Motion alone forgets a person who stops moving. `EmptyScene` keeps a slowly learned model of the
empty room in small greyscale pictures and marks every cell of the picture that differs from it,
moving or not, so the privacy filter keeps hiding someone who sits still.

The rules, in plain words:
- Nothing is known at first: a cell is hidden until it has been learned, so the picture starts
  fully pixelated.
- Each cell keeps a candidate, how it looked when last quiet (no change beyond the noise within
  NEAR_CELLS, for FOLLOW_QUIET_SECONDS). Quiet time that matches the candidate adds up, across
  interruptions such as walkers passing in front, until the cell is learned:
  after LEARN_SECONDS for a first impression where nothing ever stirred nearby (an empty room
  at start-up), after ABSORB_SECONDS for anything else: a candidate that replaced another, one
  where something stirred before (someone who came in, or talked, then sat still), or one that
  differs from the room already learned (a moved chair, or someone sitting in it).
- A learned cell differs when its brightness, after mapping the room's overall light onto the
  frame (gain and offset, as auto-exposure and lamps change them), or its structure (the
  direction of its edges, which no light change alters) differs. Differing cells are hidden,
  grown by DILATE_CELLS and held for HOLD_SECONDS, until the thing leaves.
- Learned cells that match follow slow light drift. A differing cell follows the light only
  when its edges still match (the same furniture under another light) or, after
  RELIGHT_SECONDS, when it is flat and far from any edge that differs (a wall under a new lamp).
- When in doubt, hide: a light or IR switch makes cells differ; they stay hidden until the rules
  above re-learn them, never revealed by the change itself. Noise is capped at NOISE_CAP, so a
  light change never passes for noise that would loosen the comparisons.
- The owner can say the room as it looks now is empty (`accept`), after moving furniture.
- Time never goes back: a picture older than the newest looked at (two threads looking at
  once, one of them late) is not learned from, and all of it is hidden.

- What is learned outlives a restart (`saved`, `restore`): a model restored and then shown a
  room where someone sits still hides them as it would have without the restart, rather than
  taking them in as a first impression. Time stamps are not kept: after a restore, as after
  any long pause, every timer restarts and the quiet time already gathered is kept.

Limits, stated honestly: someone perfectly still, without a stir, from before the model first
starts and for LEARN_SECONDS is learned as part of the room (one model per camera, kept across
viewers and restarts, makes that rare); someone perfectly still for ABSORB_SECONDS is absorbed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
import math
import threading
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from .cells import CELL, cell_mean
from .geometry import Box

type FloatArray = NDArray[np.float32]
type Cells = NDArray[np.bool_]

# The model needs no more than this many looks a second; frames in between reuse the last answer.
OBSERVE_INTERVAL: Final = 0.1
# The short-term picture, against which quiet and stirring are judged.
SHORT_SECONDS: Final = 2.0
# First impressions where nothing ever stirred nearby are learned after this much quiet. A person
# perfectly still from before the start for this long is the one case this model cannot protect.
LEARN_SECONDS: Final = 60.0
# Anything else is learned only after this much quiet without a change. Long, because a child
# asleep at nap time or a person who fell may not stir for an hour; a moved chair stays hidden
# meanwhile unless the owner says the room is empty (the camera's "Room is empty" button).
ABSORB_SECONDS: Final = 7200.0
# Flat cells that differ in brightness only, far from any edge that differs, follow the light
# after this long quiet: a wall lit by a new lamp, never a person's outline.
RELIGHT_SECONDS: Final = 30.0
RELIGHT_CLEARANCE: Final = 3
# Learned cells that match follow light drift and noise with this time constant, once quiet.
FOLLOW_SECONDS: Final = 10.0
FOLLOW_QUIET_SECONDS: Final = 2.0
# Quiet is judged over this neighbourhood: a still arm beside a moving hand is not quiet.
NEAR_CELLS: Final = 2
# Hidden cells are grown by this many cells (about 5 % of the picture height) and stay hidden
# this long after they stop differing: an outline's blur, a lag of the analysis.
DILATE_CELLS: Final = 2
HOLD_SECONDS: Final = 2.0
# Structure: edge correlation below MISMATCH differs, above MATCH is the same surface; a window
# has structure when its edge energy is TEXTURE times what noise alone gives.
MISMATCH: Final = 0.5
MATCH: Final = 0.8
TEXTURE: Final = 6.0
# Brightness: a cell differs beyond this many grey levels plus noise and a share of its level.
LEVELS: Final = 8.0
LEVEL_SHARE: Final = 0.08
NOISE_FLOOR: Final = 1.0
NOISE_CAP: Final = 4.0
# Cells with this share of their pixels at or above BURNT grey levels are blank: overexposed.
BURNT: Final = 250.0
BLANK_SHARE: Final = 0.95
# Stirring over this share of the picture at once is light, exposure or the stream, not people.
GLOBAL_STIR: Final = 0.5
# A pause this long makes quiet unknowable: every timer restarts (the model itself is kept).
STALE_SECONDS: Final = 30.0
# The layout of what `EmptyScene.saved` returns; a different one is not read.
SAVED_FORMAT: Final = 1


def cells_of(values: FloatArray, rows: int, cols: int) -> FloatArray:
    """Return the mean of each cell of a picture cropped to `rows` x `cols` whole cells."""
    return cell_mean(values[: rows * CELL, : cols * CELL])


def grow(cells: Cells, radius: int) -> Cells:
    """Return the cells within `radius` (a square) of a marked one."""
    if radius <= 0 or not cells.any():
        return cells.copy()
    out = cells.copy()
    # Separable: rows then columns, doubling the reach each step.
    for axis in (0, 1):
        reach = 0
        while reach < radius:
            step = min(reach + 1, radius - reach)
            shifted = out.copy()
            if axis == 0:
                shifted[step:] |= out[:-step]
                shifted[:-step] |= out[step:]
            else:
                shifted[:, step:] |= out[:, :-step]
                shifted[:, :-step] |= out[:, step:]
            out = shifted
            reach += step
    return out


def blobs(cells: Cells) -> list[tuple[int, int, int, int]]:
    """Return the 8-connected groups of marked cells as (top, left, bottom, right), exclusive."""
    rows, cols = cells.shape
    labels = np.where(cells, np.arange(1, rows * cols + 1).reshape(rows, cols), 0)
    # Each step spreads the largest label one cell: a few dozen steps on a grid this small.
    while True:
        spread = labels.copy()
        spread[1:] = np.maximum(spread[1:], labels[:-1])
        spread[:-1] = np.maximum(spread[:-1], labels[1:])
        wide = spread.copy()
        wide[:, 1:] = np.maximum(wide[:, 1:], spread[:, :-1])
        wide[:, :-1] = np.maximum(wide[:, :-1], spread[:, 1:])
        wide[~cells] = 0
        if np.array_equal(wide, labels):
            break
        labels = wide
    found = []
    for label in np.unique(labels[labels > 0]):
        down, across = np.nonzero(labels == label)
        found.append(
            (int(down.min()), int(across.min()), int(down.max()) + 1, int(across.max()) + 1)
        )
    return found


def heads(cells: Cells, tall: int) -> Cells:
    """Return where faces may be in each blob of cells that differ from the empty room.

    All of a blob shorter than `tall` cells (too small for a face detector) or wider than it is
    tall (someone lying down, a group, the unknown room at start-up); the top third of others.
    """
    out = np.zeros_like(cells)
    for top, left, bottom, right in blobs(cells):
        height, width = bottom - top, right - left
        if height < tall or width > height:
            out[top:bottom, left:right] |= cells[top:bottom, left:right]
        else:
            cut = top + math.ceil(height / 3)
            out[top:cut, left:right] |= cells[top:cut, left:right]
    return out


def box_sum(values: FloatArray) -> FloatArray:
    """Return each cell's sum over its 3 x 3 neighbourhood of cells (edges count what exists)."""
    rows = values.copy()
    rows[1:] += values[:-1]
    rows[:-1] += values[1:]
    summed = rows.copy()
    summed[:, 1:] += rows[:, :-1]
    summed[:, :-1] += rows[:, 1:]
    return summed


def fit_light(model: FloatArray, frame: FloatArray, usable: Cells) -> tuple[float, float]:
    """Return gain and offset mapping model cells onto frame cells, trimming what differs."""
    x, y = model[usable], frame[usable]
    if x.size < 16:  # noqa: PLR2004 - too little to fit: assume no change
        return 1.0, 0.0
    keep: Cells = np.ones(x.size, dtype=bool)
    gain, offset = 1.0, 0.0
    for _ in range(3):
        xs, ys = x[keep], y[keep]
        x_mean, y_mean = float(xs.mean()), float(ys.mean())
        spread = float(np.mean((xs - x_mean) ** 2))
        if spread < 4.0:  # noqa: PLR2004 - a flat scene: only an offset is knowable
            gain, offset = 1.0, float(np.median(ys - xs))
        else:
            gain = float(np.mean((xs - x_mean) * (ys - y_mean))) / spread
            gain = min(8.0, max(0.125, gain))
            offset = y_mean - gain * x_mean
        residual = np.abs(y - (gain * x + offset))
        keep = residual <= max(4.0, 2.5 * float(np.median(residual)))
        if keep.sum() < 16:  # noqa: PLR2004
            break
    return gain, offset


def _gradients(picture: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return horizontal and vertical differences, the same size as the picture."""
    gx = np.zeros_like(picture)
    gy = np.zeros_like(picture)
    gx[:, :-1] = picture[:, 1:] - picture[:, :-1]
    gy[:-1] = picture[1:] - picture[:-1]
    return gx, gy


class Comparison:
    """How each cell of a picture compares with a reference picture of the same size."""

    __slots__ = ("brightness", "matches", "structure", "textured")

    def __init__(
        self,
        picture: FloatArray,
        reference: FloatArray,
        noise: float,
        light: tuple[float, float] = (1.0, 0.0),
    ) -> None:
        """Compare per cell: brightness after mapping the reference's light, and edges."""
        rows, cols = picture.shape[0] // CELL, picture.shape[1] // CELL
        gain, offset = light
        expected = gain * cells_of(reference, rows, cols) + offset
        level = cells_of(picture, rows, cols)
        self.brightness = np.abs(level - expected) > (
            LEVELS + 2.0 * noise + LEVEL_SHARE * np.abs(expected)
        )
        px, py = _gradients(picture)
        rx, ry = _gradients(reference)
        energy_p = box_sum(cells_of(px * px + py * py, rows, cols))
        energy_r = box_sum(cells_of(rx * rx + ry * ry, rows, cols)) * np.float32(gain * gain)
        cross = box_sum(cells_of(px * rx + py * ry, rows, cols)) * np.float32(gain)
        # Edge energy of pure noise: two differences of noisy pixels over 3 x 3 cells.
        floor = np.float32(TEXTURE * 9.0 * 4.0 * noise * noise)
        textured_p, textured_r = energy_p > floor, energy_r > floor
        correlation = cross / np.sqrt(energy_p * energy_r + np.float32(1e-6))
        self.textured = textured_p | textured_r
        self.structure = self.textured & (correlation < MISMATCH)
        self.matches = textured_p & textured_r & (correlation >= MATCH)

    @property
    def differs(self) -> Cells:
        """Return the cells that differ in brightness or in structure."""
        differs: Cells = self.structure | self.brightness
        return differs


class EmptyScene:
    """A model of the empty room, learned slowly and never from where someone is.

    The privacy filter calls `look` with each picture it filters (two filters of one camera may
    share one model, from two threads); `accept` when the owner says the room is empty now.
    """

    def __init__(
        self,
        *,
        learn_seconds: float = LEARN_SECONDS,
        absorb_seconds: float = ABSORB_SECONDS,
        relight_seconds: float = RELIGHT_SECONDS,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        """Start knowing nothing: every cell hidden until learned."""
        self.learn_seconds = learn_seconds
        self.absorb_seconds = absorb_seconds
        self.relight_seconds = relight_seconds
        self.hold_seconds = hold_seconds
        self._shape: tuple[int, int] | None = None
        self._model: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self._short: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self._candidate: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self._known: Cells = np.zeros((0, 0), dtype=bool)
        self._has_candidate: Cells = np.zeros((0, 0), dtype=bool)
        self._disturbed: Cells = np.zeros((0, 0), dtype=bool)
        self._needs: NDArray[np.float64] = np.zeros((0, 0))
        self._evidence: NDArray[np.float64] = np.zeros((0, 0))
        self._quiet_since: NDArray[np.float64] = np.zeros((0, 0))
        self._hidden_until: NDArray[np.float64] = np.zeros((0, 0))
        self._last_at: float | None = None
        self.gain, self.offset = 1.0, 0.0
        # One model serves every privacy level of a camera, each filtering in its own thread.
        self._lock = threading.Lock()
        # The full size of the last picture looked at: cells cover it, the last ones its rest.
        self.picture_size: tuple[int, int] = (0, 0)

    @property
    def last_look(self) -> float | None:
        """Return when a picture was last looked at; None before any since start or restore."""
        return self._last_at

    def look(
        self, grey: Callable[[], NDArray[np.uint8]], at: float, moving: tuple[Box, ...] = ()
    ) -> tuple[Cells, tuple[int, int]]:
        """Observe the picture when due; return the cells to hide and the size they cover.

        `grey` makes the small greyscale picture, asked for only when it is looked at.
        `moving` are the motion detector's recent regions: they are never quiet. A picture
        older than the last one looked at is hidden whole and not learned from.
        """
        with self._lock:
            last = self._last_at
            if last is not None and at < last:
                # Older than the newest picture looked at: a look that waited in its thread
                # while a viewer's newer picture went first. Learned from, it would turn time
                # back, restarting every timer and cutting the holds short; it is never
                # compared with the room, so nothing of it is known to be room.
                return np.ones((1, 1), dtype=bool), self.picture_size
            if last is None or at - last >= OBSERVE_INTERVAL - 1e-6:
                self.observe(grey(), at, moving)
            return self.hidden(at), self.picture_size

    def observe(self, grey: NDArray[np.uint8], at: float, moving: tuple[Box, ...] = ()) -> None:
        """Compare a small greyscale picture with the model and learn what the rules allow.

        `moving` are the motion detector's recent regions: they are never quiet.
        """
        rows, cols = grey.shape[0] // CELL, grey.shape[1] // CELL
        if rows < 1 or cols < 1:
            raise ValueError("the scene needs a greyscale picture at least 4 pixels each way")
        frame = grey[: rows * CELL, : cols * CELL].astype(np.float32)
        self.picture_size = (grey.shape[0], grey.shape[1])
        last = self._last_at
        if self._shape != (rows, cols):
            self._start(frame, rows, cols, at)
            return
        model, short = self._model, self._short
        elapsed = at - last if last is not None else math.inf
        self._last_at = at
        if not 0.0 <= elapsed <= STALE_SECONDS:
            # Nobody watched meanwhile: keep what the room looks like, restart every timer.
            short[...] = frame
            self._quiet_since[...] = at
            self._compare_with_room(frame, at, NOISE_FLOOR)
            return

        # Stirring: change against the last seconds, under this frame's light, beyond noise.
        frame_cells, short_cells = cells_of(frame, rows, cols), cells_of(short, rows, cols)
        gain, offset = fit_light(short_cells, frame_cells, np.ones((rows, cols), dtype=bool))
        stir = cells_of(np.abs(frame - (gain * short + offset)), rows, cols)
        # Capped: a light change must never pass for noise and loosen every comparison.
        noise = min(NOISE_CAP, max(NOISE_FLOOR, 1.25 * float(np.median(stir))))
        stirring = (stir > 2.0 * noise + 2.0) | self._cells_of(moving)
        near = grow(stirring, NEAR_CELLS)
        self._quiet_since[near] = at
        # What stirred may have been someone who then sat still: their look is no first
        # impression. Half the picture at once is light or the stream, not a person.
        if stirring.mean() < GLOBAL_STIR:
            self._disturbed |= near
        short += np.float32(1.0 - math.exp(-elapsed / SHORT_SECONDS)) * (frame - short)

        room = self._compare_with_room(frame, at, noise)
        differs, known = room.differs & self._known, self._known
        quiet = at - self._quiet_since
        # Matching cells, and cells whose edges still match (the light changed), follow it.
        follow = known & (quiet >= FOLLOW_QUIET_SECONDS) & (~differs | room.matches)
        relight = differs & ~room.textured & ~grow(room.structure & known, RELIGHT_CLEARANCE)
        follow |= known & relight & (quiet >= self.relight_seconds)
        if follow.any():
            self._blend(model, frame, follow, np.float32(1.0 - math.exp(-elapsed / FOLLOW_SECONDS)))
        self._gather(at, noise, elapsed, settled=quiet >= FOLLOW_QUIET_SECONDS, open_=~follow)

    def _gather(
        self, at: float, noise: float, elapsed: float, *, settled: Cells, open_: Cells
    ) -> None:
        """Add quiet time to each cell's candidate; learn the candidates with enough of it."""
        known = self._known
        # Known cells that match the room need no candidate.
        self._has_candidate &= open_
        self._evidence[~open_] = 0.0
        quiet = settled & open_
        if not quiet.any():
            return
        # Under the light of now: a lamp switched during start-up changes no first impression.
        rows, cols = quiet.shape
        light = fit_light(
            cells_of(self._candidate, rows, cols),
            cells_of(self._short, rows, cols),
            self._has_candidate,
        )
        same = ~Comparison(self._short, self._candidate, noise, light).differs
        fresh = quiet & (~self._has_candidate | ~same)
        # Kept in today's light, so that what is learned matches the rest of the model.
        self._blend(self._candidate, self._short, quiet & ~fresh, np.float32(1.0))
        if fresh.any():
            # A replaced candidate, one where the room is known, or one where something stirred
            # before it, may be someone who stayed.
            replaced = self._has_candidate | known | self._disturbed
            self._needs[fresh] = np.where(replaced[fresh], self.absorb_seconds, self.learn_seconds)
            self._blend(self._candidate, self._short, fresh, np.float32(1.0))
            self._evidence[fresh] = 0.0
            self._has_candidate |= fresh
        self._evidence[quiet & ~fresh] += elapsed
        learn = quiet & self._has_candidate & (self._evidence >= self._needs)
        if learn.any():
            self._blend(self._model, self._candidate, learn, np.float32(1.0))
            known |= learn
            self._has_candidate &= ~learn
            self._evidence[learn] = 0.0
            self._hidden_until[learn] = -math.inf

    def accept(self) -> None:
        """Take the room as it looks now as empty: the owner says so."""
        with self._lock:
            if self._shape is None:
                return
            self._model[...] = self._short
            self._known[...] = True
            self._has_candidate[...] = False
            self._disturbed[...] = False
            self._evidence[...] = 0.0
            self._hidden_until[...] = -math.inf

    def saved(self) -> dict[str, Any] | None:
        """Return what the model has learned, as JSON-ready text; None before any picture.

        Pictures are kept as whole grey levels: the comparisons allow eight levels and more.
        """
        with self._lock:
            if self._shape is None:
                return None
            rows, cols = self._shape
            return {
                "format": SAVED_FORMAT,
                "rows": rows,
                "cols": cols,
                "picture_size": list(self.picture_size),
                "model": _pack_picture(self._model),
                "candidate": _pack_picture(self._candidate),
                "known": _pack_cells(self._known),
                "has_candidate": _pack_cells(self._has_candidate),
                "disturbed": _pack_cells(self._disturbed),
                "needs": _pack_seconds(self._needs),
                "evidence": _pack_seconds(self._evidence),
            }

    def restore(self, saved: Mapping[str, Any]) -> None:
        """Take up what `saved` returned before; raise ValueError when it cannot be read.

        Only a model that has seen no picture yet restores: what it has seen since is newer.
        """
        if saved.get("format") != SAVED_FORMAT:
            raise ValueError("unreadable saved scene: another format")
        try:
            rows, cols = max(1, int(saved["rows"])), max(1, int(saved["cols"]))
            height, width = (int(side) for side in saved["picture_size"])
            model = _unpack_picture(saved["model"], rows, cols)
            candidate = _unpack_picture(saved["candidate"], rows, cols)
            known = _unpack_cells(saved["known"], rows, cols)
            has_candidate = _unpack_cells(saved["has_candidate"], rows, cols)
            disturbed = _unpack_cells(saved["disturbed"], rows, cols)
            needs = _unpack_seconds(saved["needs"], rows, cols)
            evidence = _unpack_seconds(saved["evidence"], rows, cols)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"unreadable saved scene: {type(err).__name__}") from None
        if height // CELL != rows or width // CELL != cols:
            raise ValueError("unreadable saved scene: its picture size and cells disagree")
        with self._lock:
            if self._shape is not None:
                return
            self._shape = (rows, cols)
            self.picture_size = (height, width)
            self._model, self._candidate = model, candidate
            self._short = model.copy()
            self._known, self._has_candidate, self._disturbed = known, has_candidate, disturbed
            self._needs, self._evidence = needs, evidence
            self._quiet_since = np.zeros((rows, cols))
            self._hidden_until = np.full((rows, cols), -math.inf)
            # No time yet: the first picture is judged as after a long pause.
            self._last_at = None

    def hidden(self, at: float) -> Cells:
        """Return the cells to hide at `at`: unknown, differing, grown and held."""
        if self._shape is None:
            return np.ones((1, 1), dtype=bool)
        return (self._hidden_until > at) | ~self._known

    def _start(self, frame: FloatArray, rows: int, cols: int, at: float) -> None:
        """Begin with a new picture size: nothing known."""
        self._shape = (rows, cols)
        self._model = frame.copy()
        self._short = frame.copy()
        self._candidate = frame.copy()
        self._known = np.zeros((rows, cols), dtype=bool)
        self._has_candidate = np.zeros((rows, cols), dtype=bool)
        self._disturbed = np.zeros((rows, cols), dtype=bool)
        self._needs = np.full((rows, cols), self.learn_seconds)
        self._evidence = np.zeros((rows, cols))
        self._quiet_since = np.full((rows, cols), at)
        self._hidden_until = np.full((rows, cols), -math.inf)
        self._last_at = at

    def _compare_with_room(self, frame: FloatArray, at: float, noise: float) -> Comparison:
        """Compare the frame with the room under the frame's light; hide what differs."""
        rows, cols = self._shape or (0, 0)
        known = self._known
        frame_cells = cells_of(frame, rows, cols)
        model_cells = cells_of(self._model, rows, cols)
        usable = known & (frame_cells > 4.0) & (frame_cells < 251.0)  # noqa: PLR2004
        self.gain, self.offset = fit_light(model_cells, frame_cells, usable)
        room = Comparison(frame, self._model, noise, (self.gain, self.offset))
        # A cell burnt out to white shows nothing of anyone: an overexposed path under a new
        # lamp need not stay hidden until absorbed. Its model is kept for when the light goes.
        blank = cells_of((frame >= BURNT).astype(np.float32), rows, cols) >= BLANK_SHARE
        hide = grow(room.differs & known & ~blank, DILATE_CELLS)
        self._hidden_until[hide] = at + self.hold_seconds
        return room

    def _cells_of(self, boxes: tuple[Box, ...]) -> Cells:
        """Return the cells the boxes touch."""
        rows, cols = self._shape or (0, 0)
        cells = np.zeros((rows, cols), dtype=bool)
        for box in boxes:
            # Rounded outwards: a box touching a cell marks it.
            left, top = math.floor(box.x * cols), math.floor(box.y * rows)
            right = math.ceil((box.x + box.width) * cols)
            bottom = math.ceil((box.y + box.height) * rows)
            cells[max(0, top) : max(0, bottom), max(0, left) : max(0, right)] = True
        return cells

    @staticmethod
    def _blend(target: FloatArray, source: FloatArray, cells: Cells, rate: np.float32) -> None:
        """Move the marked cells of `target` towards `source` by `rate`, in place."""
        rows, cols = cells.shape
        weights = np.where(cells, rate, np.float32(0.0)).astype(np.float32)[:, None, :, None]
        view = target.reshape(rows, CELL, cols, CELL)
        view += weights * (source.reshape(rows, CELL, cols, CELL) - view)


def _pack_picture(picture: FloatArray) -> str:
    """Return a cell-cropped picture as base64 text of whole grey levels."""
    levels = np.clip(np.rint(picture), 0, 255).astype(np.uint8)
    return base64.b64encode(levels.tobytes()).decode("ascii")


def _unpack_picture(text: str, rows: int, cols: int) -> FloatArray:
    """Return the picture `_pack_picture` packed, checking its size."""
    data = np.frombuffer(base64.b64decode(text, validate=True), dtype=np.uint8)
    if data.size != rows * CELL * cols * CELL:
        raise ValueError("a saved picture of the wrong size")
    return data.reshape(rows * CELL, cols * CELL).astype(np.float32)


def _pack_cells(cells: Cells) -> str:
    """Return marked cells as base64 text of their bits."""
    return base64.b64encode(np.packbits(cells, axis=None).tobytes()).decode("ascii")


def _unpack_cells(text: str, rows: int, cols: int) -> Cells:
    """Return the cells `_pack_cells` packed, checking their number."""
    bits = np.frombuffer(base64.b64decode(text, validate=True), dtype=np.uint8)
    if bits.size != (rows * cols + 7) // 8:
        raise ValueError("saved cells of the wrong number")
    return np.unpackbits(bits, count=rows * cols).astype(bool).reshape(rows, cols)


def _pack_seconds(seconds: NDArray[np.float64]) -> str:
    """Return per-cell durations as base64 text of 32-bit floats (a second's fraction is moot)."""
    return base64.b64encode(seconds.astype("<f4").tobytes()).decode("ascii")


def _unpack_seconds(text: str, rows: int, cols: int) -> NDArray[np.float64]:
    """Return the durations `_pack_seconds` packed; refuse any that is not a number."""
    data = np.frombuffer(base64.b64decode(text, validate=True), dtype="<f4")
    if data.size != rows * cols or not np.isfinite(data).all() or (data < 0).any():
        raise ValueError("saved durations of the wrong number or not durations")
    return data.astype(np.float64).reshape(rows, cols)
