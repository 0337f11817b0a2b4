"""Tests for normalised boxes and polygons."""

from __future__ import annotations

import pytest

from custom_components.home_guardian.engine.geometry import Box, parse_polygons, polygon_mask


def test_box_pixels_growth_and_listing() -> None:
    """Boxes convert to pixels, grow within the picture and list compactly."""
    box = Box(x=0.1, y=0.2, width=0.3, height=0.4)
    assert box.area == pytest.approx(0.12)
    assert box.to_pixels(100, 50) == (10, 10, 40, 30)
    grown = box.grown(0.5)
    assert grown.x == pytest.approx(0.0)
    assert grown.x + grown.width == pytest.approx(0.55)
    assert grown.y == pytest.approx(0.0)
    assert grown.y + grown.height == pytest.approx(0.8)
    assert Box(x=0.9, y=0.9, width=0.2, height=0.2).grown(1).to_pixels(10, 10) == (7, 7, 10, 10)
    assert Box(x=1 / 3, y=0, width=0.5, height=1).as_list() == [0.333, 0.0, 0.5, 1.0]


def test_polygons_parse_and_rasterise() -> None:
    """Valid polygons become masks covering their share of the picture."""
    polygons = parse_polygons([[[0, 0], [0.5, 0], [0.5, 1], [0, 1]]])
    mask = polygon_mask(polygons, 40, 20)
    assert mask.shape == (20, 40)
    assert 0.45 < mask.mean() < 0.56
    assert not mask[:, 30:].any()
    assert parse_polygons(None) == ()
    assert parse_polygons("") == ()


@pytest.mark.parametrize(
    "raw",
    ["zones", [[[0, 0], [1, 0]]], [[[0, 0], [1, 0], [2, 1]]], [[[0, 0], [1, 0], "x"]], [5]],
)
def test_bad_polygons(raw: object) -> None:
    """Malformed zones are refused with a plain message."""
    with pytest.raises(ValueError, match=r"zone|polygon"):
        parse_polygons(raw)
