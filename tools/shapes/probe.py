"""Diagnosis probe for the shapes demo model (issue 15): is the region's POSITION readable from the replayed
(RoI) tokens that reach the decoder? Motion (direction, speed) is the change of that position across the 4
frames, so a model whose replayed tokens do not say where the region is cannot learn motion.

For each checkpoint: fresh clips (train.FastExamples: the training inputs, ground-truth masks), the projector's
map of every sampled frame, RoI-Align on the region's box with the checkpoint's replay (corrected box scaling, as
train.py), the mean of the 256 replayed tokens -> a ridge-regression probe of the box centre (x, y), fitted on
25 clips and measured on 10 others (R^2 and mean absolute error in pixels of the 160-pixel frame).

    /work/venv/ref/bin/python tools/shapes/probe.py models/gar-shapes-demo [OTHER_CHECKPOINT ...]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402  (patches the reference's RoI box to the corrected scaling)
import world  # noqa: E402


def replayed_means(model, fresh, clips):
    """(features [n, C]: mean replayed token per region and frame, targets [n, 2]: box centre, normalised)."""
    xs, ys = [], []
    for _ in range(clips):
        for ex in fresh.next():
            with torch.no_grad():
                maps = train.frame_maps(model, ex)
                for f, _, bbox in ex["spans"]:
                    roi, scale = train.ref.roi_box(bbox, 16, 16)
                    r = train.torchvision.ops.roi_align(maps[f:f + 1], roi.unsqueeze(0), output_size=(16, 16),
                                                        spatial_scale=scale, sampling_ratio=2, aligned=True)
                    xs.append(r.mean((2, 3))[0].numpy())
                    ys.append([(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2])
    return np.array(xs), np.array(ys)


def probe(model, processor, tokenizer, seed):
    xtr, ytr = replayed_means(model, train.FastExamples(processor, tokenizer, np.random.default_rng(seed)), 25)
    xte, yte = replayed_means(model, train.FastExamples(processor, tokenizer, np.random.default_rng(seed + 1)), 10)
    a = np.c_[xtr, np.ones(len(xtr))]
    w = np.linalg.solve(a.T @ a + 1e-2 * np.eye(a.shape[1]), a.T @ ytr)
    pred = np.c_[xte, np.ones(len(xte))] @ w
    r2 = 1 - ((pred - yte) ** 2).sum(0) / ((yte - yte.mean(0)) ** 2).sum(0)
    return r2, np.abs(pred - yte).mean(0) * world.SIZE


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(2)
    tokenizer = train.AutoTokenizer.from_pretrained(os.path.join(train.gen.FIXTURES, "tokenizer"))
    processor = train.video_processor(tokenizer)
    for path in a.models:
        model = train.ref.GARModel.from_pretrained(path, use_flash_attn=False, dtype=torch.float32)
        r2, err = probe(model, processor, tokenizer, a.seed)
        print(f"{path}: box centre from the replayed tokens: R^2 x {r2[0]:.2f} y {r2[1]:.2f}, "
              f"mean abs error x {err[0]:.1f} px y {err[1]:.1f} px", flush=True)


if __name__ == "__main__":
    main()
