"""Build the watermark's glyph table from GNU Unifont's source, the way it was committed.

Source: GNU Unifont 15.0.01, Debian package `unifont` (1:15.0.01-2), files
/usr/share/unifont/unifont.hex (every glyph of Unicode's first plane, 8 or 16 x 16 pixels) and
/usr/share/unifont/plane00-combining.txt (how far each combining mark reaches back over the
glyph before it). Unifont is dual-licensed: SIL Open Font License 1.1, and GNU GPL 2 or later
with the GNU font embedding exception (as its fonts' own name table says). The table is used
under the OFL 1.1; its text and the copyright notice sit beside the table, as the OFL asks.

Run: apt-get download unifont && dpkg -x unifont_*.deb unifont
     .venv/bin/python scripts/make_glyphs.py unifont/usr/share/unifont

The table (zlib-compressed, little-endian) is: b"HGG1", the glyph count n (uint32), n code
points (uint32, ascending), n widths in pixels (uint8: 8 or 16), n combining offsets (int8, 0
or the negative reach), then every glyph's 16 rows, one or two bytes a row, most significant
bit leftmost. Control characters are left out: the watermark never draws them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import struct
import unicodedata
import zlib

OUT = (
    Path(__file__).resolve().parents[1]
    / "custom_components"
    / "home_guardian"
    / "engine"
    / "glyphs"
    / "unifont.bin"
)
ROWS = 16


def main() -> None:
    """Read unifont.hex and plane00-combining.txt from a folder and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="unifont.hex's folder (/usr/share/unifont)")
    folder = parser.parse_args().folder
    glyphs: dict[int, bytes] = {}
    for line in (folder / "unifont.hex").read_text(encoding="ascii").splitlines():
        code, bits = line.strip().split(":")
        point = int(code, 16)
        if unicodedata.category(chr(point)) != "Cc":
            glyphs[point] = bytes.fromhex(bits)
    offsets: dict[int, int] = {}
    for line in (folder / "plane00-combining.txt").read_text(encoding="ascii").splitlines():
        code, reach = line.strip().split(":")
        offsets[int(code, 16)] = int(reach)
    points = sorted(glyphs)
    table = b"".join(
        (
            b"HGG1",
            struct.pack("<I", len(points)),
            struct.pack(f"<{len(points)}I", *points),
            bytes(len(glyphs[point]) // 2 for point in points),  # 16 or 32 bytes: 8 or 16 px
            struct.pack(f"<{len(points)}b", *(offsets.get(point, 0) for point in points)),
            *(glyphs[point] for point in points),
        )
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(zlib.compress(table, 9))
    print(f"{len(points)} glyphs, {OUT.stat().st_size} bytes: {OUT}")


if __name__ == "__main__":
    main()
