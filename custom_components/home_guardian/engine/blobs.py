"""Group the cells where something moved into objects, measured by the pixels that changed."""

from __future__ import annotations

from typing import Any, Final, cast

import numpy as np
from numpy.typing import NDArray

from .geometry import Box

MAX_REGIONS: Final = 8

type BoolArray = NDArray[np.bool_]
type Blob = tuple[int, int, int, int, int]


def find_regions(
    moving: BoolArray,
    pixels: NDArray[np.int32],
    *,
    cell: int,
    minimum: float,
    height: int,
    width: int,
) -> tuple[tuple[Box, ...], int]:
    """Return boxes (shares of the picture) of the objects at least `minimum` pixels big.

    `moving` marks moving cells of `cell` x `cell` pixels; `pixels` holds how many pixels of each
    cell changed. An object's size is its changed pixels, not its cells: a speck in one corner of
    a cell is as small as it looks. Also returns the changed pixels of the objects kept.
    """
    if not moving.any():
        return (), 0
    blobs = [blob for blob in _components(moving, pixels) if blob[0] > 0 and blob[0] >= minimum]
    if not blobs:
        return (), 0
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
    sy, sx = cell / height, cell / width
    regions = tuple(
        Box(x=left * sx, y=top * sy, width=(right - left) * sx, height=(bottom - top) * sy)
        for _, top, left, bottom, right in blobs
    )
    return regions, sum(b[0] for b in blobs)


def _components(moving: BoolArray, pixels: NDArray[np.int32]) -> list[Blob]:
    """Return the groups of moving cells, one cell apart at most, as (weight, top, left, ...).

    Each group is (changed pixels of its moving cells, top, left, bottom, right) in cells.
    Moving cells are grown by one cell each way (which joins the pieces of one person: head,
    torso, legs) and the grown cells joined 8-connected, by runs of cells row by row
    (union-find over runs, not cells): a few dozen runs a frame instead of hundreds of cells.
    """
    rows, cols = moving.shape
    # The growing and the runs' edges both need empty borders: one padded buffer serves both.
    padded = np.zeros((rows + 2, cols + 4), dtype=np.bool_)
    padded[1:-1, 2:-2] = moving
    tall = padded[:-2] | padded[1:-1]
    tall |= padded[2:]
    # Row by row with an empty cell either side, so every run has a start and an end edge.
    wide = np.zeros((rows, cols + 2), dtype=np.int8)
    grown = wide[:, 1:-1].view(np.bool_)
    np.bitwise_or(tall[:, 1:-3], tall[:, 2:-2], out=grown)
    grown |= tall[:, 3:-1]
    flat = wide.ravel()
    # Edges of runs in the flattened rows: starts and ends alternate, in reading order.
    edges = np.flatnonzero(flat[1:] != flat[:-1])
    # Changed pixels of moving cells up to each position, for each run's weight.
    weights = np.zeros((rows, cols + 2), dtype=np.int32)
    np.multiply(pixels, moving, out=weights[:, 1:-1])
    totals = np.cumsum(weights.ravel())
    sizes = _ints(totals[edges[1::2]] - totals[edges[0::2]])
    span = cols + 2
    # A run from flat position start + 1 to end (inclusive) covers cells start - row * span to
    # end - row * span - 1 of its row: kept as (row, first cell, cell after the last).
    runs = [
        (start // span, start % span, end - start // span * span)
        for start, end in zip(_ints(edges[0::2]), _ints(edges[1::2]), strict=True)
    ]
    parent = list(range(len(runs)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    above = row_start = 0  # the runs of the row above still in reach, up to this row's first
    current_row = -1
    for index, (row, start, end) in enumerate(runs):
        if row != current_row:
            above = row_start if row == current_row + 1 else index
            row_start, current_row = index, row
        # Diagonal neighbours touch too: runs join when they overlap with one cell of slack.
        # A run of the row above ending before this one starts touches no later run of this row.
        while above < row_start and runs[above][2] < start:
            above += 1
        other = above
        while other < row_start and runs[other][1] <= end:
            parent[root(other)] = root(index)
            other += 1
    groups: dict[int, list[int]] = {}
    for index, (row, start, end) in enumerate(runs):
        group = groups.setdefault(root(index), [0, row, start, row + 1, end])
        group[0] += sizes[index]
        group[2] = min(group[2], start)
        group[3] = row + 1
        group[4] = max(group[4], end)
    return [(g[0], g[1], g[2], g[3], g[4]) for g in groups.values()]


def _ints(values: NDArray[np.integer[Any]]) -> list[int]:
    """Return a 1-D array as Python integers, which a loop reads several times faster."""
    return cast("list[int]", values.tolist())
