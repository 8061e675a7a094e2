#!/usr/bin/env python3
"""Still-image fixtures for ImageIO tests: small images in every PNG layout plus JPEGs, and
expected.json with what PIL produces for them (the behaviour ImageIO.readRGB copies).

    /work/venv/ref/bin/python samples/make_images.py     # Pillow, numpy, opencv-python-headless

Deterministic (seeded numpy). Pinned: numpy 1.26.4, Pillow and OpenCV of the reference venv.
expected.json, per file:
  rgb     PIL Image.open(f).convert("RGB") bytes, hex          (what readRGB must return; for
          JPEG within a tolerance, FFmpeg and libjpeg decode differently)
  labels  our readLabels rule computed with numpy, hex          (null: readLabels must throw)
  pil_labels  np.array(Image.open(f)) when it is one channel   (for reference)
"""
import json
import os
import subprocess

import cv2
import numpy as np
from PIL import Image

W, H = 11, 7
rng = np.random.default_rng(20240611)
out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
os.makedirs(out_dir, exist_ok=True)


def davis_palette():
    pal = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal += [r, g, b]
    return pal


def rgb_rule(a):
    """readLabels rule for RGB(A): 255 where any of R, G, B is nonzero."""
    return np.where(a[..., :3].max(axis=-1) > 0, 255, 0).astype(np.uint8)


files = {}


def record(name, labels):
    path = os.path.join(out_dir, name)
    im = Image.open(path)
    rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    entry = {"mode": im.mode, "width": im.width, "height": im.height, "rgb": rgb.tobytes().hex(),
             "labels": None if labels is None else np.asarray(labels, dtype=np.uint8).tobytes().hex()}
    arr = np.asarray(im)
    if arr.ndim == 2:
        entry["pil_labels"] = [int(v) for v in arr.astype(np.int64).ravel()]
    files[name] = entry


rgb8 = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
rgb8[0, 0] = 0                                   # one black pixel for the any-nonzero label rule
Image.fromarray(rgb8, "RGB").save(os.path.join(out_dir, "rgb.png"))
record("rgb.png", rgb_rule(rgb8))

rgba8 = rng.integers(0, 256, (H, W, 4), dtype=np.uint8)
rgba8[1, 1, :3] = 0
Image.fromarray(rgba8, "RGBA").save(os.path.join(out_dir, "rgba.png"))
record("rgba.png", rgb_rule(rgba8))

gray8 = rng.integers(0, 256, (H, W), dtype=np.uint8)
Image.fromarray(gray8, "L").save(os.path.join(out_dir, "gray.png"))
record("gray.png", gray8)

la = np.stack([gray8, rng.integers(0, 256, (H, W), dtype=np.uint8)], axis=-1)
Image.fromarray(la, "LA").save(os.path.join(out_dir, "gray_alpha.png"))
record("gray_alpha.png", la[..., 0])

ids = rng.integers(0, 5, (H, W), dtype=np.uint8)
p = Image.fromarray(ids, "P")
p.putpalette(davis_palette())
p.save(os.path.join(out_dir, "palette.png"))               # DAVIS-style annotation
record("palette.png", ids)

pt = Image.fromarray(ids, "P")
pt.putpalette(davis_palette())
pt.save(os.path.join(out_dir, "palette_trns.png"), transparency=0)
record("palette_trns.png", ids)

ids16 = rng.integers(0, 16, (H, W), dtype=np.uint8)
p4 = Image.fromarray(ids16, "P")
p4.putpalette(list(rng.integers(0, 256, 48, dtype=np.uint8)))
p4.save(os.path.join(out_dir, "palette_4bit.png"), bits=4)
record("palette_4bit.png", ids16)

bw = rng.integers(0, 2, (H, W), dtype=np.uint8).astype(bool)
Image.fromarray(bw).convert("1").save(os.path.join(out_dir, "bw_1bit.png"))
record("bw_1bit.png", bw.astype(np.uint8))

gray16 = rng.integers(0, 65536, (H, W), dtype=np.uint16)
cv2.imwrite(os.path.join(out_dir, "gray16.png"), gray16)
record("gray16.png", None)                                 # values > 255: readLabels throws

labels16 = rng.integers(0, 7, (H, W), dtype=np.uint16)
cv2.imwrite(os.path.join(out_dir, "labels16.png"), labels16)
record("labels16.png", labels16.astype(np.uint8))

# 16-bit gray+alpha (PIL opens it as RGBA of high bytes); written by the ffmpeg CLI from raw samples.
ya16 = rng.integers(0, 65536, (H, W, 2), dtype=np.uint16)
subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "ya16be",
                "-s", f"{W}x{H}", "-i", "-", "-frames:v", "1", "-fflags", "+bitexact", "-flags", "+bitexact",
                os.path.join(out_dir, "gray_alpha16.png")], input=ya16.astype(">u2").tobytes(), check=True)
ya_labels = None if (ya16[..., 0] > 255).any() else ya16[..., 0]
record("gray_alpha16.png", ya_labels)

rgb16 = rng.integers(0, 65536, (H, W, 3), dtype=np.uint16)
cv2.imwrite(os.path.join(out_dir, "rgb16.png"), rgb16[..., ::-1])      # OpenCV writes BGR
record("rgb16.png", np.where(rgb16.max(axis=-1) > 0, 255, 0))
files["rgb16.png"]["rgb_ours"] = (rgb16 >> 8).astype(np.uint8).tobytes().hex()

rgba16 = rng.integers(0, 65536, (H, W, 4), dtype=np.uint16)
cv2.imwrite(os.path.join(out_dir, "rgba16.png"), rgba16[..., [2, 1, 0, 3]])
record("rgba16.png", np.where(rgba16[..., :3].max(axis=-1) > 0, 255, 0))
files["rgba16.png"]["rgb_ours"] = (rgba16[..., :3] >> 8).astype(np.uint8).tobytes().hex()

# JPEGs: a smooth picture (JPEG-friendly) 32x24, colour and gray.
yy, xx = np.mgrid[0:24, 0:32]
photo = np.stack([xx * 8, yy * 10, (xx + yy) * 4], axis=-1).clip(0, 255).astype(np.uint8)
Image.fromarray(photo, "RGB").save(os.path.join(out_dir, "photo.jpg"), quality=92)
record("photo.jpg", None)
Image.fromarray(photo[..., 0], "L").save(os.path.join(out_dir, "photo_gray.jpg"), quality=92)
record("photo_gray.jpg", np.asarray(Image.open(os.path.join(out_dir, "photo_gray.jpg"))))

with open(os.path.join(out_dir, "expected.json"), "w") as f:
    json.dump({"generator": "samples/make_images.py", "pillow": Image.__version__, "numpy": np.__version__,
               "files": files}, f, indent=1, sort_keys=True)
print("wrote", len(files), "images to", out_dir)
