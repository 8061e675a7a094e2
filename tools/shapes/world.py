"""A synthetic shapes world (issue 15): short clips of coloured shapes moving on textured backgrounds, with the
ground-truth mask of every object on every frame and templated captions and multiple-choice questions.

Seeded and deterministic: the same seed gives the same clips, masks and questions. Used by train.py (training
data, rendered in memory and passed through a real mp4 encode/decode) and to write held-out sets of encoded clips
that `gar eval shapes` runs through the full Swift pipeline:

    python tools/shapes/world.py --out Tests/Fixtures/shapes-heldout --clips 6 --seed 7001
    python tools/shapes/world.py --out /tmp/shapes-eval --clips 10 --seed 9001      # the model card's set

A held-out set folder holds `clipNNN.mp4` and `set.json` (schema below, `write_set`). Only numpy, pillow and the
ffmpeg command-line tool are needed.
"""
import argparse
import json
import os
import subprocess

import numpy as np
from PIL import Image, ImageDraw

SIZE = 160          # frames are SIZE x SIZE
FRAMES = 32         # frames per clip, at FPS
FPS = 15
SAMPLED = 4         # frames the model sees (gar caption --frames 4: PerceptionLM's uniform rule over 32 -> 0, 8, 16, 24)
COLOURS = {"red": (215, 35, 35), "green": (30, 165, 50), "blue": (35, 70, 215), "yellow": (235, 205, 20)}
SHAPES = ["circle", "square", "triangle", "star"]
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
SPEEDS = {"slowly": 1.0, "quickly": 2.2}   # pixels per frame
CAPTION_QUESTION = "Describe this masked region in detail."
MC_SUFFIX = ". Answer with the option's letter from the given choices directly."
LETTERS = "ABCD"


def sampled_frames(total=FRAMES, count=SAMPLED):
    """PerceptionLM's uniform rule (Sources/Video/Sampling.swift uniformPLM), as gar samples frames."""
    if count >= total:
        return list(range(total))
    step = total / count
    return sorted({int(i * step) for i in range(int(np.ceil(total / step))) if int(i * step) < total})


def background(rng):
    """A muted, textured background: a smooth two-colour gradient, soft blobs and faint stripes."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    base = rng.uniform(110, 185, size=3)
    tint = rng.uniform(-25, 25, size=3)
    angle = rng.uniform(0, 2 * np.pi)
    t = np.cos(angle) * xx + np.sin(angle) * yy
    img = base[None, None, :] + t[..., None] * tint[None, None, :]
    for _ in range(rng.integers(2, 5)):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.3)
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-20, 20, size=3)[None, None, :]
    freq, phase = rng.uniform(8, 20), rng.uniform(0, 2 * np.pi)
    img += 6 * np.sin(freq * t * 2 * np.pi + phase)[..., None]
    img += rng.normal(0, 3, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def shape_mask(shape, cx, cy, size):
    """The shape's mask (bool SIZE x SIZE) centred at (cx, cy) with the given width."""
    im = Image.new("L", (SIZE, SIZE), 0)
    d = ImageDraw.Draw(im)
    r = size / 2
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif shape == "square":
        d.rectangle([cx - r * 0.85, cy - r * 0.85, cx + r * 0.85, cy + r * 0.85], fill=255)
    elif shape == "triangle":
        d.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], fill=255)
    else:  # five-pointed star
        pts = []
        for i in range(10):
            a = -np.pi / 2 + i * np.pi / 5
            rr = r if i % 2 == 0 else r * 0.45
            pts.append((cx + rr * np.cos(a), cy + rr * np.sin(a)))
        d.polygon(pts, fill=255)
    return np.array(im) > 127


def _path(rng, direction, speed, size):
    """Start centre such that the object stays inside the frame for the whole clip."""
    dx, dy = DIRECTIONS[direction]
    travel = SPEEDS[speed] * (FRAMES - 1)
    lo, hi = size / 2 + 3, SIZE - size / 2 - 3
    def start(d):
        if d > 0:
            return rng.uniform(lo, hi - travel)
        if d < 0:
            return rng.uniform(lo + travel, hi)
        return rng.uniform(lo, hi)
    return start(dx), start(dy)


def make_clip(rng, objects=2, speeds=None):
    """One clip: frames [FRAMES, SIZE, SIZE, 3] uint8 and `objects` objects (distinct colour, shape and direction;
    they never touch), each with its attributes and masks [FRAMES, SIZE, SIZE] bool (visible part).
    `speeds` (one SPEEDS key per object) fixes the speeds instead of drawing them: the path rejection below turns
    down more quick objects than slow ones (they travel further), so free draws give ~3 slow to 1 quick; train.py
    --balance-speeds passes uniformly drawn speeds. Without it the draws (and every existing set) are unchanged."""
    while True:
        colours = rng.permutation(list(COLOURS))[:objects]
        shapes = rng.permutation(SHAPES)[:objects]
        dirs = rng.permutation(list(DIRECTIONS))[:objects]
        objs = []
        for k in range(objects):
            speed = str(rng.choice(list(SPEEDS))) if speeds is None else speeds[k]
            size = float(rng.uniform(38, 50))
            cx, cy = _path(rng, dirs[k], speed, size)
            dx, dy = DIRECTIONS[dirs[k]]
            centres = [(cx + dx * SPEEDS[speed] * t, cy + dy * SPEEDS[speed] * t) for t in range(FRAMES)]
            objs.append(dict(colour=str(colours[k]), shape=str(shapes[k]), direction=str(dirs[k]), speed=speed,
                             size=size, centres=centres))
        # reject paths that come close (no occlusion: keeps every object's ground truth unambiguous)
        ok = all(abs(a["centres"][t][0] - b["centres"][t][0]) > (a["size"] + b["size"]) / 2 + 6 or
                 abs(a["centres"][t][1] - b["centres"][t][1]) > (a["size"] + b["size"]) / 2 + 6
                 for i, a in enumerate(objs) for b in objs[i + 1:] for t in range(FRAMES))
        if ok:
            break
    bg = background(rng)
    frames = np.repeat(bg[None], FRAMES, axis=0).copy()
    for o in objs:
        o["masks"] = np.stack([shape_mask(o["shape"], *o["centres"][t], o["size"]) for t in range(FRAMES)])
        shade = np.clip(np.array(COLOURS[o["colour"]]) + rng.integers(-12, 13, size=3), 0, 255).astype(np.uint8)
        for t in range(FRAMES):
            frames[t][o["masks"][t]] = shade
    return dict(frames=frames, objects=objs)


def encode_mp4(frames, path):
    """H.264 mp4 (yuv420p, crf 18) of RGB frames, through the ffmpeg command-line tool."""
    n, h, w, _ = frames.shape
    cmd = ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p",
           "-g", str(FRAMES), "-bf", "0", "-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact",
           "-flags:v", "+bitexact", path]
    subprocess.run(cmd, input=frames.tobytes(), check=True)


def decode_mp4(path):
    """All frames of an mp4 as RGB uint8 [n, h, w, 3] (ffmpeg command-line tool)."""
    out = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, SIZE, SIZE, 3)


def caption(o):
    return f"A {o['colour']} {o['shape']} moving {o['direction']} {o['speed']}."


def multiple_choice(question, answer, choices):
    """(the prompt: question, options and suffix as gar's VideoQuestion.prompt joins them; the options
    ["(A) red", ...]; the answer letter). The options are every value of the attribute in a FIXED order (the demo
    model learns the attribute, not to match shuffled option texts)."""
    options = [f"({LETTERS[i]}) {c}" for i, c in enumerate(choices)]
    return question + " " + " ".join(options) + MC_SUFFIX, options, LETTERS[choices.index(answer)]


def questions(o):
    """The questions about one region (always <Prompt0>): a caption and multiple choice on colour, shape,
    direction (4 options) and speed (2 options). `question` is the full prompt the model reads; `text` and
    `choices` are its parts as gar takes them (VideoQuestion)."""
    out = [dict(kind="caption", question=CAPTION_QUESTION, text=CAPTION_QUESTION, choices=[], answer=caption(o))]
    for kind, q, choices in (("colour", "What colour is <Prompt0>?", list(COLOURS)),
                             ("shape", "What shape is <Prompt0>?", SHAPES),
                             ("direction", "Which way does <Prompt0> move?", list(DIRECTIONS)),
                             ("speed", "How fast does <Prompt0> move?", list(SPEEDS))):
        prompt, options, letter = multiple_choice(q, o[kind], choices)
        out.append(dict(kind=kind, question=prompt, text=q, choices=options, answer=letter))
    return out


def box_of(mask):
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]


def write_set(out, clips, seed):
    """A held-out set: clipNNN.mp4 + set.json {schema_version, seed, size [width, height], frames, fps, sampled_frames,
    clips: [{file, objects: [{colour, shape, direction, speed, box (x1,y1,x2,y2 inclusive on frame 0),
    boxes_sampled: its box on each sampled frame}], questions: [per object: [{kind, question, text, choices,
    answer}]]}]}. In the questions the object is <Prompt0>."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    entries = []
    for i in range(clips):
        c = make_clip(rng)
        name = f"clip{i:03d}.mp4"
        encode_mp4(c["frames"], os.path.join(out, name))
        objs = [dict(colour=o["colour"], shape=o["shape"], direction=o["direction"], speed=o["speed"],
                     box=box_of(o["masks"][0]), boxes_sampled=[box_of(o["masks"][t]) for t in sampled_frames()])
                for o in c["objects"]]
        entries.append(dict(file=name, objects=objs, questions=[questions(o) for o in c["objects"]]))
    doc = dict(schema_version=1, seed=seed, size=[SIZE, SIZE], frames=FRAMES, fps=FPS, sampled_frames=sampled_frames(),
               clips=entries)
    with open(os.path.join(out, "set.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7001)
    a = ap.parse_args()
    write_set(a.out, a.clips, a.seed)


if __name__ == "__main__":
    main()
