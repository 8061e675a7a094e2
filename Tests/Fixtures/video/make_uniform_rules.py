#!/usr/bin/env python3
"""Golden frame indices for the uniform sampling rules (VideoTests/SamplingTests).

    /work/venv/ref/bin/python Tests/Fixtures/video/make_uniform_rules.py   # torch, numpy 1.26.4

plm:        transformers BaseVideoProcessor.sample_frames (4.56.2), i.e.
            torch.arange(0, total, total / num_frames).int()            (num_frames <= total)
videorefer: VideoRefer videorefer/mm_utils.py frame_sample(mode='uniform') ("v1"):
            seg = (duration - 1) / num_frames; round((seg*i + seg*(i+1)) / 2 + 1e-6)
Writes uniform_rules.json: {"cases": [{"total": n, "count": k, "plm": [...], "videorefer": [...]}]}.
"""
import json
import os

import numpy as np
import torch


def plm(total, count):
    return torch.arange(0, total, total / count).int().tolist()


def videorefer(duration, num_frames):
    seg_size = float(duration - 1) / num_frames
    frame_ids = []
    for i in range(num_frames):
        start = seg_size * i
        end = seg_size * (i + 1)
        frame_ids.append((start + end) / 2)
    return np.round(np.array(frame_ids) + 1e-6).astype(int).tolist()


cases = []
totals = list(range(1, 130)) + [149, 150, 151, 239, 240, 241, 299, 300, 301, 997, 1000, 1799, 1800, 4500,
                                 9973, 15000, 107892]
for n in totals:
    for k in [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 31, 32, 64]:
        if k > n:
            continue
        cases.append({"total": n, "count": k, "plm": plm(n, k), "videorefer": videorefer(n, k)})
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "uniform_rules.json")
with open(out, "w") as f:
    json.dump({"generator": "Tests/Fixtures/video/make_uniform_rules.py", "torch": torch.__version__,
               "numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
print(len(cases), "cases ->", out)
