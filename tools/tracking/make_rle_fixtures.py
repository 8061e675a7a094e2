#!/usr/bin/env python3
"""COCO RLE test vectors from pycocotools (dev only; CI reads the committed JSON).

Writes Tests/Fixtures/tracking/rle_vectors.json: masks (row-major '0'/'1' bit strings, hex-packed)
with pycocotools' compressed counts string, the uncompressed counts (computed here independently
and checked to round-trip through pycocotools.frPyObjects), area and toBbox.
Pinned: /work/venv/ref (numpy 1.26.4, pycocotools). Seed 7.
"""
import json, sys
import numpy as np
from pycocotools import mask as mu


def runs(m):
    flat = np.asarray(m, np.uint8).flatten(order="F")
    out, v, c = [], 0, 0
    for b in flat:
        if b != v:
            out.append(c); c = 0; v = b
        c += 1
    out.append(c)
    return out


def main(out):
    rng = np.random.default_rng(7)
    cases = []
    def add(name, m):
        m = np.asarray(m, np.uint8)
        h, w = m.shape
        r = mu.encode(np.asfortranarray(m))
        cnt = runs(m)
        back = mu.frPyObjects({"size": [h, w], "counts": cnt}, h, w)
        assert back["counts"] == r["counts"], name
        assert (mu.decode(r) == m).all(), name
        cases.append({"name": name, "height": h, "width": w,
                      "bits_hex": np.packbits(m.flatten()).tobytes().hex(),
                      "counts": r["counts"].decode("ascii"), "runs": cnt,
                      "area": int(mu.area(r)), "bbox": [float(x) for x in mu.toBbox(r)]})
    add("empty-5x7", np.zeros((5, 7)))
    add("full-5x7", np.ones((5, 7)))
    one = np.zeros((4, 6)); one[0, 0] = 1; add("pixel-top-left", one)
    one = np.zeros((4, 6)); one[3, 5] = 1; add("pixel-bottom-right", one)
    one = np.zeros((4, 6)); one[2, 3] = 1; add("pixel-middle", one)
    col = np.zeros((9, 3)); col[:, 1] = 1; add("column", col)
    row = np.zeros((3, 9)); row[1, :] = 1; add("row", row)
    yy, xx = np.mgrid[0:120, 0:200]
    add("ellipse-200x120", ((yy - 50) / 30.0) ** 2 + ((xx - 90) / 60.0) ** 2 <= 1)
    add("big-runs-300x200", (yy[:, :1].repeat(1, 1) >= 0).repeat(200, 1)[:120, :] if False else
        np.pad(np.ones((180, 290)), ((10, 10), (5, 5))))
    for i in range(6):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        add(f"random-{i}-{w}x{h}", rng.random((h, w)) < rng.uniform(0.1, 0.9))
    blob = np.zeros((64, 48)); blob[10:50, 5:30] = 1; blob[20:30, 12:20] = 0; blob[55:60, 40:47] = 1
    add("blob-with-hole", blob)
    with open(out, "w") as fh:
        json.dump({"generator": "tools/tracking/make_rle_fixtures.py", "seed": 7, "cases": cases}, fh, indent=1)
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/tracking/rle_vectors.json")
