"""Make clips of a camera whose sensor stopped while its clock ticks on, and of still rooms.

The pictures are coded with FFmpeg's H.264 encoder as a camera's would code them, one a second,
and read back through PyAV as Home Guardian reads a stream.
"""

from __future__ import annotations

from collections.abc import Iterator
import io
from pathlib import Path
import subprocess

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from custom_components.home_guardian.engine.frames import Frame
from custom_components.home_guardian.engine.text import ink

# Not near midnight: a new date makes x264 code the picture under a top-left clock anew once.
CLOCK_START = 9 * 3600 + 7 * 60 + 41


def first_picture(clip: Path, width: int, height: int) -> NDArray[np.uint8]:
    """Return the first picture of a real clip, as grey at the given size."""
    with av.open(str(clip)) as container:
        first = next(container.decode(video=0))
        grey = first.reformat(width=width, height=height, format="gray").to_ndarray()
    return np.asarray(grey, np.uint8)


def draw_clock(pixels: NDArray[np.uint8], second: int, *, scale: int, top: int, left: int) -> None:
    """Draw a camera's date and time, white, at `scale` times the 16 pixels of its font.

    A negative `top` counts from the foot of the picture.
    """
    at = CLOCK_START + second
    text = f"2026-11-26 {at // 3600:02d}:{at // 60 % 60:02d}:{at % 60:02d}"
    glyphs = np.kron(ink(text), np.ones((scale, scale), bool))
    top = top if top >= 0 else pixels.shape[0] + top - glyphs.shape[0]
    pixels[top : top + glyphs.shape[0], left : left + glyphs.shape[1]][glyphs] = 255


def clock_snapshot(stopped: NDArray[np.uint8], second: int) -> Frame:
    """Return a JPEG snapshot of a stopped grey picture, its clock at `second`, as read."""
    pixels = stopped.copy()
    draw_clock(pixels, second, scale=2, top=16, left=16)
    jpeg = io.BytesIO()
    Image.fromarray(pixels).convert("RGB").save(jpeg, format="JPEG", quality=70)
    decoded = Image.open(io.BytesIO(jpeg.getvalue()))
    return Frame(decoded, sequence=second, monotonic=second, wall=second)


def lit(rng: np.random.Generator, scene: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Return a lit room: the scene with its sensor's noise, two levels, drawn anew."""
    return np.clip(scene + rng.normal(0, 2.0, scene.shape), 0, 255).astype(np.uint8)


def dark(rng: np.random.Generator, scene: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Return a dark room, noise-reduced: faint, blotchy noise over a sixth of the light."""
    height, width = scene.shape
    # Less than half a level: a third of what the shared footage shows in daylight.
    blotches = rng.normal(0, 0.4, (height // 2, width // 2)).repeat(2, 0).repeat(2, 1)
    return np.clip(scene * 0.15 + 16 + blotches, 0, 255).astype(np.uint8)


def code_clip(
    path: Path, pictures: Iterator[NDArray[np.uint8]], size: tuple[int, int], coding: list[str]
) -> Path:
    """Code grey pictures, one a second, into H.264 with the encoder options `coding`."""
    height, width = size
    encoder = subprocess.Popen(
        [
            *("ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray"),
            *("-s", f"{width}x{height}", "-r", "1", "-i", "-"),
            *("-c:v", "libx264", "-preset", "veryfast", "-sc_threshold", "0", *coding),
            *("-pix_fmt", "yuv420p", str(path)),
        ],
        stdin=subprocess.PIPE,
    )
    assert encoder.stdin is not None
    for pixels in pictures:
        encoder.stdin.write(pixels.tobytes())
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise RuntimeError(f"FFmpeg could not code {path.name}")
    return path


def decoded_frames(path: Path) -> Iterator[tuple[Frame, bool]]:
    """Yield each frame of a clip, arrived at its time in the clip, and whether it is a keyframe."""
    with av.open(str(path)) as container:
        for index, decoded in enumerate(container.decode(video=0)):
            at = float(decoded.time)
            yield Frame(decoded, sequence=index, monotonic=at, wall=at), decoded.key_frame
