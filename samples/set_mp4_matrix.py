#!/usr/bin/env python3
"""Writes a display matrix into the (single) track header of an MP4/MOV file, in place.

The ffmpeg 5.1 CLI cannot set one when encoding, so make_samples.sh patches the 'tkhd' box:
    python3 set_mp4_matrix.py FILE a b c d      (16.16 fixed-point entries given as numbers)
The 3x3 matrix written is [a b 0; c d 0; 0 0 1] (translation left at 0; FFmpeg ignores it).
Example: 0 1 -1 0 = rotate 90 degrees clockwise on display (what phones write for portrait).
"""
import struct
import sys

path, a, b, c, d = sys.argv[1], *map(float, sys.argv[2:6])
data = bytearray(open(path, "rb").read())
pos = data.find(b"tkhd")
if pos < 0 or data.find(b"tkhd", pos + 4) >= 0:
    sys.exit(f"{path}: expected exactly one tkhd box")
version = data[pos + 4]
matrix_at = pos + 4 + (52 if version == 1 else 40)
fixed = lambda x: int(round(x * 65536)) & 0xFFFFFFFF
values = [fixed(a), fixed(b), 0, fixed(c), fixed(d), 0, 0, 0, 0x40000000]
data[matrix_at:matrix_at + 36] = struct.pack(">9I", *values)
open(path, "wb").write(data)
