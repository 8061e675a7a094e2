#!/usr/bin/env python3
"""Writes the tiny synthetic VideoRefer-Bench-Q of Tests/Fixtures/videorefer/ (deterministic).

    /work/venv/ref/bin/python Tests/Fixtures/videorefer/make_videorefer_fixture.py

* videos/DAVIS/JPEGImages/480p/shapes/   12 JPEG frames 96x64: a red disc moving right, a blue
  square moving down and out of the frame (gone from frame 10: a null segmentation there).
* videos/MeViS/valid_u/JPEGImages/dots/  10 JPEG frames 80x60: a green disc moving left.
* questions.json   8 questions in the benchmark's format (id, video, Question with <objectN> and
                   <region>, type, options, Answer, frame_idx, annotation = COCO RLE per object per
                   annotated frame; every 2nd frame is annotated, as the benchmark annotates 32
                   uniformly spaced frames), all five question types.
* predictions_fixed.jsonl   fixed predictions in the official format (id, type, Answer, pred) that
                   exercise every branch of the official letter rule.
* expected_scores.json      per-type and average accuracy of predictions_fixed.jsonl computed here
                   by a re-implementation of VideoRefer's eval_videorefer_bench_q.py rule
                   (gt: '(X)' of Answer else Answer; pred: first '(X)', else first 'X)', else the
                   first character once '.' are removed; case-insensitive).
"""
import json
import os
import re

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

HERE = os.path.dirname(os.path.abspath(__file__))


def rle(mask):
    r = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(r["size"][0]), int(r["size"][1])], "counts": r["counts"].decode("ascii")}


def background(w, h, seed):
    rng = np.random.default_rng(seed)
    base = np.zeros((h, w, 3), np.float64)
    base[..., 0] = np.linspace(40, 120, w)[None, :]
    base[..., 1] = np.linspace(60, 140, h)[:, None]
    base[..., 2] = 90
    return np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255)


def disc(w, h, cx, cy, r):
    yy, xx = np.mgrid[0:h, 0:w]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def square(w, h, x0, y0, s):
    m = np.zeros((h, w), bool)
    m[max(0, y0):max(0, min(h, y0 + s)), max(0, x0):max(0, min(w, x0 + s))] = True
    return m


def write_clip(folder, frames):
    os.makedirs(folder, exist_ok=True)
    for i, img in enumerate(frames):
        Image.fromarray(img.astype(np.uint8)).save(os.path.join(folder, f"{i:05d}.jpg"), quality=90)


def make_shapes():
    w, h, n = 96, 64, 12
    bg = background(w, h, 1)
    frames, red, blue = [], [], []
    for t in range(n):
        img = bg.copy()
        r = disc(w, h, 12 + 6 * t, 36, 9)
        b = square(w, h, 60, -4 + 7 * t, 14)   # leaves through the bottom: gone from frame 10
        img[r] = (220, 40, 40)
        img[b & ~r] = (40, 60, 220)
        b = b & ~r
        frames.append(img)
        red.append(r)
        blue.append(b)
    write_clip(os.path.join(HERE, "videos/DAVIS/JPEGImages/480p/shapes"), frames)
    annotated = range(0, n, 2)
    ann_red = {str(t): {"segmentation": rle(red[t])} for t in annotated}
    ann_blue = {str(t): {"segmentation": rle(blue[t])} for t in annotated if blue[t].sum() > 0}
    ann_blue["10"] = {"segmentation": None}   # a null segmentation: not visible there
    return ann_red, ann_blue


def make_dots():
    w, h, n = 80, 60, 10
    bg = background(w, h, 2)
    frames, green = [], []
    for t in range(n):
        img = bg.copy()
        g = disc(w, h, 66 - 6 * t, 24, 8)
        img[g] = (40, 200, 60)
        frames.append(img)
        green.append(g)
    write_clip(os.path.join(HERE, "videos/MeViS/valid_u/JPEGImages/dots"), frames)
    return {str(t): {"segmentation": rle(green[t])} for t in range(0, n, 2)}


def official_letter(pred):
    m = re.search(r"\(([A-Z])\)", pred)
    if m:
        return m.group(1)
    m = re.search(r"([A-Z])\)", pred)
    if m:
        return m.group(1)
    s = pred.replace(".", "")
    return s[0] if s else None     # the official script raises IndexError here


def official_truth(answer):
    m = re.search(r"\(([A-Z])\)", answer)
    return m.group(1) if m else answer


def main():
    red, blue = make_shapes()
    green = make_dots()
    shapes = "DAVIS/JPEGImages/480p/shapes"
    dots = "MeViS/valid_u/JPEGImages/dots"
    abcd = lambda *o: [f"({'ABCD'[i]}) {t}" for i, t in enumerate(o)]
    questions = [
        (shapes, "What color is <object1><region>?", "Basic Questions", abcd("Red", "Blue", "Green", "Yellow"), 0, "4", [red]),
        (shapes, "What shape is <object2><region>?", "Basic Questions", abcd("A disc", "A square", "A star", "A line"), 1, "2", [blue]),
        (shapes, "Which way does <object1><region> move?", "Sequential Questions", abcd("Left", "Right", "Up", "Down"), 1, "6", [red]),
        (shapes, "Where is <object2><region> relative to <object1><region> at the start?", "Relationship Questions",
         abcd("Above and to the right", "Below", "To the left", "Inside it"), 0, "0", [blue, red]),
        (shapes, "Why does <object2><region> disappear?", "Reasoning Questions",
         abcd("It leaves the frame", "It turns red", "It shrinks", "It stops"), 0, "6", [blue]),
        (shapes, "What will <object1> do next?", "Future Predictions", abcd("Keep moving right", "Stop", "Turn blue", "Vanish"), 0, "10", [red]),
        (dots, "What color is <object3><region>?", "Basic Questions", abcd("Blue", "Green", "Red", "White"), 1, "0", [green]),
        (dots, "Which way does <object3><region> move?", "Sequential Questions", abcd("Right", "Left", "Up", "Down"), 1, "4", [green]),
    ]
    items = []
    for i, (video, q, typ, opts, ans, fidx, ann) in enumerate(questions):
        items.append({"id": i, "video": video, "Question": q, "type": typ, "options": opts, "Answer": opts[ans],
                      "frame_idx": fidx, "annotation": ann})
    with open(os.path.join(HERE, "questions.json"), "w") as f:
        json.dump(items, f, indent=1)
        f.write("\n")

    # Fixed predictions: every branch of the letter rule, right and wrong answers.
    preds = [
        "(A) Red",                         # '(X)'                    -> A  right
        "B",                               # first character          -> B  right
        "The answer is (A).",              # '(X)' inside text        -> A  wrong (B)
        "A) Above and to the right",       # 'X)'                     -> A  right
        "a",                               # lower case first char    -> a  right (case-insensitive)
        "Answer: B",                       # first char of the text   -> A  right only by accident (A)
        ".B.",                             # '.' removed first        -> B  right
        "",                                # empty: no letter         -> wrong (official: IndexError)
    ]
    lines = []
    for it, p in zip(items, preds):
        lines.append(json.dumps({"id": str(it["id"]), "type": it["type"], "Answer": it["Answer"], "pred": p}))
    with open(os.path.join(HERE, "predictions_fixed.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")

    types, total, right = [], {}, {}
    for it, p in zip(items, preds):
        t = it["type"]
        if t not in total:
            types.append(t)
            total[t] = right[t] = 0
        total[t] += 1
        letter = official_letter(p)
        if letter is not None and letter.lower() == official_truth(it["Answer"]).lower():
            right[t] += 1
    rows = [{"type": t, "total": total[t], "correct": right[t], "accuracy": right[t] / total[t]} for t in types]
    all_n, all_r = sum(total.values()), sum(right.values())
    expected = {"types": rows, "average": {"type": "average", "total": all_n, "correct": all_r, "accuracy": all_r / all_n},
                "letters": [official_letter(p) for p in preds]}
    with open(os.path.join(HERE, "expected_scores.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
