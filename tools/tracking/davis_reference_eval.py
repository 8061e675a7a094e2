#!/usr/bin/env python3
"""Reference J/F metrics of the DAVIS semi-supervised protocol, written from the official
davisvideochallenge/davis2017-evaluation code (davis2017/metrics.py: db_eval_iou, f_measure,
_seg2bmap; utils.py: db_statistics) -- our own re-implementation, cross-checked against the
official module when it is available (--official DIR: a checkout of that repository; it needs
scikit-image and `np.bool`, which this script patches back in for numpy >= 1.24).

Dev only (CI has no Python). Two modes:

  vectors  write Tests/Fixtures/tracking/jf_vectors.json: small GT / prediction mask pairs as COCO
           RLE (pycocotools) at several sizes (so the boundary radius takes several values) with the
           expected per-frame J and F.
  eval     DAVIS_ROOT RESULTS_DIR [--sequences a b ...] [--res 480p]: per-sequence J, F, J&F of a
           folder of predicted PNGs (RESULTS_DIR/<seq>/<frame>.png, nonzero = object 1, or palette
           indices per object), same layout and conventions as `gar eval-track`.

Pinned stack (the /work/venv/ref venv): numpy 1.26.4, opencv-python-headless 4.11.0.86,
pycocotools, pillow. Seed 20260101 for the vectors.
"""
import argparse, json, math, os, sys
import numpy as np
import cv2


def disk(r):
    """skimage.morphology.disk(r): offsets with dx^2 + dy^2 <= r^2, as uint8."""
    r = int(r)
    L = np.arange(-r, r + 1)
    X, Y = np.meshgrid(L, L)
    return ((X ** 2 + Y ** 2) <= r ** 2).astype(np.uint8)


def iou(gt, pred):
    gt = gt.astype(bool); pred = pred.astype(bool)
    inter = np.sum(gt & pred); union = np.sum(gt | pred)
    return 1.0 if np.isclose(union, 0) else inter / union


def seg2bmap(seg):
    seg = seg.astype(bool)
    e = np.zeros_like(seg); s = np.zeros_like(seg); se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = seg ^ e | seg ^ s | seg ^ se
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = 0
    return b


def f_measure(pred, gt, bound_th=0.008):
    r = bound_th if bound_th >= 1 else np.ceil(bound_th * np.linalg.norm(pred.shape))
    pb = seg2bmap(pred); gb = seg2bmap(gt)
    k = disk(r)
    pd = cv2.dilate(pb.astype(np.uint8), k)
    gd = cv2.dilate(gb.astype(np.uint8), k)
    n_p = np.sum(pb); n_g = np.sum(gb)
    if n_p == 0 and n_g > 0: prec, rec = 1, 0
    elif n_p > 0 and n_g == 0: prec, rec = 0, 1
    elif n_p == 0 and n_g == 0: prec, rec = 1, 1
    else:
        prec = np.sum(pb * gd) / float(n_p)
        rec = np.sum(gb * pd) / float(n_g)
    return 0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec)


def statistics(v):
    v = np.asarray(v, dtype=np.float64)
    M = np.nanmean(v); O = np.nanmean(v > 0.5)
    ids = (np.round(np.linspace(1, len(v), 5) + 1e-10) - 1).astype(np.int64)
    bins = [v[ids[i]:ids[i + 1] + 1] for i in range(4)]
    return M, O, np.nanmean(bins[0]) - np.nanmean(bins[3])


# ----------------------------------------------------------------------------- vectors

def make_pairs(rng):
    """(name, gt, pred) pairs exercising every branch of f_measure and several radii."""
    pairs = []
    for (h, w) in [(24, 32), (60, 80), (120, 200), (240, 427), (480, 854)]:
        yy, xx = np.mgrid[0:h, 0:w]
        cy, cx = h * rng.uniform(0.35, 0.65), w * rng.uniform(0.35, 0.65)
        ry, rx = h * rng.uniform(0.15, 0.3), w * rng.uniform(0.15, 0.3)
        gt = (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1)
        shift = np.roll(np.roll(gt, int(rng.integers(1, 6)), 0), int(rng.integers(-6, 6)), 1)
        grow = cv2.dilate(gt.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        noise = gt ^ (rng.random((h, w)) < 0.03)
        stripes = (xx // 3) % 2 == 0
        corner = np.zeros((h, w), bool); corner[-max(2, h // 6):, -max(2, w // 6):] = True
        edge_row = np.zeros((h, w), bool); edge_row[-1, :] = True
        empty = np.zeros((h, w), bool)
        full = np.ones((h, w), bool)
        rnd = rng.random((h, w)) < 0.5
        pairs += [
            (f"{w}x{h}-same", gt, gt.copy()), (f"{w}x{h}-shift", gt, shift), (f"{w}x{h}-grow", gt, grow),
            (f"{w}x{h}-stripes", gt, stripes), (f"{w}x{h}-corner", corner, gt),
            (f"{w}x{h}-edge-row", edge_row, corner), (f"{w}x{h}-empty-pred", gt, empty),
            (f"{w}x{h}-empty-gt", empty, gt), (f"{w}x{h}-both-empty", empty, empty.copy()),
            (f"{w}x{h}-full", full, gt), (f"{w}x{h}-full-full", full, full.copy()),
        ]
        if h * w <= 120 * 200:  # noisy masks make big RLEs; keep the fixture small
            pairs += [(f"{w}x{h}-noise", gt, noise), (f"{w}x{h}-random", rnd, gt)]
    return pairs


def rle(m):
    from pycocotools import mask as mu
    r = mu.encode(np.asfortranarray(m.astype(np.uint8)))
    return r["counts"].decode("ascii")


def write_vectors(out, official):
    rng = np.random.default_rng(20260101)
    off = None
    if official:
        sys.path.insert(0, official)
        np.bool = bool  # the official code still uses the removed alias
        from davis2017 import metrics as off
    items = []
    for name, gt, pred in make_pairs(rng):
        j = float(iou(gt, pred)); f = float(f_measure(pred, gt))
        if off is not None:
            jo = float(off.db_eval_iou(gt, pred)); fo = float(off.db_eval_boundary(gt, pred))
            assert abs(jo - j) <= 1e-12 and abs(fo - f) <= 1e-12, (name, j, jo, f, fo)
        items.append({"name": name, "height": int(gt.shape[0]), "width": int(gt.shape[1]),
                      "gt": rle(gt), "pred": rle(pred), "J": j, "F": f})
    seq = [0.9, 0.8, float("nan"), 0.4, 0.7, 0.2, 0.6, 0.55, 0.1]
    M, O, D = statistics(seq)
    doc = {"generator": "tools/tracking/davis_reference_eval.py vectors", "seed": 20260101,
           "checked_against_official": bool(off is not None), "pairs": items,
           "statistics": {"values": [None if math.isnan(x) else x for x in seq], "mean": M, "recall": O, "decay": D}}
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"wrote {len(items)} pairs to {out} (official cross-check: {off is not None})")


# ----------------------------------------------------------------------------- eval

def read_objects(path, n_obj=None):
    from PIL import Image
    a = np.array(Image.open(path))
    if a.ndim == 3:
        a = a[..., 0]
    if set(np.unique(a).tolist()) <= {0, 255}:
        a = (a == 255).astype(np.uint8)  # 0/255 single-object masks: object 1
    return a


def evaluate(root, results, sequences, res):
    ann = os.path.join(root, "Annotations", res)
    seqs = sequences or sorted(os.listdir(ann))
    rows = []
    for s in seqs:
        names = sorted(f[:-4] for f in os.listdir(os.path.join(ann, s)) if f.endswith(".png"))
        gts = [read_objects(os.path.join(ann, s, n + ".png")) for n in names]
        n_obj = int(gts[0].max())
        prs = [read_objects(os.path.join(results, s, n + ".png")) for n in names]
        for k in range(1, n_obj + 1):
            J = [iou(g == k, p == k) for g, p in zip(gts[1:-1], prs[1:-1])]
            F = [f_measure(p == k, g == k) for g, p in zip(gts[1:-1], prs[1:-1])]
            rows.append((f"{s}_{k}" if n_obj > 1 else s, float(np.mean(J)), float(np.mean(F)), J, F))
    for name, j, f, _, _ in rows:
        print(f"{name:24s} J {j:.6f}  F {f:.6f}  J&F {(j + f) / 2:.6f}")
    jm = np.mean([r[1] for r in rows]); fm = np.mean([r[2] for r in rows])
    print(f"{'mean':24s} J {jm:.6f}  F {fm:.6f}  J&F {(jm + fm) / 2:.6f}")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("vectors"); v.add_argument("--out", default="Tests/Fixtures/tracking/jf_vectors.json")
    v.add_argument("--official", default=None, help="checkout of davis2017-evaluation for a cross-check")
    e = sub.add_parser("eval"); e.add_argument("root"); e.add_argument("results")
    e.add_argument("--sequences", nargs="*"); e.add_argument("--res", default="480p")
    e.add_argument("--json", default=None, help="also write per-frame J/F here")
    a = ap.parse_args()
    if a.cmd == "vectors":
        write_vectors(a.out, a.official)
    else:
        rows = evaluate(a.root, a.results, a.sequences, a.res)
        if a.json:
            with open(a.json, "w") as fh:
                json.dump([{"name": n, "J": J, "F": F} for n, _, _, J, F in rows], fh)
