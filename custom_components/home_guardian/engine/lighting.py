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
from typing import Any, Final

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
    design = np.concatenate([basis * x, np.ones((1, x.size))]).T
    prior = np.zeros(SMOOTH_TERMS + 1)
    prior[0] = 1.0
    # A fit and a trimmed refit: people and moved objects are outliers, light moves everything.
    # The first fit takes every sample (the same rows, laid out as trimmed ones are).
    params = _solve(np.ascontiguousarray(design), y.astype(np.float64), prior)
    residual = design @ params
    residual -= y
    np.abs(residual, out=residual)
    distance = residual.astype(np.float32)
    keep = distance <= max(3.0, 2.5 * median(distance))
    params = _solve(design[keep], y[keep].astype(np.float64), prior)
    # The product np.tensordot(params[:SMOOTH_TERMS], terms, axes=1) makes, minus its set-up.
    mixed = np.dot(params[:SMOOTH_TERMS].reshape(1, SMOOTH_TERMS), _flat_terms(rows, cols))
    gains = mixed.reshape(rows, cols).astype(np.float32)
    np.clip(gains, 1.0 / MAX_GAIN, MAX_GAIN, out=gains)
    return gains, np.full((1, 1), params[SMOOTH_TERMS], dtype=np.float32)


def _solve(
    a: NDArray[np.float64], b: NDArray[np.float64], prior: NDArray[np.float64]
) -> NDArray[np.floating[Any]]:
    """Return the least-squares parameters mapping `a` onto `b`, pulled a little to `prior`."""
    normal = a.T @ a
    # A little pull towards "no change" keeps flat scenes (gain unknowable) well posed; it is
    # scaled per term, or the offset (a column of ones) would be pulled far harder than the
    # gains (columns of grey levels).
    ridge = RIDGE * normal.diagonal()
    return np.linalg.solve(normal + np.diag(ridge), a.T @ b + ridge * prior)


@functools.cache
def _terms(rows: int, cols: int) -> FloatArray:
    """Return the smooth model's terms over the cell grid: 1, x, y, x², xy, y²."""
    y_axis, x_axis = np.mgrid[0:rows, 0:cols].astype(np.float32)
    y_axis = y_axis / max(1, rows - 1) - 0.5
    x_axis = x_axis / max(1, cols - 1) - 0.5
    return np.stack(
        [np.ones_like(x_axis), x_axis, y_axis, x_axis * x_axis, x_axis * y_axis, y_axis * y_axis]
    )


@functools.cache
def _flat_terms(rows: int, cols: int) -> NDArray[np.float64]:
    """Return the terms, one row each, as the double precision the fitted gains are mixed in."""
    return _terms(rows, cols).reshape(SMOOTH_TERMS, -1).astype(np.float64)


def mean(values: FloatArray) -> float:
    """Return the mean as ndarray.mean does (a float32 sum, divided in double), only cheaper."""
    return float(np.float32(float(np.add.reduce(values)) / values.size))


def median(values: FloatArray) -> float:
    """Return the median, by partition, which is cheaper than np.median."""
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])


def _fit(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Return gain and offset mapping x onto y, ignoring outliers."""
    if x.size < MIN_SAMPLES:
        return 1.0, 0.0  # too little to fit; assume the light did not change
    # A fit and a trimmed refit: people and moved objects are outliers, light changes everything.
    gain, offset = _line(x, y)
    residual = np.abs(y - (gain * x + offset))
    keep = residual <= max(3.0, 2.5 * median(residual))
    xs = x[keep]
    if xs.size < MIN_SAMPLES:
        return gain, offset
    return _line(xs, y[keep])


def _line(xs: FloatArray, ys: FloatArray) -> tuple[float, float]:
    """Return the least-squares gain and offset mapping xs onto ys; an offset only if flat."""
    x_mean, y_mean = mean(xs), mean(ys)
    centred = xs - x_mean
    spread = float(np.dot(centred, centred)) / xs.size
    if spread < FLAT_SPREAD:
        return 1.0, median(ys - xs)
    gain = float(np.dot(centred, ys - y_mean)) / xs.size / spread
    gain = min(MAX_GAIN, max(1.0 / MAX_GAIN, gain))
    return gain, y_mean - gain * x_mean
