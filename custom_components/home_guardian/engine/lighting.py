"""Fit how the light changed between a background and a frame, smoothly across the picture.

Motion detection compares each frame with a learned picture of the empty scene. Light changes
that picture everywhere at once: a lamp switched on, an infrared switch, auto-exposure, a
flickering tube or a TV's glow. Before comparing, the background is mapped onto the frame's
light: a gain that varies smoothly over the picture (a quadratic surface, so that a lamp at
one side brightens what is near it more) and one offset.

Decided:
- Fits are robust (two trimmed refits): people and moved things are outliers, light moves
  everything together. A quadratic surface cannot bend around a person, as tiles could.
- The offset is one number: with an offset surface too, gain and offset trade places wherever
  brightness follows position (a bright sky above a dark street) and the fit goes wild.
- Most frames have steady light: one robust gain and offset are fitted first, and the smooth
  fit is only spent when they show a change.
- A little ridge towards "no change" keeps flat scenes (a wall, the night) well posed.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
from numpy.typing import NDArray

type FloatArray = NDArray[np.float32]
type BoolArray = NDArray[np.bool_]

# Terms of the smooth gain over the picture: 1, x, y, x², xy, y².
SMOOTH_TERMS: Final = 6
RIDGE: Final = 1e-4
# Below this spread of brightness (grey levels squared) a gain cannot be told from an offset.
FLAT_SPREAD: Final = 4.0
MIN_SAMPLES: Final = 8
# Light this close to unchanged is one gain and offset: the smooth fit is spent on real changes.
STEADY_GAIN: Final = 0.01
STEADY_OFFSET: Final = 1.0
# A real camera never scales light by more than this between two analysed frames.
MAX_GAIN: Final = 4.0


def fit_light(
    background: FloatArray, frame: FloatArray, usable: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """Return the gain and offset mapping background cells onto frame cells.

    `background` and `frame` are cell means; `usable` marks cells neither clipped nor ignored.
    Both results broadcast over the cells: 1 x 1 when one gain and offset explain the change
    (steady light, most frames, and cheap), one value per cell when the light changed.
    """
    # Every other usable cell: light is smooth, and a thousand samples fit 7 numbers well.
    picked = np.flatnonzero(usable)[::2]
    x, y = background.ravel()[picked], frame.ravel()[picked]
    gain, offset = _fit(x, y)
    uniform = (np.full((1, 1), gain, dtype=np.float32), np.full((1, 1), offset, dtype=np.float32))
    if abs(gain - 1.0) <= STEADY_GAIN and abs(offset) <= STEADY_OFFSET:
        return uniform
    rows, cols = background.shape
    if x.size < MIN_SAMPLES * SMOOTH_TERMS:
        return uniform
    terms = _terms(rows, cols)
    basis = terms.reshape(SMOOTH_TERMS, -1)[:, picked]
    # The gain varies smoothly (a lamp lights what is near it more); the offset (a camera's
    # black level, infrared's lift) is one number: more freedom makes the two trade places.
    design = np.concatenate([basis * x, np.ones((1, x.size))]).T.astype(np.float64)
    prior = np.zeros(SMOOTH_TERMS + 1)
    prior[0] = 1.0
    keep: BoolArray = np.ones(x.size, dtype=bool)
    params = prior
    # Two trimmed refits: people and moved objects are outliers, light moves everything.
    for _ in range(2):
        a, b = design[keep], y[keep].astype(np.float64)
        normal = a.T @ a
        # A little pull towards "no change" keeps flat scenes (gain unknowable) well posed; it is
        # scaled per term, or the offset (a column of ones) would be pulled far harder than the
        # gains (columns of grey levels).
        ridge = RIDGE * np.diag(normal)
        params = np.linalg.solve(normal + np.diag(ridge), a.T @ b + ridge * prior)
        residual = np.abs(design @ params - y).astype(np.float32)
        keep = residual <= max(3.0, 2.5 * median(residual))
    gains = np.tensordot(params[:SMOOTH_TERMS], terms, axes=1).astype(np.float32)
    np.clip(gains, 1.0 / MAX_GAIN, MAX_GAIN, out=gains)
    return gains, np.full((1, 1), params[SMOOTH_TERMS], dtype=np.float32)


@functools.cache
def _terms(rows: int, cols: int) -> FloatArray:
    """Return the smooth model's terms over the cell grid: 1, x, y, x², xy, y²."""
    y_axis, x_axis = np.mgrid[0:rows, 0:cols].astype(np.float32)
    y_axis = y_axis / max(1, rows - 1) - 0.5
    x_axis = x_axis / max(1, cols - 1) - 0.5
    return np.stack(
        [np.ones_like(x_axis), x_axis, y_axis, x_axis * x_axis, x_axis * y_axis, y_axis * y_axis]
    )


def median(values: FloatArray) -> float:
    """Return the median, by partition, which is cheaper than np.median."""
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])


def _fit(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Return gain and offset mapping x onto y, ignoring outliers."""
    if x.size < MIN_SAMPLES:
        return 1.0, 0.0  # too little to fit; assume the light did not change
    keep: BoolArray = np.ones(x.size, dtype=bool)
    gain, offset = 1.0, 0.0
    # Two trimmed refits: people and moved objects are outliers, light changes everything.
    for _ in range(2):
        xs, ys = x[keep], y[keep]
        if xs.size < MIN_SAMPLES:
            break
        x_mean, y_mean = float(xs.mean()), float(ys.mean())
        centred = xs - x_mean
        spread = float(np.dot(centred, centred)) / xs.size
        if spread < FLAT_SPREAD:
            gain, offset = 1.0, median(ys - xs)
        else:
            gain = float(np.dot(centred, ys - y_mean)) / xs.size / spread
            gain = min(MAX_GAIN, max(1.0 / MAX_GAIN, gain))
            offset = y_mean - gain * x_mean
        residual = np.abs(y - (gain * x + offset))
        keep = residual <= max(3.0, 2.5 * median(residual))
    return gain, offset
