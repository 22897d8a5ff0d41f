"""Draws the demo apps' 128x128 icons as PNG and prints them base64-encoded, for the
eu.simphony-project.docker.icon_128 label: `python3 icon.py desktop|files`."""

import base64
import struct
import sys
import zlib

SIZE = 128


def desktop(x, y):
    if 14 <= x < 114 and 22 <= y < 90:
        inner = 20 <= x < 108 and 28 <= y < 84
        return (46, 94, 140) if inner else (40, 40, 48)
    if 56 <= x < 72 and 90 <= y < 102 or 38 <= x < 90 and 102 <= y < 108:
        return (40, 40, 48)
    return None


def files(x, y):
    if 16 <= x < 56 and 26 <= y < 36:
        return (214, 160, 30)
    if 16 <= x < 112 and 34 <= y < 100:
        return (242, 190, 50)
    return None


def png(draw):
    rows = b""
    for y in range(SIZE):
        rows += b"\x00"
        for x in range(SIZE):
            colour = draw(x, y)
            rows += bytes(colour + (255,)) if colour else b"\x00\x00\x00\x00"

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


print(base64.b64encode(png({"desktop": desktop, "files": files}[sys.argv[1]])).decode())
