"""Draw Home Guardian's brand images: a house with an eye, light and dark, at HA's sizes.

Run from the repository root: .venv/bin/python scripts/brand.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parents[1] / "custom_components" / "home_guardian" / "brand"
TEAL = (0, 150, 136, 255)
LIGHT_TEAL = (77, 208, 196, 255)


type Colour = tuple[int, int, int, int]


def icon(size: int, colour: Colour, eye: Colour) -> Image.Image:
    """Return the square icon: a house outline whose window is an open eye."""
    scale = size / 256
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    roof = [(128, 20), (236, 116), (208, 116), (208, 232), (48, 232), (48, 116), (20, 116)]
    draw.polygon([(x * scale, y * scale) for x, y in roof], fill=colour)
    draw.ellipse([76 * scale, 128 * scale, 180 * scale, 196 * scale], fill=eye)
    draw.ellipse([108 * scale, 142 * scale, 148 * scale, 182 * scale], fill=colour)
    return image


def logo(height: int, colour: Colour, eye: Colour) -> Image.Image:
    """Return the logo: the icon beside the name."""
    mark = icon(height, colour, eye)
    font = ImageFont.load_default(size=height * 0.42)
    text_width = int(ImageDraw.Draw(mark).textlength("Home Guardian", font=font))
    image = Image.new("RGBA", (int(height * 1.15) + text_width + height // 8, height), (0, 0, 0, 0))
    image.paste(mark, (0, 0), mark)
    ImageDraw.Draw(image).text(
        (height * 1.15, height * 0.5), "Home Guardian", font=font, fill=colour, anchor="lm"
    )
    return image


def main() -> None:
    """Write icon and logo, light and dark, at 1x and 2x."""
    BRAND.mkdir(exist_ok=True)
    themes = (("", TEAL, (255, 255, 255, 255)), ("dark_", LIGHT_TEAL, (32, 33, 36, 255)))
    for prefix, colour, eye in themes:
        icon(256, colour, eye).save(BRAND / f"{prefix}icon.png")
        icon(512, colour, eye).save(BRAND / f"{prefix}icon@2x.png")
        logo(128, colour, eye).save(BRAND / f"{prefix}logo.png")
        logo(256, colour, eye).save(BRAND / f"{prefix}logo@2x.png")


if __name__ == "__main__":
    main()
