"""PyTorch-vs-gar token parity for the shapes demo model (issue 15): the reference (gar_reference.GARModel,
fp32 compute on the shipped bf16 weights, video protocol v1) answers questions on a few shapes clips given as
frames + ground-truth masks; gar must produce the same tokens on the same frames and masks
(Tests/GARCLITests/ShapesModelTests.swift runs `gar ask --frames-dir --annotation`).

    /work/venv/ref/bin/python tools/shapes/parity.py        # -> Tests/Fixtures/shapes-parity/

Writes per case `NAME/frames/0000N.png` (the 4 sampled frames of an encoded-then-decoded clip), `NAME/annotation.json`
(object 0's mask on each frame, COCO RLE with uncompressed counts) and `expected.json` (questions, choices,
generated ids and text). Seeded and deterministic.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import train  # noqa: E402  (puts Tests/Fixtures/generate on the path)
import world  # noqa: E402

gen, ref = train.gen, train.ref
OUT = os.path.join(ROOT, "Tests", "Fixtures", "shapes-parity")
MODEL = os.path.join(ROOT, "models", "gar-shapes-demo")
CASES = [("clip_a", 31001), ("clip_b", 31002)]
MAX_NEW_TOKENS = 32


def rle(mask):
    """COCO RLE of a bool [h, w] mask, uncompressed counts (column-major runs, starting with a 0-run)."""
    flat = mask.T.flatten().astype(np.uint8)
    counts, current, run = [], 0, 0
    for v in flat:
        if v != current:
            counts.append(run)
            current, run = v, 0
        run += 1
    counts.append(run)
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=MODEL)
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    gen.check_versions()
    torch.set_num_threads(1)
    model, processor = gen.load_reference(a.model)
    out_dir = a.out
    tok = processor.tokenizer
    vproc = train.video_processor(tok)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    cases = []
    for name, seed in CASES:
        rng = np.random.default_rng(seed)
        clip = world.make_clip(rng)
        path = os.path.join(out_dir, "tmp.mp4")
        world.encode_mp4(clip["frames"], path)
        decoded = world.decode_mp4(path)
        os.remove(path)
        idx = world.sampled_frames()
        frames = [Image.fromarray(decoded[t]) for t in idx]
        masks = [clip["objects"][0]["masks"][t] for t in idx]
        os.makedirs(os.path.join(out_dir, name, "frames"))
        for i, fr in enumerate(frames):
            fr.save(os.path.join(out_dir, name, "frames", f"{i:05d}.png"), optimize=True)
        with open(os.path.join(out_dir, name, "annotation.json"), "w") as f:
            json.dump([{str(i): {"segmentation": rle(m)} for i, m in enumerate(masks)}], f)
        qs = world.questions(clip["objects"][0])
        answers = []
        for q in (qs[0], qs[1], qs[3]):   # caption, colour, direction
            vin = ref.video_inputs(vproc, frames, [masks], q["question"])
            out = model.generate_video(pixel_values=vin["pixel_values"], global_mask_values=vin["global_mask_values"],
                                       input_ids=vin["input_ids"], attention_mask=vin["attention_mask"],
                                       spans=vin["spans"], generation_config=ref.greedy_config(tok, MAX_NEW_TOKENS))
            ids = out.sequences[0].tolist()
            answers.append(dict(kind=q["kind"], text=q["text"], choices=q["choices"], truth=q["answer"],
                                prompt_tokens=int(vin["input_ids"].shape[1]), generated_ids=ids,
                                generated_text=ref.decode_text(tok, ids)))
            print(name, q["kind"], repr(answers[-1]["generated_text"]), "truth", q["answer"])
        cases.append(dict(name=name, seed=seed, object={k: clip["objects"][0][k] for k in ("colour", "shape", "direction", "speed")},
                          questions=answers))
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(dict(schema_version=1, model="models/gar-shapes-demo", max_new_tokens=MAX_NEW_TOKENS, cases=cases), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
