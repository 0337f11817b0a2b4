"""Pool the small greyscale picture into square cells, as motion and the scene model both do."""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

# Pixels are pooled into square cells of this side; objects are found on this coarse grid.
CELL: Final = 4

type FloatArray = NDArray[np.float32]


def cell_sum(values: NDArray[np.float32] | NDArray[np.bool_]) -> FloatArray:
    """Sum a picture whose sides are whole cells over CELL x CELL squares."""
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


def cell_mean(values: FloatArray) -> FloatArray:
    """Average a picture whose sides are whole cells over CELL x CELL squares."""
    cells = cell_sum(values)
    cells *= np.float32(1.0 / (CELL * CELL))
    return cells
