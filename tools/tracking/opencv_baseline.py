#!/usr/bin/env python3
"""Classical baselines on a DAVIS-layout dataset, scored with the DAVIS protocol
(davis_reference_eval.py beside this file). Dev only; CI never runs it.

  copy        the first-frame mask copied to every frame
  dis         OpenCV DIS (PRESET_MEDIUM) pull-warp chain: prev mask warped by the backward
              flow flow(gray_t -> gray_t-1), bilinear, thresholded at 0.5
  farneback   same chain with Farneback flow (pyr 0.5, 5 levels, win 15, 3 it, poly 5/1.1)

usage: opencv_baseline.py DAVIS_ROOT [--sequences a b ...] [--methods copy dis farneback]
       [--res 480p] [--threads 2] [--json out.json]
Pinned: opencv-python-headless 4.11.0.86, numpy 1.26.4 (/work/venv/ref).
"""
import argparse, json, os, sys, time
import numpy as np
import cv2
from PIL import Image
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from davis_reference_eval import iou, f_measure


def load(root, res, seq):
    img_dir = os.path.join(root, "JPEGImages", res, seq)
    ann_dir = os.path.join(root, "Annotations", res, seq)
    names = sorted(f[:-4] for f in os.listdir(img_dir) if f.endswith(".jpg"))
    frames = [np.array(Image.open(os.path.join(img_dir, n + ".jpg")).convert("RGB")) for n in names]
    gts = []
    for n in names:
        a = np.array(Image.open(os.path.join(ann_dir, n + ".png")))
        if a.ndim == 3: a = a[..., 0]
        gts.append(a > 0)
    return frames, gts


def chain(frames, first, flow_fn):
    h, w = first.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    prev = first.astype(np.float32)
    out = [first]
    grays = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    t0, c0 = time.perf_counter(), time.process_time()
    for t in range(1, len(frames)):
        fb = flow_fn(grays[t], grays[t - 1])
        warped = cv2.remap(prev, xs + fb[..., 0], ys + fb[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        m = warped > 0.5
        out.append(m); prev = m.astype(np.float32)
    ms = (time.perf_counter() - t0) * 1000 / max(1, len(frames) - 1)
    cpu = (time.process_time() - c0) * 1000 / max(1, len(frames) - 1)   # all threads of the process
    return out, ms, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root"); ap.add_argument("--sequences", nargs="*"); ap.add_argument("--res", default="480p")
    ap.add_argument("--methods", nargs="*", default=["copy", "dis", "farneback"])
    ap.add_argument("--threads", type=int, default=2); ap.add_argument("--json")
    a = ap.parse_args()
    cv2.setNumThreads(a.threads)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    methods = {
        "copy": None,
        "dis": lambda a_, b_: dis.calc(a_, b_, None),
        "farneback": lambda a_, b_: cv2.calcOpticalFlowFarneback(a_, b_, None, 0.5, 5, 15, 3, 5, 1.1, 0),
    }
    seqs = a.sequences or sorted(os.listdir(os.path.join(a.root, "Annotations", a.res)))
    table = {m: [] for m in a.methods}
    for s in seqs:
        frames, gts = load(a.root, a.res, s)
        for m in a.methods:
            if m == "copy":
                preds, ms, cpu = [gts[0]] * len(gts), 0.0, 0.0
            else:
                preds, ms, cpu = chain(frames, gts[0], methods[m])
            J = [iou(g, p) for g, p in zip(gts[1:-1], preds[1:-1])]
            F = [f_measure(p, g) for g, p in zip(gts[1:-1], preds[1:-1])]
            table[m].append((s, float(np.mean(J)), float(np.mean(F)), ms, cpu, len(frames)))
            print(f"{m:10s} {s:20s} J {np.mean(J):.3f} F {np.mean(F):.3f} J&F {(np.mean(J) + np.mean(F)) / 2:.3f} {ms:6.1f} ms/frame (CPU {cpu:.1f})", flush=True)
    print()
    for m in a.methods:
        jm = np.mean([r[1] for r in table[m]]); fm = np.mean([r[2] for r in table[m]]); ms = np.mean([r[3] for r in table[m]])
        print(f"MEAN {m:10s} J {jm:.3f} F {fm:.3f} J&F {(jm + fm) / 2:.3f}  {ms:.1f} ms/frame")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({m: [{"sequence": s, "J": j, "F": f, "ms": ms, "cpu_ms": cpu, "frames": n} for s, j, f, ms, cpu, n in rows]
                       for m, rows in table.items()}, fh, indent=1)


if __name__ == "__main__":
    main()
