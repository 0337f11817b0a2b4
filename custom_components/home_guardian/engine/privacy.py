"""Hide the people on camera before a shared picture leaves Home Assistant.

`PrivacyFilter` pixelates, at level "people", everything that differs from the empty room (see
`scene.EmptyScene`: a person who sits still stays hidden for as long as they stay), everything
that moved within the hold time (motion regions, grown: a walker is hidden before the scene
model has looked at the frame), and detected faces where a detector is installed; it always
fills fixed privacy zones. At level "faces" it hides detected faces and, since detectors miss
small and turned faces, the heads of whatever differs from the empty room (all of it where too
small for the detector). Face detection is never relied on alone at level people: it misses
side-on and distant faces. Pure numpy and Pillow; OpenCV is used for faces only when the
installed package brings its own Haar cascade. The caption naming the viewer is added
afterwards, per viewer (see `watermark`).

Start-up is conservative: the whole picture is hidden until the motion detector has settled,
and then every part of it the scene model has not yet learned as empty room (see `scene`).

Limits, stated honestly: someone perfectly still from before the filter started, for the scene's
learning time, is learned as room; so is someone perfectly still for its absorption time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from enum import StrEnum
import functools
import importlib
import math
import threading
from typing import Any, Final, Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from .cells import CELL
from .frames import Frame
from .geometry import Box, Point, polygon_mask
from .motion import ANALYSIS_HEIGHT
from .scene import EmptyScene, heads

type RGB = NDArray[np.uint8]
type Mask = NDArray[np.bool_]

# A person who stops is still a person: their last moving region stays masked this long.
HOLD_SECONDS: Final = 10.0
# Motion boxes are grown by this share of their size on every side, and by at least
# MIN_MARGIN of the picture: a blob often misses a still head or arm, and lags a walker.
MARGIN: Final = 0.25
MIN_MARGIN: Final = 0.03
# Until the detector has had this long on settled frames, nobody knows where people stand: the
# whole picture is pixelated. Motion news older than STALE_SECONDS means the same.
SETTLE_SECONDS: Final = 3.0
STALE_SECONDS: Final = 3.0
# Blocks of 1/20 of the picture height: a face becomes one or two blocks, a body a few.
BLOCKS_PER_HEIGHT: Final = 20
# Fixed zones are filled, not pixelated: not even their colours get out.
ZONE_FILL: Final = (40, 40, 40)
FACE_MARGIN: Final = 0.35
# A face found stays masked this long: Haar cascades flicker, missing a face found a frame before.
FACE_HOLD_SECONDS: Final = 1.0
# At level people faces only add to the motion masks, so the costly detector (about 0.1 s a
# frame at 640x360 on a small CPU) runs at most this often; at level faces it runs every frame.
PEOPLE_FACE_INTERVAL: Final = 0.4
# Faces are looked for on a copy at most this high; smaller faces than the cascade's minimum
# (about 20 px) are not found there anyway.
FACE_ANALYSIS_HEIGHT: Final = 480
FACE_MIN_PX: Final = 20
# A standing person is about this many faces tall: one shorter than this many of the smallest
# faces the detector finds is hidden whole at level faces.
PERSON_HEADS: Final = 7.5
MAX_HISTORY: Final = 512
# Motion regions this recent count as stirring for the scene model: never quiet, never learned.
SCENE_MOTION_SECONDS: Final = 1.0
# While sharing is allowed and nobody watches, the scene model looks at the room this often:
# enough to learn it and to see who comes in (motion regions cover the time between looks),
# at a tenth of what filtering a watched picture costs.
ROOM_LOOK_SECONDS: Final = SCENE_MOTION_SECONDS


class PrivacyLevel(StrEnum):
    """How much of the people on camera a viewer may see."""

    # Everything that differs from the empty room or moved lately, faces too where detected.
    PEOPLE = "people"
    # Detected faces, and the heads of whoever differs from the empty room (all of them when
    # too small for the detector); falls back to PEOPLE where face detection is not available.
    FACES = "faces"
    # Nothing hidden but the fixed zones: for trusted viewers, chosen explicitly.
    NONE = "none"


class FaceDetector(Protocol):
    """Anything that finds faces in an RGB picture."""

    def detect(self, rgb: RGB) -> tuple[Box, ...]:
        """Return the faces found, as normalised boxes."""


class HaarFaceDetector:
    """Find frontal faces with the Haar cascade that the opencv-python(-headless) package ships."""

    CASCADE: Final = "haarcascade_frontalface_default.xml"

    def __init__(self, cv2: Any, classifier: Any) -> None:
        """Wrap a loaded cascade; use `load` to make one."""
        self._cv2 = cv2
        self._classifier = classifier
        # OpenCV's cascade keeps scratch buffers: one detection at a time.
        self._lock = threading.Lock()

    @classmethod
    def load(cls) -> HaarFaceDetector | None:
        """Return a detector, or None when OpenCV or its bundled cascade is not installed.

        Importing OpenCV takes a while: call this once, in an executor.
        """
        try:
            # Optional and slow to import; typed as Any since its stubs vary between versions.
            cv2: Any = importlib.import_module("cv2")
            path = f"{cv2.data.haarcascades}{cls.CASCADE}"
            # OpenCV 5 dropped cascades; an empty classifier means the file was not there.
            classifier = cv2.CascadeClassifier(path)
        except (ImportError, AttributeError, OSError):
            return None
        if classifier.empty():
            return None
        return cls(cv2, classifier)

    def detect(self, rgb: RGB) -> tuple[Box, ...]:
        """Return frontal faces at least about 20 pixels wide (at the analysis size)."""
        height, width = rgb.shape[:2]
        cv2 = self._cv2
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        scale = min(1.0, FACE_ANALYSIS_HEIGHT / height)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(grey)
        with self._lock:
            found = self._classifier.detectMultiScale(
                grey, scaleFactor=1.1, minNeighbors=3, minSize=(FACE_MIN_PX, FACE_MIN_PX)
            )
        small_h, small_w = grey.shape[:2]
        return tuple(
            Box(x=x / small_w, y=y / small_h, width=w / small_w, height=h / small_h)
            for x, y, w, h in np.asarray(found, dtype=np.int64).reshape(-1, 4).tolist()
        )


def load_face_detector() -> FaceDetector | None:
    """Return the best installed face detector, or None; slow, call it in an executor."""
    return HaarFaceDetector.load()


class PrivacyFilter:
    """Hide people, faces and fixed zones in pictures.

    Feed it the motion detector's regions with `update_motion` as they come, and pass every
    shared picture through `apply` once, before it is fanned out to viewers (see
    `watermark.SharedPicture`).
    `at` is the same monotonic clock the motion detector uses. Safe to call from two threads.
    """

    def __init__(
        self,
        level: PrivacyLevel | str = PrivacyLevel.PEOPLE,
        zones: Sequence[Sequence[Point]] = (),
        *,
        hold_seconds: float = HOLD_SECONDS,
        margin: float = MARGIN,
        settle_seconds: float = SETTLE_SECONDS,
        stale_seconds: float = STALE_SECONDS,
        face_detector: FaceDetector | None = None,
        face_interval: float | None = None,
        scene: EmptyScene | None = None,
    ) -> None:
        """Set the level and the zones (normalised polygons, as geometry.parse_polygons gives).

        `face_interval` is the least time between face detections (default: every frame at
        level faces, PEOPLE_FACE_INTERVAL at level people). `scene` is the camera's model of
        its empty room; pass one that lives as long as the camera, so that a new filter does
        not start from nothing (default: a new one, learned from the pictures filtered here).
        """
        self.level = PrivacyLevel(level)
        self.zones = tuple(tuple(polygon) for polygon in zones)
        self.hold_seconds = hold_seconds
        self.margin = margin
        self.settle_seconds = settle_seconds
        self.stale_seconds = stale_seconds
        self._faces = face_detector
        if face_interval is None:
            face_interval = PEOPLE_FACE_INTERVAL if self.level is PrivacyLevel.PEOPLE else 0.0
        self.face_interval = face_interval
        self._face_history: deque[tuple[float, tuple[Box, ...]]] = deque(maxlen=MAX_HISTORY)
        self._history: deque[tuple[float, tuple[Box, ...]]] = deque(maxlen=MAX_HISTORY)
        self._last_update: float | None = None
        self._settled_since: float | None = None
        self._lock = threading.Lock()
        self._scene = EmptyScene() if scene is None else scene
        self.last_hidden_share = 0.0

    @property
    def face_detection_available(self) -> bool:
        """Return True when faces can be detected; False should raise a repair at level faces."""
        return self._faces is not None

    @property
    def effective_level(self) -> PrivacyLevel:
        """Return the level applied: "faces" without a detector masks as much as "people"."""
        if self.level is PrivacyLevel.FACES and self._faces is None:
            return PrivacyLevel.PEOPLE
        return self.level

    def update_motion(self, regions: Iterable[Box], at: float, *, settled: bool = True) -> None:
        """Record one analysed frame's moving regions.

        Pass `settled=False` while the detector is warming up or re-learning after a light
        change (its result's `rejected` is set): then the filter cannot know where people are.
        """
        boxes = tuple(regions)
        with self._lock:
            self._last_update = at
            if not settled:
                self._settled_since = None
            elif self._settled_since is None:
                self._settled_since = at
            if boxes:
                self._history.append((at, boxes))

    def blind(self, at: float) -> bool:
        """Return True when level people must hide the whole picture for lack of motion news."""
        if self.effective_level is not PrivacyLevel.PEOPLE:
            return False
        with self._lock:
            last, since = self._last_update, self._settled_since
        return (
            last is None
            or since is None
            or at - since < self.settle_seconds
            or at - last > self.stale_seconds
        )

    def people(self, at: float) -> tuple[Box, ...]:
        """Return the grown regions where people are or were within the hold time."""
        with self._lock:
            while self._history and at - self._history[0][0] > self.hold_seconds:
                self._history.popleft()
            recent = [box for _, boxes in self._history for box in boxes]
        return tuple(self._grow(box, self.margin, MIN_MARGIN) for box in recent)

    def hidden_boxes(self, rgb: RGB, at: float) -> tuple[tuple[Box, ...], bool]:
        """Return the boxes to pixelate in this picture and whether the whole picture goes."""
        level = self.effective_level
        if level is PrivacyLevel.NONE:
            return (), False
        if level is PrivacyLevel.PEOPLE and self.blind(at):
            return (), True
        boxes: list[Box] = []
        if self._faces is not None:
            try:
                faces = self._recent_faces(self._faces, rgb, at)
            except Exception:  # noqa: BLE001 - a broken detector must hide more, not crash
                return (), True
            boxes.extend(self._grow(face, FACE_MARGIN, 0.0) for face in faces)
        if level is PrivacyLevel.PEOPLE:
            boxes.extend(self.people(at))
        return tuple(boxes), False

    def _recent_faces(self, detector: FaceDetector, rgb: RGB, at: float) -> tuple[Box, ...]:
        """Detect faces when due, and return every face found within FACE_HOLD_SECONDS."""
        with self._lock:
            history = self._face_history
            # The tolerance keeps float noise (0.39999999999999947) from skipping a due frame.
            due = not history or not 0.0 <= at - history[-1][0] < self.face_interval - 1e-6
        if due:
            found = detector.detect(rgb)
            with self._lock:
                history.append((at, found))
        with self._lock:
            while history and at - history[0][0] > FACE_HOLD_SECONDS:
                history.popleft()
            return tuple(box for _, boxes in history for box in boxes)

    def accept_empty_room(self) -> None:
        """Take the room as it looks now as empty, as its owner says after moving furniture."""
        self._scene.accept()

    def learn(self, picture: Frame | RGB, at: float) -> None:
        """Let the scene model look at a picture nobody is shown, so that it keeps learning.

        While sharing is allowed and nobody watches, the room is looked at now and then: the
        first viewer then finds someone who came in and sat down meanwhile already hidden.
        """
        self._look_at_room(picture, at)

    def _look_at_room(
        self, picture: Frame | RGB, at: float
    ) -> tuple[NDArray[np.bool_], tuple[int, int]]:
        """Show the scene model the picture with the recent motion; return what differs."""
        with self._lock:
            recent = tuple(
                box
                for when, found in self._history
                if 0.0 <= at - when <= SCENE_MOTION_SECONDS
                for box in found
            )
        return self._scene.look(lambda: _small_grey(picture), at, recent)

    def _hidden_blocks(self, picture: Frame | RGB, rgb: RGB, at: float) -> NDArray[np.bool_]:
        """Return the pixelation blocks to hide in this picture, looking at it when due."""
        height, width = rgb.shape[:2]
        boxes, whole = self.hidden_boxes(rgb, at)
        block = _block_size(height)
        blocks = _block_mask(boxes, whole, width, height, block)
        level = self.effective_level
        if level is PrivacyLevel.NONE:
            return blocks
        cells, size = self._look_at_room(picture, at)
        # Looked at even when all is hidden: learning goes on, and holds stay fresh.
        if whole:
            return blocks
        if level is PrivacyLevel.FACES:
            # The face detector misses small and turned faces: where someone differs from the
            # empty room, hide their head, or all of them when too small for the detector.
            smallest = FACE_MIN_PX / min(FACE_ANALYSIS_HEIGHT, height)
            tall = math.ceil(PERSON_HEADS * smallest * size[0] / CELL)
            cells = heads(cells, tall)
        return blocks | _cells_to_blocks(cells, size, height, width, block)

    def masks(self, rgb: RGB, at: float) -> tuple[Mask, Mask]:
        """Return the (pixelated, filled) masks `apply` would use now, for tests and previews."""
        height, width = rgb.shape[:2]
        blocks = self._hidden_blocks(rgb, rgb, at)
        block = _block_size(height)
        pixelated = np.repeat(np.repeat(blocks, block, axis=0), block, axis=1)[:height, :width]
        return pixelated, self._zone_mask(width, height)

    def apply(self, picture: Frame | RGB, at: float) -> RGB:
        """Return a filtered copy; the input, often a shared cache, is never touched."""
        rgb = picture.rgb() if isinstance(picture, Frame) else picture
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:  # noqa: PLR2004
            raise ValueError("privacy filtering needs an RGB picture (height x width x 3, uint8)")
        height, width = rgb.shape[:2]
        out = rgb.copy()
        zones = self._zone_mask(width, height)
        has_zones = bool(self.zones)
        if has_zones:
            # Filled before pixelating too, so no block's average carries a zone's colours.
            out[zones] = ZONE_FILL
        blocks = self._hidden_blocks(picture, rgb, at)
        block = _block_size(height)
        self.last_hidden_share = _block_share(blocks, height, width, block)
        if blocks.any():
            _pixelate(out, blocks, block)
            if has_zones:
                out[zones] = ZONE_FILL
        return out

    def _zone_mask(self, width: int, height: int) -> Mask:
        """Return the fixed zones rasterised at this size (cached per size)."""
        return _zone_mask(self.zones, width, height)

    @staticmethod
    def _grow(box: Box, margin: float, minimum: float) -> Box:
        """Return the box grown by `margin` of its size, and at least `minimum`, each side."""
        dx = max(box.width * margin, minimum)
        dy = max(box.height * margin, minimum)
        x, y = max(0.0, box.x - dx), max(0.0, box.y - dy)
        right, bottom = min(1.0, box.x + box.width + dx), min(1.0, box.y + box.height + dy)
        return Box(x=x, y=y, width=max(0.0, right - x), height=max(0.0, bottom - y))


@functools.lru_cache(maxsize=8)
def _zone_mask(zones: tuple[tuple[Point, ...], ...], width: int, height: int) -> Mask:
    """Rasterise zones once per picture size; the result is shared, so it is made read-only."""
    mask: Mask
    if not zones:
        mask = np.zeros((height, width), dtype=bool)
    else:
        drawn = polygon_mask(zones, width, height)
        # One pixel more on every side: the rasteriser may leave edge pixels half inside out.
        mask = drawn.copy()
        mask[1:] |= drawn[:-1]
        mask[:-1] |= drawn[1:]
        mask[:, 1:] |= drawn[:, :-1]
        mask[:, :-1] |= drawn[:, 1:]
    mask.flags.writeable = False
    return mask


def _block_size(height: int) -> int:
    """Return the pixelation block edge for a picture height."""
    return max(2, math.ceil(height / BLOCKS_PER_HEIGHT))


def _block_mask(
    boxes: Iterable[Box], whole: bool, width: int, height: int, block: int
) -> NDArray[np.bool_]:
    """Return which blocks of the grid a set of boxes touches (whole blocks only: no fringes)."""
    rows, cols = math.ceil(height / block), math.ceil(width / block)
    if whole:
        return np.ones((rows, cols), dtype=bool)
    blocks = np.zeros((rows, cols), dtype=bool)
    for box in boxes:
        left, top, right, bottom = box.to_pixels(width, height)
        if right > left and bottom > top:
            blocks[top // block : -(-bottom // block), left // block : -(-right // block)] = True
    return blocks


def _small_grey(picture: Frame | RGB) -> NDArray[np.uint8]:
    """Return the small greyscale copy the scene model looks at (a frame's cached one)."""
    if isinstance(picture, Frame):
        return picture.grey(ANALYSIS_HEIGHT)
    height, width = picture.shape[:2]
    small_height = min(ANALYSIS_HEIGHT, height)
    small_width = max(1, round(width * small_height / height))
    small_width += small_width % 2
    grey = Image.fromarray(picture).convert("L")
    return np.asarray(grey.resize((small_width, small_height), Image.Resampling.BOX))


@functools.lru_cache(maxsize=16)
def _overlap(cells: int, small: int, full: int, block: int) -> NDArray[np.int32]:
    """Return which cells (columns) each pixelation block (rows) overlaps, along one axis.

    Cells cover `small` pixels of the small picture, the last cell also its leftover pixels;
    blocks cover `full` pixels of the picture. Any overlap counts: a cell straddling two
    blocks hides both.
    """
    blocks = -(-full // block)
    starts = np.arange(blocks) * block / full * small / CELL
    ends = np.minimum(np.arange(1, blocks + 1) * block, full) / full * small / CELL
    first = np.clip(np.floor(starts).astype(np.int64), 0, cells - 1)
    last = np.clip(np.ceil(ends).astype(np.int64) - 1, 0, cells - 1)
    index = np.arange(cells)
    matrix: NDArray[np.int32] = ((index >= first[:, None]) & (index <= last[:, None])).astype(
        np.int32
    )
    matrix.flags.writeable = False
    return matrix


def _cells_to_blocks(
    cells: NDArray[np.bool_], size: tuple[int, int], height: int, width: int, block: int
) -> NDArray[np.bool_]:
    """Return the pixelation blocks that any marked scene cell overlaps."""
    rows, cols = -(-height // block), -(-width // block)
    if not cells.any():
        return np.zeros((rows, cols), dtype=bool)
    if cells.shape == (1, 1) or size[0] < CELL or size[1] < CELL:
        return np.ones((rows, cols), dtype=bool)
    down = _overlap(cells.shape[0], size[0], height, block)
    across = _overlap(cells.shape[1], size[1], width, block)
    result: NDArray[np.bool_] = (down @ cells.astype(np.int32) @ across.T) > 0
    return result


def _block_share(blocks: NDArray[np.bool_], height: int, width: int, block: int) -> float:
    """Return the share of the picture's pixels inside the marked blocks."""
    if not blocks.any():
        return 0.0
    row_sizes = np.minimum(block, height - np.arange(blocks.shape[0]) * block)
    col_sizes = np.minimum(block, width - np.arange(blocks.shape[1]) * block)
    return float(row_sizes @ blocks.astype(np.int64) @ col_sizes) / (height * width)


def _pixelate(out: RGB, blocks: NDArray[np.bool_], block: int) -> None:
    """Replace every marked block of `out` by its mean colour, in place."""
    rows = np.flatnonzero(blocks.any(axis=1))
    cols = np.flatnonzero(blocks.any(axis=0))
    # Work on the bounding rectangle of the marked blocks only: people rarely fill the picture.
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    height, width = out.shape[:2]
    crop = out[r0 * block : min(height, r1 * block), c0 * block : min(width, c1 * block)]
    # Pillow averages each block in C (edge blocks over the pixels they have), many times
    # faster than numpy sums over a whole 720p picture.
    means = Image.fromarray(crop).reduce(block)
    size = (means.width * block, means.height * block)
    grown = np.asarray(means.resize(size, Image.Resampling.NEAREST))
    chosen = blocks[r0:r1, c0:c1]
    if chosen.all():
        crop[...] = grown[: crop.shape[0], : crop.shape[1]]
        return
    # Copy runs of marked blocks row by row: only the hidden area is written.
    edges = np.diff(np.pad(chosen.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    for row, start in zip(*np.nonzero(edges == 1), strict=True):
        end = int(np.flatnonzero(edges[row, start:] == -1)[0]) + int(start)
        top, left, right = int(row) * block, int(start) * block, end * block
        crop[top : top + block, left:right] = grown[top : top + block, left:right][
            : crop.shape[0] - top, : crop.shape[1] - left
        ]
