"""Boxes and polygons in normalised picture coordinates, for motion zones and privacy masks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
import math
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

type Point = tuple[float, float]


@dataclass(frozen=True, kw_only=True, slots=True)
class Box:
    """An axis-aligned rectangle; x and y are the top-left corner, all in 0..1 of the picture."""

    x: float
    y: float
    width: float
    height: float

    @property
    def area(self) -> float:
        """Return the share of the picture the box covers."""
        return self.width * self.height

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Return (left, top, right, bottom) in pixels of a picture of the given size."""
        left = max(0, int(self.x * width))
        top = max(0, int(self.y * height))
        # The tolerance keeps float noise (30.000000000000004) from adding a pixel.
        right = min(width, math.ceil((self.x + self.width) * width - 1e-9))
        bottom = min(height, math.ceil((self.y + self.height) * height - 1e-9))
        return left, top, right, bottom

    def grown(self, margin: float) -> Box:
        """Return the box grown by `margin` times its size on every side, clipped to the picture."""
        dx, dy = self.width * margin, self.height * margin
        x, y = max(0.0, self.x - dx), max(0.0, self.y - dy)
        return Box(
            x=x,
            y=y,
            width=min(1.0, self.x + self.width + dx) - x,
            height=min(1.0, self.y + self.height + dy) - y,
        )

    def as_list(self) -> list[float]:
        """Return [x, y, width, height] rounded for events and attributes, which must stay small."""
        return [round(self.x, 3), round(self.y, 3), round(self.width, 3), round(self.height, 3)]


def parse_polygons(raw: object) -> tuple[tuple[Point, ...], ...]:
    """Validate polygons given as lists of [x, y] pairs in 0..1; raise ValueError when malformed."""
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValueError("zones must be a list of polygons")  # noqa: TRY004 - a value error to users
    polygons: list[tuple[Point, ...]] = []
    for polygon in raw:
        if not isinstance(polygon, Sequence) or isinstance(polygon, str) or len(polygon) < 3:  # noqa: PLR2004
            raise ValueError("each zone needs at least three [x, y] points")
        points: list[Point] = []
        for point in polygon:
            if (
                not isinstance(point, Sequence)
                or isinstance(point, str)
                or len(point) != 2  # noqa: PLR2004
                or not all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in point)
            ):
                raise ValueError("zone points are [x, y] pairs between 0 and 1")
            points.append((float(point[0]), float(point[1])))
        polygons.append(tuple(points))
    return tuple(polygons)


def polygon_mask(
    polygons: Iterable[Sequence[Point]], width: int, height: int, *, fill: bool = True
) -> NDArray[np.bool_]:
    """Rasterise normalised polygons into a boolean mask of the given size (True inside)."""
    canvas = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon in polygons:
        draw.polygon([(x * width, y * height) for x, y in polygon], fill=1 if fill else 0)
    return np.asarray(canvas, dtype=bool)


# Zone preview colours: red for what is ignored, green for what alone counts.
IGNORE_COLOUR: Final = (230, 40, 40)
ONLY_COLOUR: Final = (40, 200, 70)
ZONE_OPACITY: Final = 0.45
PRIVACY_COLOUR: Final = (40, 40, 40)


def draw_zones(
    picture: NDArray[np.uint8],
    ignore_zones: Sequence[Sequence[Point]],
    only_zones: Sequence[Sequence[Point]],
    privacy_zones: Sequence[Sequence[Point]] = (),
) -> Image.Image:
    """Return the picture with ignored zones red, counted-only zones green, privacy zones dark."""
    height, width = picture.shape[:2]
    tinted = picture.astype(np.float32)
    if privacy_zones:
        # Shown as shared pictures show them: filled, nothing of them visible.
        tinted[polygon_mask(privacy_zones, width, height)] = PRIVACY_COLOUR
    for zones, colour in ((only_zones, ONLY_COLOUR), (ignore_zones, IGNORE_COLOUR)):
        if not zones:
            continue
        mask = polygon_mask(zones, width, height)
        tinted[mask] = tinted[mask] * (1 - ZONE_OPACITY) + np.array(colour) * ZONE_OPACITY
    image = Image.fromarray(tinted.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    # Outlines show each polygon's corners, so users can tell which of their points is which.
    for zones, colour in ((only_zones, ONLY_COLOUR), (ignore_zones, IGNORE_COLOUR)):
        for polygon in zones:
            draw.polygon([(x * width, y * height) for x, y in polygon], outline=colour, width=2)
    return image
