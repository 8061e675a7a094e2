"""A synthetic shapes world (issue 15): short clips of coloured shapes moving on textured backgrounds, with the
ground-truth mask of every object on every frame and templated captions and multiple-choice questions.

Seeded and deterministic: the same seed gives the same clips, masks and questions. Used by train.py (training
data, rendered in memory and passed through a real mp4 encode/decode) and to write held-out sets of encoded clips
that `gar eval shapes` runs through the full Swift pipeline:

    python tools/shapes/world.py --out Tests/Fixtures/shapes-heldout --clips 6 --seed 7001
    python tools/shapes/world.py --out /tmp/shapes-eval --clips 10 --seed 9001      # the model card's set

A held-out set folder holds `clipNNN.mp4` and `set.json` (schema below, `write_set`). Only numpy, pillow and the
ffmpeg command-line tool are needed.

Event clips (`make_event_clip`, kinds EVENT_KINDS: occlude, leave, overtake, grow, shrink, turn) add what the
default world lacks: shapes that hide each other, leave the view and come back, overtake, change size or turn, and
questions about one region or two (`event_questions`: relations left/right/above/below at the start and end, touch,
overtake, which leaves the view first/last, leave, size, turn, and captions with the event clause). `--events`
(every kind in turn) or `--kinds` writes them as a set of schema v2 (`write_event_set`: the objects with their
`prompt_frame`, and one flat question list whose `regions` name the objects in prompt order); without them the
default world and schema v1 are written, unchanged (tools/shapes/world_check.py checks it byte for byte):

    python tools/shapes/world.py --out Tests/Fixtures/shapes-events --clips 4 --seed 7101 --kinds occlude,leave,overtake,grow
    python tools/shapes/world.py --out /tmp/shapes-events --clips 12 --seed 9101 --events
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


def shape_mask(shape, cx, cy, size, angle=0.0):
    """The shape's mask (bool SIZE x SIZE) centred at (cx, cy) with the given width, turned by `angle` degrees
    (clockwise on screen)."""
    im = Image.new("L", (SIZE, SIZE), 0)
    d = ImageDraw.Draw(im)
    r = size / 2
    if angle and shape != "circle":
        a = np.deg2rad(angle)
        c, s = np.cos(a), np.sin(a)
        d.polygon([(cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c)
                   for x, y in outline(shape, cx, cy, r)], fill=255)
    elif shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif shape == "square":
        d.rectangle([cx - r * 0.85, cy - r * 0.85, cx + r * 0.85, cy + r * 0.85], fill=255)
    else:
        d.polygon(outline(shape, cx, cy, r), fill=255)
    return np.array(im) > 127


def outline(shape, cx, cy, r):
    """The polygon of a square, triangle or five-pointed star of half-width r centred at (cx, cy), unrotated."""
    if shape == "square":
        return [(cx - r * 0.85, cy - r * 0.85), (cx + r * 0.85, cy - r * 0.85), (cx + r * 0.85, cy + r * 0.85),
                (cx - r * 0.85, cy + r * 0.85)]
    if shape == "triangle":
        return [(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)]
    pts = []
    for i in range(10):
        a = -np.pi / 2 + i * np.pi / 5
        rr = r if i % 2 == 0 else r * 0.45
        pts.append((cx + rr * np.cos(a), cy + rr * np.sin(a)))
    return pts


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


# ---------------------------------------------------------------------------------------------------------------
# Event clips (issue 15: shapes that occlude each other, leave the view and come back, overtake, grow, shrink,
# turn) and questions about one or two regions. Beside the world above, which they leave unchanged.

EVENT_KINDS = ["occlude", "leave", "overtake", "grow", "shrink", "turn"]
SYMMETRY = {"square": 90.0, "triangle": 120.0, "star": 72.0}   # a turn by this many degrees looks the same
RELATIONS = ["left", "right", "above", "below"]
YES_NO = ["yes", "no"]
SIZE_CHANGES = ["grows", "shrinks", "keeps its size"]
PROMPTS = ["<Prompt0>", "<Prompt1>"]
RELATION_MARGIN = 16.0   # px between the centres on the dominant axis (and twice the other axis), else not asked
# The event clause that ends an object's caption (after its colour, shape, direction and speed).
CLAUSES = {None: ".", "leave": ", leaving the view and coming back.", "grow": ", growing.", "shrink": ", shrinking.",
           "turn": ", turning.", "front": ", passing in front of the {other}.", "behind": ", passing behind the {other}.",
           "overtaker": ", overtaking the {other}."}


def _object(colour, shape, direction, speed, size, centres, sizes=None, angles=None, event=None):
    return dict(colour=str(colour), shape=str(shape), direction=str(direction), speed=str(speed), size=float(size),
                centres=centres, sizes=sizes or [float(size)] * FRAMES, angles=angles or [0.0] * FRAMES, event=event,
                other=None, depth=0)


def _straight(rng, colour, shape, direction, speed, size, sizes=None, angles=None, event=None):
    """An object moving in a straight line that stays in view (its largest size decides the start)."""
    cx, cy = _path(rng, direction, speed, max(sizes or [size]))
    dx, dy = DIRECTIONS[direction]
    v = SPEEDS[speed]
    return _object(colour, shape, direction, speed, size, [(cx + dx * v * t, cy + dy * v * t) for t in range(FRAMES)],
                   sizes, angles, event)


def _inside(o, t, margin=2):
    """The whole object is in the frame at frame t (a shape reaches at most half its width from its centre)."""
    (cx, cy), r = o["centres"][t], o["sizes"][t] / 2
    return all(margin <= c - r and c + r <= SIZE - margin for c in (cx, cy))


def _apart(a, b, t, margin=6):
    """The two objects' squares are more than `margin` px apart at frame t (so they cannot touch)."""
    (ax, ay), (bx, by) = a["centres"][t], b["centres"][t]
    gap = (a["sizes"][t] + b["sizes"][t]) / 2 + margin
    return abs(ax - bx) > gap or abs(ay - by) > gap


def _occlude(rng, colours, shapes):
    """Two objects on crossing horizontal paths, a few px apart vertically; they meet near frame 16 and the one in
    front (drawn last) hides part of the other."""
    dirs = rng.permutation(["left", "right"])
    meet, xm, ym = rng.uniform(13, 19), rng.uniform(62, 98), rng.uniform(45, 115)
    offset = rng.uniform(7, 14) * rng.choice([-1, 1])
    objs = []
    for k in range(2):
        speed = str(rng.choice(list(SPEEDS)))
        v = SPEEDS[speed] * DIRECTIONS[dirs[k]][0]
        y = ym + offset / 2 * (1 if k == 0 else -1)
        objs.append(_object(colours[k], shapes[k], dirs[k], speed, rng.uniform(38, 46),
                            [(xm + v * (t - meet), y) for t in range(FRAMES)]))
    front = int(rng.integers(2))
    objs[front].update(depth=1, event="front", other=1 - front)
    objs[1 - front].update(event="behind", other=front)
    return objs


def _leaver(rng, colour, shape, turn):
    """An object moving quickly towards an edge, just out of view at frame `turn`, then back the same way."""
    direction = str(rng.choice(list(DIRECTIONS)))
    size = rng.uniform(36, 44)
    r, v, beyond = size / 2, SPEEDS["quickly"], rng.uniform(3, 8)
    across = rng.uniform(r + 3, SIZE - r - 3)
    dx, dy = DIRECTIONS[direction]
    centres = []
    for t in range(FRAMES):
        out = r + beyond - v * abs(t - turn)          # centre's distance beyond the edge it leaves by
        along = SIZE + out if (dx + dy) > 0 else -out
        centres.append((along, across) if dx else (across, along))
    o = _object(colour, shape, direction, "quickly", size, centres, event="leave")
    o["turn"] = turn
    return o


def _leave(rng, colours, shapes):
    """One object leaves the view (out on sampled frame 16) and comes back; or two do, one out on frame 8, the other
    on frame 16."""
    if rng.random() < 0.5:
        turns = [int(t) for t in rng.permutation([8, 16])]
        return [_leaver(rng, colours[k], shapes[k], turns[k]) for k in range(2)]
    leaver = _leaver(rng, colours[0], shapes[0], 16)
    direction = str(rng.choice([d for d in DIRECTIONS if d != leaver["direction"]]))
    stayer = _straight(rng, colours[1], shapes[1], direction, str(rng.choice(list(SPEEDS))), rng.uniform(38, 46))
    return [leaver, stayer] if rng.random() < 0.5 else [stayer, leaver]


def _overtake(rng, colours, shapes):
    """Both move the same horizontal way at different heights; the quick one starts 10-20 px behind the slow one
    and passes it."""
    direction = str(rng.choice(["left", "right"]))
    sign = DIRECTIONS[direction][0]
    sizes = rng.uniform(38, 46, size=2)
    ys = rng.uniform(sizes / 2 + 3, SIZE - sizes / 2 - 3)
    start = rng.uniform(45, 80)        # the slow one's centre, counted along the direction of motion
    behind = rng.uniform(10, 20)
    objs = []
    for k, speed in enumerate(["quickly", "slowly"]):
        u0 = start - (behind if k == 0 else 0)
        us = [u0 + SPEEDS[speed] * t for t in range(FRAMES)]
        objs.append(_object(colours[k], shapes[k], direction, speed, sizes[k],
                            [(u if sign > 0 else SIZE - u, ys[k]) for u in us]))
    objs[0].update(event="overtaker", other=1)
    if rng.random() < 0.5:
        objs.reverse()
        objs[1]["other"] = 0
    return objs


def _change(rng, colours, shapes, kind):
    """One object grows or shrinks steadily (1.6-1.9x over the clip) or turns (a quarter of its symmetry every 8
    frames); the other keeps its size and does not turn. Both move in straight lines, in different directions."""
    dirs = rng.permutation(list(DIRECTIONS))[:2]
    objs = []
    for k in range(2):
        speed = str(rng.choice(list(SPEEDS)))
        if k == 0 and kind in ("grow", "shrink"):
            ratio = rng.uniform(1.6, 1.9)
            s0 = rng.uniform(26, 31) if kind == "grow" else rng.uniform(26, 31) * ratio
            sizes = [float(s0 * ratio ** ((t if kind == "grow" else -t) / (FRAMES - 1))) for t in range(FRAMES)]
            objs.append(_straight(rng, colours[k], shapes[k], dirs[k], speed, s0, sizes=sizes, event=kind))
        elif k == 0:
            step = SYMMETRY[shapes[k]] / 4 / 8 * rng.choice([-1, 1])
            objs.append(_straight(rng, colours[k], shapes[k], dirs[k], speed, rng.uniform(38, 46),
                                  angles=[float(step * t) for t in range(FRAMES)], event="turn"))
        else:
            objs.append(_straight(rng, colours[k], shapes[k], dirs[k], speed, rng.uniform(38, 46)))
    return objs if rng.random() < 0.5 else objs[::-1]


def _render(rng, objs):
    """Frames and masks: each object's whole shape (`full`) and its visible part (`masks`: not hidden by an object
    drawn later, i.e. of greater depth; empty out of view)."""
    bg = background(rng)
    frames = np.repeat(bg[None], FRAMES, axis=0).copy()
    for o in objs:
        o["full"] = np.stack([shape_mask(o["shape"], *o["centres"][t], o["sizes"][t], o["angles"][t])
                              for t in range(FRAMES)])
    order = sorted(range(len(objs)), key=lambda k: objs[k]["depth"])
    for i, k in enumerate(order):
        o = objs[k]
        hidden = np.zeros_like(o["full"])
        for j in order[i + 1:]:
            hidden |= objs[j]["full"]
        o["masks"] = o["full"] & ~hidden
        shade = np.clip(np.array(COLOURS[o["colour"]]) + rng.integers(-12, 13, size=3), 0, 255).astype(np.uint8)
        for t in range(FRAMES):
            frames[t][o["full"][t]] = shade
    return frames


def _valid(objs, kind):
    """The kind's event is visible on the sampled frames and nothing else happens (see make_event_clip)."""
    idx = sampled_frames()
    for o in objs:
        area = [int(o["masks"][t].sum()) for t in idx]
        if o["event"] == "leave":
            if not all((a == 0) == (t == o["turn"]) for t, a in zip(idx, area)) or min(a for a in area if a) < 20:
                return False
        elif not all(_inside(o, t) for t in range(FRAMES)) or min(area) < 150:
            return False
    if kind == "occlude":
        return any((objs[0]["full"][t] & objs[1]["full"][t]).sum() > 100 for t in idx)
    return all(_apart(objs[0], objs[1], t) for t in range(FRAMES))


def make_event_clip(rng, kind):
    """One event clip of `kind` (EVENT_KINDS): frames [FRAMES, SIZE, SIZE, 3] uint8 and two objects (distinct colour
    and shape), each with its attributes, `event` (its part in the clip: front/behind, leave, overtaker, grow, shrink,
    turn or None), `other` (the object its caption names), per-frame centres/sizes/angles, `full` (whole shape) and
    `masks` (visible part) [FRAMES, SIZE, SIZE] bool. Every event shows on the sampled frames 0, 8, 16, 24:
      occlude   they cross; the one in front hides part of the other on a sampled frame (both stay visible);
      leave     one object (or both) is out of view on one sampled frame (8 or 16: empty mask) and back after;
      overtake  both move the same horizontal way; the quick one starts behind the slow one and ends ahead;
      grow / shrink  one object's width changes steadily, 1.6-1.9x over the clip;
      turn      one object (not a circle) turns a quarter of its symmetry every 8 frames.
    Apart from an occlusion the two never touch, and apart from a leaver they stay in view."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r} (expected one of {', '.join(EVENT_KINDS)})")
    while True:
        colours = [str(c) for c in rng.permutation(list(COLOURS))[:2]]
        shapes = [str(s) for s in rng.permutation(SHAPES)[:2]]
        if kind == "turn" and shapes[0] == "circle":
            continue
        if kind == "occlude":
            objs = _occlude(rng, colours, shapes)
        elif kind == "leave":
            objs = _leave(rng, colours, shapes)
        elif kind == "overtake":
            objs = _overtake(rng, colours, shapes)
        else:
            objs = _change(rng, colours, shapes, kind)
        frames = _render(rng, objs)
        if _valid(objs, kind):
            return dict(frames=frames, objects=objs, kind=kind)


def event_caption(o, objs):
    other = objs[o["other"]] if o["other"] is not None else None
    clause = CLAUSES[o["event"]].format(other=f"{other['colour']} {other['shape']}" if other else "")
    return f"A {o['colour']} {o['shape']} moving {o['direction']} {o['speed']}{clause}"


def _centroid(mask):
    ys, xs = np.nonzero(mask)
    return float(xs.mean()), float(ys.mean())


def relation(a, b):
    """Where a visible mask is relative to another (left/right/above/below), from their centroids; None when not
    clear by RELATION_MARGIN (or one is not visible)."""
    if not a.any() or not b.any():
        return None
    (ax, ay), (bx, by) = _centroid(a), _centroid(b)
    dx, dy = ax - bx, ay - by
    if abs(dx) >= RELATION_MARGIN and abs(dx) >= 2 * abs(dy):
        return "left" if dx < 0 else "right"
    if abs(dy) >= RELATION_MARGIN and abs(dy) >= 2 * abs(dx):
        return "above" if dy < 0 else "below"
    return None


def _touches(a, b):
    """yes: their whole shapes overlap or are 1 px apart on a sampled frame; no: they are apart on every frame of
    the clip; None (not asked) otherwise."""
    for t in sampled_frames():
        grown = a["full"][t].copy()
        grown[1:] |= a["full"][t][:-1]; grown[:-1] |= a["full"][t][1:]
        grown[:, 1:] |= a["full"][t][:, :-1]; grown[:, :-1] |= a["full"][t][:, 1:]
        if (grown & b["full"][t]).any():
            return "yes"
    return "no" if all(_apart(a, b, t) for t in range(FRAMES)) else None


def _overtakes(a, b):
    """yes when both move the same horizontal way and a goes from behind b (first sampled frame) to ahead of it
    (last), by 5 px or more each time; no when a stays behind or ahead; None when they do not move that way."""
    if a["direction"] != b["direction"] or a["direction"] not in ("left", "right") or "leave" in (a["event"], b["event"]):
        return None
    sign = DIRECTIONS[a["direction"]][0]
    first, last = sampled_frames()[0], sampled_frames()[-1]
    lead = [sign * (a["centres"][t][0] - b["centres"][t][0]) for t in (first, last)]
    if lead[0] <= -5 and lead[1] >= 5:
        return "yes"
    if min(lead) >= 5 or max(lead) <= -5 or (lead[0] >= 5 and lead[1] <= -5):
        return "no"
    return None


def _first_out(o):
    """The first sampled frame on which the object is out of view, or None."""
    return next((t for t in sampled_frames() if not o["masks"][t].any()), None)


def _size_change(o):
    first, last = sampled_frames()[0], sampled_frames()[-1]
    ratio = o["sizes"][last] / o["sizes"][first]
    return "grows" if ratio >= 1.3 else "shrinks" if ratio <= 1 / 1.3 else "keeps its size" if ratio == 1 else None


def _question(kind, regions, text, choices=None, answer=None):
    """A flat v2 question: the regions it is about (object indices in prompt order: the first is <Prompt0>)."""
    if choices is None:
        return dict(regions=regions, kind=kind, question=text, text=text, choices=[], answer=answer)
    prompt, options, letter = multiple_choice(text, answer, choices)
    return dict(regions=regions, kind=kind, question=prompt, text=text, choices=options, answer=letter)


def event_questions(clip):
    """Every question about an event clip, with answers computed from its masks and paths. Per object (it is
    <Prompt0>): caption (with the event clause), colour, shape, direction (not for a leaver: it turns back), speed,
    leave (yes/no), size (grows/shrinks/keeps its size), turn (yes/no). Per pair (the two objects are <Prompt0> and
    <Prompt1>): relation_start / relation_end (left/right/above/below at the first / last sampled frame, only when
    clear), touch (yes/no, when clear), overtake (both orders, when both move the same horizontal way),
    leave_first / leave_last (when both leave, on different frames). Options in a fixed order, as questions()."""
    objs = clip["objects"]
    first, last = sampled_frames()[0], sampled_frames()[-1]
    out = []
    for k, o in enumerate(objs):
        r = [k]
        out.append(_question("caption", r, CAPTION_QUESTION, answer=event_caption(o, objs)))
        out.append(_question("colour", r, "What colour is <Prompt0>?", list(COLOURS), o["colour"]))
        out.append(_question("shape", r, "What shape is <Prompt0>?", SHAPES, o["shape"]))
        if o["event"] != "leave":
            out.append(_question("direction", r, "Which way does <Prompt0> move?", list(DIRECTIONS), o["direction"]))
        out.append(_question("speed", r, "How fast does <Prompt0> move?", list(SPEEDS), o["speed"]))
        out.append(_question("leave", r, "Does <Prompt0> leave the view?", YES_NO,
                             "yes" if _first_out(o) is not None else "no"))
        change = _size_change(o)
        if change:
            out.append(_question("size", r, "Does <Prompt0> grow, shrink or keep its size?", SIZE_CHANGES, change))
        out.append(_question("turn", r, "Does <Prompt0> turn?", YES_NO, "yes" if o["event"] == "turn" else "no"))
    a, b = objs
    for kind, t, when in (("relation_start", first, "start"), ("relation_end", last, "end")):
        rel = relation(a["masks"][t], b["masks"][t])
        if rel:
            out.append(_question(kind, [0, 1], f"Where is <Prompt0> relative to <Prompt1> at the {when}?", RELATIONS, rel))
    touch = _touches(a, b)
    if touch:
        out.append(_question("touch", [0, 1], "Do <Prompt0> and <Prompt1> touch?", YES_NO, touch))
    for regions in ([0, 1], [1, 0]):
        over = _overtakes(objs[regions[0]], objs[regions[1]])
        if over:
            out.append(_question("overtake", regions, "Does <Prompt0> overtake <Prompt1>?", YES_NO, over))
    outs = [_first_out(o) for o in objs]
    if None not in outs and outs[0] != outs[1]:
        early = 0 if outs[0] < outs[1] else 1
        out.append(_question("leave_first", [0, 1], "Which leaves the view first?", PROMPTS, PROMPTS[early]))
        out.append(_question("leave_last", [0, 1], "Which leaves the view last?", PROMPTS, PROMPTS[1 - early]))
    return out


def prompt_frame(mask_frames):
    """The sampled frame where the region is prompted: the one where most of it is visible (the earliest on a tie)."""
    idx = sampled_frames()
    areas = [int(mask_frames[t].sum()) for t in idx]
    return idx[areas.index(max(areas))]


def write_event_set(out, clips, seed, kinds=EVENT_KINDS):
    """A held-out set of event clips, schema v2: clipNNN.mp4 (clip i has kind kinds[i % len(kinds)]) + set.json
    {schema_version: 2, seed, size, frames, fps, sampled_frames, kinds,
     clips: [{file, kind, objects: [{colour, shape, direction, speed, event, prompt_frame, box (x1,y1,x2,y2 inclusive
              on prompt_frame), boxes_sampled (its box on each sampled frame; null where out of view)}],
              questions: [{regions, kind, question, text, choices, answer}]}]}.
    `regions` lists object indices in prompt order (regions[0] is <Prompt0>, regions[1] <Prompt1>); `kind` is the
    question's kind (event_questions); `question` is the full prompt, `text` and `choices` its parts as gar takes
    them; `answer` is the caption's reference text or the right letter."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    entries = []
    for i in range(clips):
        c = make_event_clip(rng, kinds[i % len(kinds)])
        name = f"clip{i:03d}.mp4"
        encode_mp4(c["frames"], os.path.join(out, name))
        objs = []
        for o in c["objects"]:
            pf = prompt_frame(o["masks"])
            objs.append(dict(colour=o["colour"], shape=o["shape"], direction=o["direction"], speed=o["speed"],
                             event=o["event"], prompt_frame=pf, box=box_of(o["masks"][pf]),
                             boxes_sampled=[box_of(o["masks"][t]) if o["masks"][t].any() else None
                                            for t in sampled_frames()]))
        entries.append(dict(file=name, kind=c["kind"], objects=objs, questions=event_questions(c)))
    doc = dict(schema_version=2, seed=seed, size=[SIZE, SIZE], frames=FRAMES, fps=FPS, sampled_frames=sampled_frames(),
               kinds=list(kinds), clips=entries)
    with open(os.path.join(out, "set.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7001)
    ap.add_argument("--events", action="store_true", help="event clips of every kind (schema v2)")
    ap.add_argument("--kinds", help="event clips of these kinds, comma-separated (schema v2): " + ", ".join(EVENT_KINDS))
    a = ap.parse_args()
    if a.events or a.kinds:
        kinds = a.kinds.split(",") if a.kinds else EVENT_KINDS
        bad = [k for k in kinds if k not in EVENT_KINDS]
        if bad:
            ap.error(f"--kinds: unknown kind {bad[0]!r} (expected {', '.join(EVENT_KINDS)})")
        write_event_set(a.out, a.clips, a.seed, kinds)
    else:
        write_set(a.out, a.clips, a.seed)


if __name__ == "__main__":
    main()
