#!/usr/bin/env python3
"""Adversarial sweep of the gar CLI (issue 10, "Done when").

Runs a few hundred hostile or edge inputs through every command of the built binary, each in its
own scratch folder, and checks for every case:
  * how it ended: exit status, killed by a signal, or timed out (a hang);
  * stderr: an error is ONE line starting with "error: " (warnings "warning: " may precede it);
  * every file that existed before the run is byte-identical afterwards (nothing lost or changed),
    unless the case names it as an output it may replace;
  * no path appears that the case does not allow (a failed run leaves nothing behind);
  * JSON outputs parse, have snake_case keys and a top-level schema_version;
  * the exit code follows the convention: 64 for usage errors, 1 for runtime errors.

Failures are classed as: crash (signal, backtrace, hang), lost (a file lost or modified), silent
(exit 0 on bad input, a missing warning, invalid JSON), convention (exit code, stderr shape,
message).

    python3 tools/qa/sweep.py --gar .build/debug/gar --out /tmp/sweep [--only REGEX] [--timeout 60]

Writes OUT/report.md (totals and every failure) and OUT/report.json (every case); the scratch
folders are in OUT/work (deleted at the start of each run). Needs only python3 and the repository
(samples/, Tests/Fixtures/). Bounded: every case has a timeout; the whole sweep takes a few minutes.
"""
import argparse
import fcntl
import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL = None   # a copy of Tests/Fixtures/gar-tiny in the report folder (main), checked after every case
SAMPLES = REPO / "samples"
VR = REPO / "Tests/Fixtures/videorefer"
CLASSES = ["crash", "lost", "silent", "convention"]

# ----------------------------------------------------------------------------------------------
# Input makers (pure python: no PIL)


def png(path, w, h, pixels=None, depth=8, ctype=0, palette=None, raw=None):
    """A PNG; `pixels(x, y)` gives a sample (gray) or tuple; `raw` replaces the IDAT payload."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    if raw is None:
        rows = bytearray()
        bpp = depth // 8 if depth >= 8 else 1
        for y in range(h):
            rows.append(0)
            if depth < 8:
                per = 8 // depth
                line = bytearray((w + per - 1) // per)
                for x in range(w):
                    v = pixels(x, y) if pixels else 0
                    line[x // per] |= (v & ((1 << depth) - 1)) << (8 - depth * (x % per + 1))
                rows += line
                continue
            for x in range(w):
                v = pixels(x, y) if pixels else 0
                vs = v if isinstance(v, tuple) else (v,) * channels
                for s in vs:
                    rows += s.to_bytes(bpp, "big")
        raw = zlib.compress(bytes(rows))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
    if palette:
        data += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    data += chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    Path(path).write_bytes(data)


def ball_box(x, y):
    return 255 if 41 <= x <= 120 and 141 <= y <= 220 else 0


def write(path, text, mode="w"):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def nested_json(depth):
    return "[" * depth + "]" * depth


def nested_yaml(depth):
    return "".join("  " * i + "k:\n" for i in range(depth)) + "  " * depth + "k: 1\n"


def rle_annotation(n_regions=1, frames=(0,), size=(360, 640), counts=None):
    seg = {"size": list(size), "counts": counts if counts is not None else "0" + "1" * 0}
    if counts is None:
        # a 640x360 frame, a column-major block: 100 rows x 50 columns from (x 300, y 150)
        h, w = size
        runs, pos = [], 0
        for x in range(300, 350):
            start = x * h + 150
            runs += [start - pos, 100]
            pos = start + 100
        runs.append(h * w - pos)
        seg["counts"] = runs
    return [{str(f): {"segmentation": seg} for f in frames} for _ in range(n_regions)]


def base(wd):
    """Every case's folder holds these (all hashed before and after)."""
    shutil.copy(SAMPLES / "clips/ball.mp4", wd / "v.mp4")
    shutil.copy(SAMPLES / "masks/ball_f0.png", wd / "m.png")


def two(wd):
    shutil.copy(SAMPLES / "clips/two_objects.mp4", wd / "two.mp4")
    shutil.copy(SAMPLES / "masks/two_objects_f0_ball.png", wd / "ma.png")
    shutil.copy(SAMPLES / "masks/two_objects_f0_square.png", wd / "mb.png")


def frames_dir(wd, name="fr", n=4):
    (wd / name).mkdir()
    for f in sorted((SAMPLES / "frames/png_seq").iterdir())[:n]:
        shutil.copy(f, wd / name / f.name)


def image_pair(wd):
    shutil.copy(SAMPLES / "frames/png_seq/f1.png", wd / "img.png")
    png(wd / "imask.png", 160, 120, lambda x, y: 255 if 40 <= x < 100 and 30 <= y < 80 else 0)


def davis(wd, name="davis", frames=4):
    img, ann = wd / name / "JPEGImages/480p/seq", wd / name / "Annotations/480p/seq"
    img.mkdir(parents=True)
    ann.mkdir(parents=True)
    for i, f in enumerate(sorted((SAMPLES / "frames/jpg_seq").iterdir())[:frames]):
        shutil.copy(f, img / ("%05d.jpg" % i))
        png(ann / ("%05d.png" % i), 320, 240, lambda x, y: 1 if 80 <= x < 200 and 60 <= y < 160 else 0,
            ctype=3, palette=[(0, 0, 0), (128, 0, 0)])


def batch_folder(wd, name="videos", regions="mask=m.png\n"):
    d = wd / name
    d.mkdir()
    shutil.copy(SAMPLES / "clips/ball.mp4", d / "a.mp4")
    shutil.copy(SAMPLES / "masks/ball_f0.png", d / "m.png")
    write(d / "a.regions", regions)


def spec(wd, name="s.yaml", extra=""):
    write(wd / name, "version: 1\nframes:\n  count: 2\ngeneration:\n  max_new_tokens: 4\n" + (extra or "questions: [\"What is <Prompt0>?\"]\n"))


def fifo(path):
    os.mkfifo(path)


def loop(path):
    os.symlink(os.path.basename(path), path)


# ----------------------------------------------------------------------------------------------
# Cases

CASES = []


def case(name, args, setup=None, expect="fail", code=None, new=(), modify=(), json_stdout=False,
         json_files=(), warn=False, stdout=None, msg=None, timeout=None, env=None, runner=None, note=""):
    """expect: "fail" (non-zero, one error line), "ok" (exit 0), "any" (either, but clean).
    code: the exit status a failure must have (64 usage, 1 runtime; None: either).
    new: glob patterns of paths the run may create; modify: existing paths it may replace.
    warn: an ok run's JSON must carry non-empty warnings. msg: regex the error line must match.
    stdout: None (captured), "full" (/dev/full), "closed"."""
    assert not any(c["name"] == name for c in CASES), name
    CASES.append(dict(name=name, args=args, setup=setup, expect=expect, code=code, new=list(new),
                      modify=list(modify), json_stdout=json_stdout, json_files=list(json_files), warn=warn,
                      stdout=stdout, msg=msg, timeout=timeout, env=env or {}, runner=runner, note=note))


def seq(*fns):
    def run(wd):
        for f in fns:
            f(wd)
    return run


def mk(path_fn):
    """A setup step writing something at a path relative to the case folder."""
    return path_fn


M = []   # ["--model", MODEL], set by define_cases
Q = ["--quiet"]


def out_spellings(wd_file):
    """Ways to name an existing input file: direct, ./, sub/.., symlink, hard link, absolute."""
    return {
        "direct": (wd_file, None),
        "dot": ("./" + wd_file, None),
        "dotdot": ("sub/../" + wd_file, lambda wd: (wd / "sub").mkdir()),
        "symlink": ("alias", lambda wd: os.symlink(wd_file, wd / "alias")),
        "hardlink": ("hard", lambda wd: os.link(wd / wd_file, wd / "hard")),
        "abslink": ("alias2", lambda wd: os.symlink(str(wd / wd_file), wd / "alias2")),
    }


def define_cases():
    global M
    M = ["--model", MODEL]
    # ---------------------------------------------------------------- probe
    case("probe/ok", ["probe", "v.mp4"], expect="ok", json_stdout=True)
    case("probe/count-frames", ["probe", "v.mp4", "--count-frames"], expect="ok", json_stdout=True)
    case("probe/truncated-count", ["probe", "trunc.mp4", "--count-frames"],
         lambda wd: shutil.copy(SAMPLES / "bad/truncated.mp4", wd / "trunc.mp4"), expect="any", json_stdout=True, warn=True)
    case("probe/truncated-decode", ["probe", "trunc.mp4", "--decode"],
         lambda wd: shutil.copy(SAMPLES / "bad/truncated.mp4", wd / "trunc.mp4"), expect="any", json_stdout=True, warn=True)
    for bad in ["empty.mp4", "not_video.mp4", "audio_only.m4a", "truncated_no_moov.mp4"]:
        case(f"probe/bad-{bad}", ["probe", bad], (lambda b: lambda wd: shutil.copy(SAMPLES / "bad" / b, wd / b))(bad), code=1)
    case("probe/corrupt", ["probe", "c.mp4", "--decode"], lambda wd: shutil.copy(SAMPLES / "bad/corrupt.mp4", wd / "c.mp4"),
         expect="any", json_stdout=True, warn=True)
    case("probe/missing", ["probe", "nope.mp4"], code=1, msg="nope.mp4")
    case("probe/dir", ["probe", "d"], lambda wd: (wd / "d").mkdir(), code=1)
    case("probe/fifo", ["probe", "p.mp4"], lambda wd: fifo(wd / "p.mp4"), code=1, timeout=15)
    case("probe/loop", ["probe", "l.mp4"], lambda wd: loop(wd / "l.mp4"), code=1, msg="(?i)loop")
    case("probe/devzero", ["probe", "/dev/zero"], code=1, timeout=15)
    case("probe/sparse-huge", ["probe", "big.mp4"], lambda wd: os.truncate(open(wd / "big.mp4", "w").name, 8 << 30), code=1)
    for sp, (path, setup) in out_spellings("v.mp4").items():
        case(f"probe/o-is-input-{sp}", ["probe", "v.mp4", "-o", path], setup, code=64)
    case("probe/o-new", ["probe", "v.mp4", "-o", "p.json"], expect="ok", new=["p.json"], json_files=["p.json"])
    case("probe/o-replace-user", ["probe", "v.mp4", "-o", "p.json"], lambda wd: write(wd / "p.json", "mine"),
         expect="ok", modify=["p.json"], json_files=["p.json"])
    case("probe/o-symlink-to-file", ["probe", "v.mp4", "-o", "ln.json"],
         lambda wd: (write(wd / "t.json", "x"), os.symlink("t.json", wd / "ln.json")), expect="ok", modify=["t.json"])
    case("probe/o-dir", ["probe", "v.mp4", "-o", "d"], lambda wd: (wd / "d").mkdir(), code=None)
    case("probe/o-missing-parent", ["probe", "v.mp4", "-o", "no/such/p.json"], expect="any", new=["no", "no/such", "no/such/p.json"])
    case("probe/o-proc", ["probe", "v.mp4", "-o", "/proc/gar-sweep.json"], code=1)
    # a device as the output: a copy of /dev/full made here (an atomic replace would swap the node for a file)
    case("probe/o-device", ["probe", "v.mp4", "-o", "full"], lambda wd: os.mknod(wd / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7)), code=1)
    case("probe/o-repeated", ["probe", "v.mp4", "-o", "a.json", "-o", "b.json"], code=64)
    case("probe/stdout-full", ["probe", "v.mp4"], stdout="full", code=1)
    case("probe/stdout-closed", ["probe", "v.mp4"], stdout="closed", code=1)
    case("probe/threads-neg", ["probe", "v.mp4", "--threads", "-1"], code=64)
    case("probe/threads-huge", ["probe", "v.mp4", "--threads", "99999999999999999999"], code=64)
    case("probe/threads-abc", ["probe", "v.mp4", "--threads", "abc"], code=64)
    case("probe/threads-many", ["probe", "v.mp4", "--threads", "100000"], code=None, expect="any", json_stdout=True)
    case("probe/two-args", ["probe", "v.mp4", "v.mp4"], code=64)
    case("probe/unicode-name", ["probe", 'é "q" \\b\n.mp4'], lambda wd: shutil.copy(wd / "v.mp4", wd / 'é "q" \\b\n.mp4'),
         expect="ok", json_stdout=True)
    case("probe/unknown-flag", ["probe", "v.mp4", "--bogus"], code=64)
    case("probe/no-arg", ["probe"], code=64)

    # ---------------------------------------------------------------- frames
    F = ["frames", "v.mp4", "--quiet"]
    case("frames/ok", F + ["--count", "2", "--out", "o"], expect="ok", new=["o", "o/*"], json_stdout=True, json_files=["o/frames.json"])
    case("frames/out-dot", F + ["--count", "2", "--out", "."], expect="ok", new=["0*.png", "frames.json"], json_stdout=True)
    case("frames/out-user-files", F + ["--count", "2", "--out", "o"], lambda wd: write(wd / "o/mine.txt", "keep"),
         expect="ok", new=["o/0*.png", "o/frames.json"])
    case("frames/out-old-run", F + ["--count", "1", "--out", "o"],
         lambda wd: (write(wd / "o/000000.png", "old"), write(wd / "o/000005.png", "old")), expect="ok",
         new=["o/frames.json"], modify=["o/000000.png"])
    case("frames/out-is-input", F + ["--count", "2", "--out", "v.mp4"], code=64)
    case("frames/out-holds-input", ["frames", "d/v.mp4", "--count", "2", "--out", "d"],
         lambda wd: (wd / "d").mkdir() or shutil.copy(wd / "v.mp4", wd / "d/v.mp4"), expect="ok", new=["d/0*.png", "d/frames.json"])
    case("frames/out-is-input-folder", ["frames", "fr", "--count", "2", "--out", "fr"], frames_dir, code=64)
    case("frames/out-folder-frame-name", ["frames", "fr", "--count", "2", "--out", "fr2"],
         lambda wd: (frames_dir(wd), frames_dir(wd, "fr2", 1)), expect="any", new=["fr2/0*.png", "fr2/frames.json"])
    case("frames/out-input-png-collides", ["frames", "o/000000.png", "--count", "1", "--out", "o"],
         lambda wd: (wd / "o").mkdir() or shutil.copy(SAMPLES / "frames/png_seq/f1.png", wd / "o/000000.png"), code=None)
    case("frames/out-proc", F + ["--count", "1", "--out", "/proc/gar-sweep"], code=1)
    case("frames/out-device", F + ["--count", "1", "--out", "null"],
         lambda wd: os.mknod(wd / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3)), code=None)
    case("frames/out-loop", F + ["--count", "1", "--out", "l"], lambda wd: loop(wd / "l"), code=None)
    case("frames/out-symlink-dir", F + ["--count", "1", "--out", "ln"],
         lambda wd: ((wd / "real").mkdir(), os.symlink("real", wd / "ln")), expect="ok", new=["real/*"])
    case("frames/out-quotes", F + ["--count", "1", "--out", 'a"b\\c\nd'], expect="ok", json_stdout=True,
         new=['a"b\\c\nd', 'a"b\\c\nd/*'])
    case("frames/stdout-full", F + ["--count", "1", "--out", "o"], stdout="full", code=1, new=["o", "o/*"])
    case("frames/stdout-closed", F + ["--count", "1", "--out", "o"], stdout="closed", code=1, new=["o", "o/*"])
    for opt, vals in {"--count": ["0", "-1", "abc", "1e3", "99999999999999999999", "nan"],
                      "--every": ["0", "-3", "x"], "--fps": ["0", "-1", "nan", "inf", "1e308"],
                      "--indices": ["", "-1", "1,,2", "a,b", "9999", "0,99999999999999999999"],
                      "--times": ["-1", "nan", "inf", "1e308", "999"],
                      "--size": ["0x0", "-5x5", "100000x100000", "abc", "10x"],
                      "--max-side": ["0", "-1", "nan"], "--rule": ["bogus"], "--threads": ["-2"]}.items():
        for v in vals:
            # an index/time past the end depends on the clip: a runtime error (1); the rest are usage (64)
            c = 1 if v in ("9999", "999") else (None if v in ("100000x100000", "0,99999999999999999999") else 64)
            if v == "1e308":   # more frames per second than the clip has: every frame
                case(f"frames/{opt[2:]}={v}", F + [opt, v, "--out", "o"], expect="any", new=["o", "o/*"])
                continue
            case(f"frames/{opt[2:]}={v}", F + [opt, v, "--out", "o"], code=c)
    case("frames/start-after-end", F + ["--count", "2", "--start", "3", "--end", "1", "--out", "o"], code=64)
    case("frames/start-nan", F + ["--count", "2", "--start", "nan", "--out", "o"], code=64)
    case("frames/start-past-clip", F + ["--count", "2", "--start", "1000", "--out", "o"], code=None)
    case("frames/count-and-every", F + ["--count", "2", "--every", "3", "--out", "o"], code=64)
    case("frames/count-repeated", F + ["--count", "2", "--count", "3", "--out", "o"], code=64)
    case("frames/out-repeated", F + ["--count", "2", "--out", "o", "--out", "p"], code=64)
    case("frames/folder-fps-neg", ["frames", "fr", "--fps", "1", "--folder-fps", "-1", "--out", "o"], frames_dir, code=64)
    case("frames/truncated", ["frames", "t.mp4", "--count", "8", "--out", "o"],
         lambda wd: shutil.copy(SAMPLES / "bad/truncated.mp4", wd / "t.mp4"), expect="any", json_stdout=True, warn=True,
         new=["o", "o/*"])
    case("frames/truncated-partial", ["frames", "t.mp4", "--count", "8", "--allow-partial", "--out", "o"],
         lambda wd: shutil.copy(SAMPLES / "bad/truncated.mp4", wd / "t.mp4"), expect="ok", json_stdout=True, warn=True,
         new=["o", "o/*"])
    case("frames/corrupt", ["frames", "c.mp4", "--count", "8", "--out", "o"],
         lambda wd: shutil.copy(SAMPLES / "bad/corrupt.mp4", wd / "c.mp4"), expect="any", json_stdout=True, warn=True,
         new=["o", "o/*"])
    case("frames/empty-folder", ["frames", "e", "--count", "1", "--out", "o"], lambda wd: (wd / "e").mkdir(), code=1)
    case("frames/folder-garbage-png", ["frames", "fr", "--every", "1", "--out", "o"],
         lambda wd: (frames_dir(wd), write(wd / "fr/f99.png", "garbage")), code=1)
    case("frames/folder-huge-png", ["frames", "fr", "--every", "1", "--out", "o"],
         lambda wd: (frames_dir(wd), png(wd / "fr/f99.png", 100000, 100000, raw=zlib.compress(b"\0" * 1000))), code=1)
    case("frames/folder-mixed-sizes", ["frames", "fr", "--count", "5", "--out", "o"],
         lambda wd: (frames_dir(wd), shutil.copy(SAMPLES / "images/rgb16.png", wd / "fr/f99.png")), code=None, expect="any",
         new=["o", "o/*"])
    case("frames/folder-16bit", ["frames", "im", "--count", "2", "--out", "o"],
         lambda wd: ((wd / "im").mkdir(), shutil.copy(SAMPLES / "images/rgb16.png", wd / "im/a.png"),
                     shutil.copy(SAMPLES / "images/gray16.png", wd / "im/b.png")), expect="ok", new=["o", "o/*"])
    case("frames/folder-palette", ["frames", "im", "--count", "2", "--out", "o"],
         lambda wd: ((wd / "im").mkdir(), shutil.copy(SAMPLES / "images/palette.png", wd / "im/a.png"),
                     shutil.copy(SAMPLES / "images/palette_trns.png", wd / "im/b.png")), expect="ok", new=["o", "o/*"])
    case("frames/folder-fifo-frame", ["frames", "fr", "--count", "5", "--out", "o"],
         lambda wd: (frames_dir(wd), fifo(wd / "fr/f99.png")), code=1, timeout=20)
    case("frames/input-fifo", ["frames", "p.mp4", "--count", "1", "--out", "o"], lambda wd: fifo(wd / "p.mp4"), code=1, timeout=20)
    case("frames/input-loop", ["frames", "l.mp4", "--count", "1", "--out", "o"], lambda wd: loop(wd / "l.mp4"), code=1)

    # ---------------------------------------------------------------- track
    T = ["track", "v.mp4", "--quiet"]
    TRACK_FILES = ["o", "o/masks", "o/masks/*", "o/masks.json", "o/overlay.mp4", "o/contact_sheet.png"]
    case("track/ok", T + ["--mask", "m.png", "--count", "6", "--out", "o", "--json"], expect="ok", new=TRACK_FILES,
         json_stdout=True, json_files=["o/masks.json"])
    case("track/out-dot", T + ["--mask", "m.png", "--count", "4", "--out", ".", "--no-overlay"], expect="ok",
         new=["masks", "masks/*", "masks.json", "contact_sheet.png"])
    case("track/out-holds-input", ["track", "d/v.mp4", "--quiet", "--mask", "d/m.png", "--count", "4", "--out", "d", "--no-overlay"],
         lambda wd: ((wd / "d").mkdir(), shutil.copy(wd / "v.mp4", wd / "d/v.mp4"), shutil.copy(wd / "m.png", wd / "d/m.png")),
         expect="ok", new=["d/masks", "d/masks/*", "d/masks.json", "d/contact_sheet.png"])
    case("track/out-is-video", T + ["--mask", "m.png", "--out", "v.mp4"], code=64)
    case("track/out-mask-collides", T + ["--mask", "o/masks/000000.png", "--count", "4", "--out", "o"],
         lambda wd: ((wd / "o/masks").mkdir(parents=True), shutil.copy(wd / "m.png", wd / "o/masks/000000.png")), code=64)
    case("track/out-mask-is-contact", T + ["--mask", "o/contact_sheet.png", "--count", "4", "--out", "o"],
         lambda wd: ((wd / "o").mkdir(), shutil.copy(wd / "m.png", wd / "o/contact_sheet.png")), code=64)
    case("track/out-video-is-overlay", ["track", "o/overlay.mp4", "--quiet", "--mask", "m.png", "--count", "4", "--out", "o"],
         lambda wd: ((wd / "o").mkdir(), shutil.copy(wd / "v.mp4", wd / "o/overlay.mp4")), code=64)
    case("track/out-user-files", T + ["--mask", "m.png", "--count", "4", "--out", "o", "--no-overlay"],
         lambda wd: (write(wd / "o/notes.txt", "keep"), write(wd / "o/masks/mine.png", "keep")), expect="ok",
         new=["o/masks/0*.png", "o/masks.json", "o/contact_sheet.png"])
    case("track/out-proc", T + ["--mask", "m.png", "--count", "4", "--out", "/proc/gar-sweep"], code=1)
    case("track/stdout-full", T + ["--mask", "m.png", "--count", "4", "--out", "o", "--json", "--no-overlay"], stdout="full", code=1, new=TRACK_FILES)
    case("track/stdout-closed", T + ["--mask", "m.png", "--count", "4", "--out", "o", "--json", "--no-overlay"], stdout="closed", code=1, new=TRACK_FILES)
    mask_inputs = {
        "video": lambda wd: None,  # --mask v.mp4
        "zero": lambda wd: write(wd / "x.png", ""),
        "garbage": lambda wd: write(wd / "x.png", "not a png at all"),
        "truncated": lambda wd: Path(wd / "x.png").write_bytes((SAMPLES / "masks/ball_f0.png").read_bytes()[:200]),
        "16bit": lambda wd: png(wd / "x.png", 640, 360, lambda x, y: 255 * (ball_box(x, y) > 0), depth=16),
        "palette": lambda wd: png(wd / "x.png", 640, 360, lambda x, y: 1 if ball_box(x, y) else 0, ctype=3,
                                  palette=[(0, 0, 0), (255, 0, 0)]),
        "1bit": lambda wd: png(wd / "x.png", 640, 360, lambda x, y: 1 if ball_box(x, y) else 0, depth=1),
        "huge-dims": lambda wd: png(wd / "x.png", 1 << 30, 1 << 30, raw=zlib.compress(b"\0" * 100)),
        "huge-width": lambda wd: png(wd / "x.png", 0x7FFFFFFF, 1, raw=zlib.compress(b"\0" * 100)),
        "zero-dims": lambda wd: png(wd / "x.png", 0, 0, raw=zlib.compress(b"")),
        "wrong-size": lambda wd: png(wd / "x.png", 64, 36, lambda x, y: 255),
        "all-zero": lambda wd: png(wd / "x.png", 640, 360, lambda x, y: 0),
        "jpeg": lambda wd: shutil.copy(SAMPLES / "images/photo.jpg", wd / "x.png"),
        "dir": lambda wd: (wd / "x.png").mkdir(),
        "fifo": lambda wd: fifo(wd / "x.png"),
        "loop": lambda wd: loop(wd / "x.png"),
        "missing": lambda wd: None,
        "bomb": lambda wd: png(wd / "x.png", 640, 360, raw=zlib.compress(b"\0" * (64 << 20))),
    }
    ok_masks = {"16bit", "palette", "1bit"}
    for k, setup in mask_inputs.items():
        arg = "v.mp4" if k == "video" else "x.png"
        ex = "ok" if k in ok_masks else "fail"
        case(f"track/mask-{k}", T + ["--mask", arg, "--count", "4", "--out", "o", "--no-overlay"], setup, expect=ex, code=1,
             new=TRACK_FILES if ex == "ok" else [], timeout=30)
    for v, c in {"1,1,30,30": None, "38,138,123,223": 0, "-5,-5,30,30": None, "1e18,1,2e18,30": None, "nan,1,30,30": 64,
                 "inf,1,30,30": 64, "1,2,3": 64, "1,2,3,4,5": 64, "30,30,1,1": None, "5,5,5,5": None,
                 "700,400,800,500": None, "": 64, "a,b,c,d": 64, "9223372036854775807,0,9223372036854775807,10": None}.items():
        case(f"track/box={v}", T + ["--box", v, "--count", "4", "--out", "o", "--no-overlay"], expect="ok" if c == 0 else "fail",
             code=c or None, new=TRACK_FILES if c == 0 else [])
    for v in ["1e30,5", "-1,-1", "nan,3", "3,4,maybe", "9999,9999", "1,2,3,4", "", "99999999999999999999,1"]:
        case(f"track/point={v}", T + ["--point", v, "--count", "4", "--out", "o", "--no-overlay"], code=None)
    scribbles = {
        "ok": "pos 5 60,170 100,200\n",
        "huge": "pos 5 99999999999999999999,1 1,1\n",
        "huge-int": "pos 5 9223372036854775807,9223372036854775807 -9223372036854775808,0\n",
        "nan": "pos 5 nan,nan 1,1\n",
        "inf-width": "pos inf 1,1 5,5\n",
        "huge-width": "pos 99999999999 250,150 260,160\n",
        "neg-width": "pos -3 1,1 5,5\n",
        "empty": "",
        "garbage": "\x00\x01\x02binary",
        "no-pos": "neg 5 1,1 5,5\n",
        "crlf-lines": "pos 5 60,170 100,200\r\npos 5 70,180 90,190\r\n",
        "many-points": "pos 1 " + " ".join("%d,%d" % (i % 640, i % 360) for i in range(200000)) + "\n",
        "long-stroke": "pos 3 0,0 9999999,9999999\n",
        "outside": "pos 5 5000,5000 6000,6000\n",
    }
    for k, text in scribbles.items():
        ex = "ok" if k in ("ok", "long-stroke", "crlf-lines") else "fail"
        case(f"track/scribble-{k}", T + ["--scribble", "s.txt", "--count", "4", "--out", "o", "--no-overlay"],
             (lambda t: lambda wd: write(wd / "s.txt", t))(text), expect=ex if k not in ("long-stroke", "many-points") else "any", code=None,
             new=TRACK_FILES if ex != "fail" or k in ("long-stroke", "many-points") else [], timeout=60)
    case("track/scribble-fifo", T + ["--scribble", "s.txt", "--out", "o"], lambda wd: fifo(wd / "s.txt"), code=1, timeout=20)
    case("track/scribble-dir", T + ["--scribble", "s", "--out", "o"], lambda wd: (wd / "s").mkdir(), code=1)
    for v, c in {"99999": 1, "-1": 64, "nan": 64, "3": 0, "4": 1}.items():
        case(f"track/frame={v}", T + ["--frame", v, "--mask", "m.png", "--count", "4", "--out", "o", "--no-overlay"],
             expect="ok" if c == 0 else "fail", code=c or None, new=TRACK_FILES if c == 0 else [])
    case("track/duplicate-mask", T + ["--mask", "m.png", "--mask", "m.png", "--count", "4", "--out", "o", "--json", "--no-overlay"],
         expect="ok", json_stdout=True, new=TRACK_FILES)
    case("track/nested-regions", T + ["--mask", "m.png", "--box", "60,160,100,200", "--count", "4", "--out", "o", "--json", "--no-overlay"],
         expect="ok", json_stdout=True, new=TRACK_FILES)
    case("track/no-prompt", T + ["--out", "o"], code=64)
    case("track/no-out", T + ["--mask", "m.png"], code=64)
    case("track/count-0", T + ["--mask", "m.png", "--count", "0", "--out", "o"], code=64)
    case("track/count-neg", T + ["--mask", "m.png", "--count", "-4", "--out", "o"], code=64)
    case("track/fps-nan", T + ["--mask", "m.png", "--fps", "nan", "--out", "o"], code=64)
    case("track/fps-0", T + ["--mask", "m.png", "--fps", "0", "--out", "o"], code=64)
    case("track/max-side-0", T + ["--mask", "m.png", "--max-side", "0", "--out", "o"], code=64)
    case("track/max-side-huge", T + ["--mask", "m.png", "--max-side", "1000000000", "--count", "2", "--out", "o"], code=None,
         expect="any", new=TRACK_FILES, timeout=60)
    case("track/count-and-fps", T + ["--mask", "m.png", "--count", "4", "--fps", "2", "--out", "o"], code=64)
    case("track/unknown-opt", T + ["--mask", "m.png", "--bogus", "--out", "o"], code=64)
    case("track/truncated", ["track", "t.mp4", "--quiet", "--mask", "m.png", "--count", "6", "--out", "o", "--json", "--no-overlay"],
         lambda wd: shutil.copy(SAMPLES / "bad/truncated.mp4", wd / "t.mp4"), expect="any", json_stdout=True, warn=True,
         new=TRACK_FILES)
    case("track/frames-folder", ["track", "fr", "--quiet", "--box", "40,30,100,80", "--out", "o", "--json", "--no-overlay"],
         frames_dir, expect="ok", json_stdout=True, new=TRACK_FILES)

    # ---------------------------------------------------------------- caption
    C = ["caption", "v.mp4", "--quiet"] + M + ["--frames", "2", "--max-new-tokens", "4"]
    case("caption/ok", C + ["--mask", "m.png", "--json"], expect="ok", json_stdout=True)
    case("caption/output", C + ["--mask", "m.png", "--output", "a.json"], expect="ok", new=["a.json"], json_files=["a.json"])
    case("caption/overlay", C + ["--mask", "m.png", "--overlay", "t.mp4"], expect="ok", new=["t.mp4"])
    for sp, (path, setup) in out_spellings("v.mp4").items():
        case(f"caption/output-is-video-{sp}", C + ["--mask", "m.png", "--output", path], setup, code=64)
        case(f"caption/overlay-is-video-{sp}", C + ["--mask", "m.png", "--overlay", path], setup, code=64)
    for sp, (path, setup) in out_spellings("m.png").items():
        case(f"caption/output-is-mask-{sp}", C + ["--mask", "m.png", "--output", path], setup, code=64)
    case("caption/output-is-overlay", C + ["--mask", "m.png", "--output", "x", "--overlay", "x"], code=64)
    case("caption/output-is-spec", C + ["--mask", "m.png", "--pipeline", "s.yaml", "--output", "s.yaml"], spec, code=64)
    case("caption/output-is-scribble", C + ["--scribble", "s.txt", "--output", "s.txt"],
         lambda wd: write(wd / "s.txt", scribbles["ok"]), code=64)
    case("caption/output-in-model", C + ["--mask", "m.png", "--output", MODEL + "/config.json"], code=64)
    case("caption/output-is-model-dir", C + ["--mask", "m.png", "--output", MODEL], code=None)
    case("caption/output-device", C + ["--mask", "m.png", "--output", "full"],
         lambda wd: os.mknod(wd / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7)), code=1)
    case("caption/overlay-device", C + ["--mask", "m.png", "--overlay", "full"],
         lambda wd: os.mknod(wd / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7)), code=1)
    case("caption/stdout-full", C + ["--mask", "m.png", "--json"], stdout="full", code=1)
    case("caption/stdout-closed", C + ["--mask", "m.png", "--json"], stdout="closed", code=1)
    case("caption/stdout-full-text", C + ["--mask", "m.png"], stdout="full", code=1)
    case("caption/mask-repeated", C + ["--mask", "m.png", "--mask", "m.png"], code=64)
    case("caption/box-repeated", C + ["--box", "1,1,30,30", "--box", "2,2,30,30"], code=64)
    case("caption/frame-repeated", C + ["--mask", "m.png", "--frame", "0", "--frame", "1"], code=64)
    case("caption/mask-and-box", C + ["--mask", "m.png", "--box", "1,1,30,30"], code=64)
    case("caption/no-prompt", C, code=64)
    case("caption/mask-is-video", C + ["--mask", "v.mp4"], code=1)
    case("caption/mask-is-jpeg-photo", C + ["--mask", "p.jpg"], lambda wd: shutil.copy(SAMPLES / "images/photo.jpg", wd / "p.jpg"), code=1)
    case("caption/mask-wrong-size", C + ["--mask", "x.png"], mask_inputs["wrong-size"], code=1)
    case("caption/mask-empty", C + ["--mask", "x.png"], mask_inputs["all-zero"], code=1)
    case("caption/frame-past-end", C + ["--mask", "m.png", "--frame", "100"], code=1)
    case("caption/box-outside", C + ["--box", "700,400,800,500"], code=None)
    for opt, v in [("--frames", "0"), ("--frames", "-1"), ("--frames", "nan"), ("--frames", "100000"), ("--fps", "0"),
                   ("--fps", "-2"), ("--max-new-tokens", "-1"), ("--temperature", "nan"), ("--temperature", "-1"),
                   ("--temperature", "inf"), ("--top-p", "0"), ("--top-p", "2"), ("--top-p", "nan"), ("--seed", "-1"),
                   ("--seed", "abc"), ("--threads", "0"), ("--threads", "-1"), ("--folder-fps", "-1")]:
        args = ["caption", "v.mp4", "--quiet"] + M + ["--max-new-tokens", "4", "--mask", "m.png", "--json"]
        if opt not in ("--max-new-tokens",):
            args = args + [opt, v]
        else:
            args = ["caption", "v.mp4", "--quiet"] + M + ["--mask", "m.png", "--json", "--frames", "2", opt, v]
        ok = (opt, v) in {("--frames", "100000"), ("--seed", "-1"), ("--threads", "0")}
        case(f"caption/{opt[2:]}={v}", args, expect="any" if ok else "fail", code=None if ok else 64, json_stdout=ok)
    case("caption/model-missing", ["caption", "v.mp4", "--quiet", "--model", "nope", "--mask", "m.png"], code=1)
    case("caption/model-is-file", ["caption", "v.mp4", "--quiet", "--model", "v.mp4", "--mask", "m.png"], code=1)
    case("caption/model-empty-dir", ["caption", "v.mp4", "--quiet", "--model", "e", "--mask", "m.png"], lambda wd: (wd / "e").mkdir(), code=1)
    case("caption/model-fifo-config", ["caption", "v.mp4", "--quiet", "--model", "md", "--mask", "m.png", "--frames", "2"],
         lambda wd: (shutil.copytree(MODEL, wd / "md"), os.remove(wd / "md/config.json"), fifo(wd / "md/config.json")), code=1, timeout=20)
    case("caption/model-truncated-weights", ["caption", "v.mp4", "--quiet", "--model", "md", "--mask", "m.png", "--frames", "2"],
         lambda wd: (shutil.copytree(MODEL, wd / "md"), os.truncate(wd / "md/model.safetensors", 1000)), code=1)
    case("caption/set-garbage", C + ["--mask", "m.png", "--set", "frames.cout=3"], code=64)
    case("caption/set-nested", C + ["--mask", "m.png", "--set", "description=" + "[" * 5000], code=64)
    case("caption/set-newline", C + ["--mask", "m.png", "--set", "frames.count=2\nframes.fps=3"], code=64)
    case("caption/set-no-eq", C + ["--mask", "m.png", "--set", "frames.count"], code=64)
    case("caption/pipeline-nested", C + ["--mask", "m.png", "--pipeline", "n.yaml"], lambda wd: write(wd / "n.yaml", nested_yaml(3000)), code=1)
    case("caption/pipeline-flow-nested", C + ["--mask", "m.png", "--pipeline", "n.yaml"],
         lambda wd: write(wd / "n.yaml", "description: " + "[" * 100000 + "]" * 100000 + "\n"), code=1)
    case("caption/pipeline-alias-bomb", C + ["--mask", "m.png", "--pipeline", "b.yaml"],
         lambda wd: write(wd / "b.yaml", "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
             "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n" % ((chr(98 + i),) * 2 + (chr(97 + i),) * 10) for i in range(9))), code=1)
    case("caption/pipeline-garbage", C + ["--mask", "m.png", "--pipeline", "g.yaml"], lambda wd: write(wd / "g.yaml", "\x00\x01: [:"), code=1)
    case("caption/pipeline-fifo", C + ["--mask", "m.png", "--pipeline", "p.yaml"], lambda wd: fifo(wd / "p.yaml"), code=1, timeout=20)
    case("caption/pipeline-dir", C + ["--mask", "m.png", "--pipeline", "d"], lambda wd: (wd / "d").mkdir(), code=1)
    case("caption/pipeline-huge", C + ["--mask", "m.png", "--pipeline", "h.yaml"],
         lambda wd: write(wd / "h.yaml", "description: \"" + "x" * (3 << 20) + "\"\n"), code=1)
    case("caption/truncated-video", ["caption", "t.mp4", "--quiet"] + M + ["--frames", "2", "--max-new-tokens", "4", "--mask", "m.png", "--json"],
         lambda wd: shutil.copy(SAMPLES / "bad/truncated.mp4", wd / "t.mp4"), expect="any", json_stdout=True, warn=True)
    case("caption/corrupt-video", ["caption", "c.mp4", "--quiet"] + M + ["--frames", "2", "--max-new-tokens", "4", "--mask", "m.png", "--json"],
         lambda wd: shutil.copy(SAMPLES / "bad/corrupt.mp4", wd / "c.mp4"), expect="any", json_stdout=True, warn=True)
    case("caption/video-empty", ["caption", "e.mp4", "--quiet"] + M + ["--mask", "m.png"], lambda wd: write(wd / "e.mp4", ""), code=1)
    case("caption/frames-dir", ["caption", "--frames-dir", "fr", "--quiet"] + M + ["--frames", "2", "--max-new-tokens", "4",
         "--box", "40,30,100,80", "--json"], frames_dir, expect="ok", json_stdout=True)
    case("caption/frames-dir-and-video", C + ["--frames-dir", "fr", "--mask", "m.png"], frames_dir, code=64)
    A = ["caption", "v.mp4", "--quiet"] + M + ["--max-new-tokens", "4", "--json", "--annotation", "a.json"]
    ann_cases = {
        "ok": (rle_annotation(1, (0, 50, 99)), "ok"),
        "nested": (None, "fail"),
        "garbage": (None, "fail"),
        "huge-counts": (rle_annotation(1, (0,), counts=[99999999999999, 5]), "fail"),
        "neg-counts": (rle_annotation(1, (0,), counts=[-5, 230405]), "fail"),
        "size-mismatch": (rle_annotation(1, (0,), size=(36, 64), counts=[2304]), "any"),
        "size-huge": (rle_annotation(1, (0,), size=(100000, 100000), counts=[10000000000]), "fail"),
        "frame-past-end": (rle_annotation(1, (500,)), "fail"),
        "frame-neg": (rle_annotation(1, (-1,)), "fail"),
        "frame-nan": ([{"nan": {"segmentation": {"size": [360, 640], "counts": [230400]}}}], "fail"),
        "empty-list": ([], "fail"),
        "empty-region": ([{}], "fail"),
        "not-a-list": ({"annotation": rle_annotation(1, (0,))}, "fail"),
        "many-regions": (None, "fail"),
        "string-counts-garbage": (rle_annotation(1, (0,), counts="\u00ff\u0001bad"), "fail"),
        "all-empty-mask": (rle_annotation(1, (0,), counts=[230400]), "fail"),
        "overlap-dup": (rle_annotation(2, (0, 50)), "ok"),
    }
    for k, (obj, ex) in ann_cases.items():
        def setup(wd, k=k, obj=obj):
            if k == "nested":
                write(wd / "a.json", nested_json(100000))
            elif k == "garbage":
                write(wd / "a.json", "[{\"0\": {\"segmentation\": ")
            elif k == "many-regions":
                one = json.dumps(rle_annotation(1, (0,), counts=[0, 5, 230395])[0])
                write(wd / "a.json", "[" + ",".join([one] * 100000) + "]")
            else:
                write(wd / "a.json", json.dumps(obj))
        case(f"caption/annotation-{k}", A, setup, expect=ex, code=1 if ex == "fail" else None, json_stdout=ex == "ok",
             msg=r"100000|100,000" if k == "many-regions" else None, timeout=60)
    case("caption/annotation-fifo", A, lambda wd: fifo(wd / "a.json"), code=1, timeout=20)
    case("caption/annotation-and-mask", A + ["--mask", "m.png"], lambda wd: write(wd / "a.json", json.dumps(rle_annotation())), code=64)
    case("caption/output-is-annotation", A + ["--output", "a.json"], lambda wd: write(wd / "a.json", json.dumps(rle_annotation())), code=64)

    # ---------------------------------------------------------------- ask
    K = ["ask", "two.mp4", "--quiet"] + M + ["--frames", "2", "--max-new-tokens", "4"]
    RA, RB = ["--region", "mask=ma.png"], ["--region", "mask=mb.png"]
    QQ = ["--question", "Does <Prompt0> pass <Prompt1>?"]
    case("ask/ok", K + RA + RB + QQ + ["--json"], two, expect="ok", json_stdout=True)
    case("ask/duplicate-region", K + RA + RA + QQ + ["--json"], two, expect="ok", json_stdout=True)
    case("ask/nested-region", K + RA + ["--region", "box=60,170,100,210"] + QQ + ["--json"], two, expect="ok", json_stdout=True)
    case("ask/choices", K + RA + RB + QQ + ["--choice", "(A) yes", "--choice", "(B) no", "--json"], two, expect="ok", json_stdout=True)
    case("ask/output-is-video", K + RA + QQ + ["--output", "two.mp4"], two, code=64)
    case("ask/output-is-region-mask", K + RA + QQ + ["--output", "ma.png"], two, code=64)
    case("ask/output-is-region-mask-link", K + RA + QQ + ["--output", "l"], seq(two, lambda wd: os.symlink("ma.png", wd / "l")), code=64)
    case("ask/overlay-is-scribble", K + ["--region", "scribble=s.txt"] + QQ + ["--overlay", "s.txt"],
         seq(two, lambda wd: write(wd / "s.txt", scribbles["ok"])), code=64)
    for v in ["bogus=1", "box=1,2", "mask=", "frame=-1", "frame=99999", "box=1e30,1,2e30,5", "mask=ma.png\nbox=1,1,2,2",
              "", "mask=ma.png,frame=0", "mask=two.mp4", "mask=nope.png", "point=nan,1", "box=1,1,30,30 frame=nan",
              "scribble=nope.txt", "mask=ma.png frame=0 frame=1", "mask=ma.png mask=mb.png"]:
        case(f"ask/region={v!r}", K + ["--region", v] + ["--question", "What is <Prompt0>?"], two, code=None)
    for v, c in {"": 64, "What is <Prompt5>?": None, "x" * 100000: 1, "a\nb <Prompt0>": None}.items():
        case(f"ask/question={v[:20]!r}", K + RA + ["--question", v], two, code=c, expect="any" if c is None else "fail")
    case("ask/no-question", K + RA, two, code=64)
    case("ask/question-repeated", K + RA + QQ + QQ, two, code=64)
    case("ask/no-region", K + QQ, two, code=64)
    case("ask/region-past-clip", K + ["--region", "box=700,400,900,500"] + ["--question", "What is <Prompt0>?"], two, code=None)
    case("ask/many-regions", K + sum([["--region", "box=%d,10,%d,40" % (i, i + 20)] for i in range(0, 600, 20)], [])
         + ["--question", "What is <Prompt0>?"], two, code=None, timeout=90)
    case("ask/image-ok", ["ask", "--image", "img.png", "--mask", "imask.png", "--mask", "imask.png", "--quiet"] + M +
         ["--max-new-tokens", "4", "--question", "<Prompt0> vs <Prompt1>?", "--json"], image_pair, expect="ok", json_stdout=True)
    case("ask/image-and-video", K + ["--image", "img.png", "--mask", "imask.png"] + QQ, seq(two, image_pair), code=64)
    case("ask/image-is-video", ["ask", "--image", "v.mp4", "--mask", "m.png", "--question", "x <Prompt0>"] + M, code=1)
    case("ask/image-mask-size", ["ask", "--image", "img.png", "--mask", "m.png", "--question", "x <Prompt0>"] + M, image_pair, code=1)
    case("ask/image-output-is-image", ["ask", "--image", "img.png", "--mask", "imask.png", "--question", "x <Prompt0>",
         "--output", "img.png"] + M, image_pair, code=64)
    case("ask/image-region-flag", ["ask", "--image", "img.png", "--region", "mask=imask.png", "--question", "x"] + M, image_pair, code=64)
    case("ask/stdout-full", K + RA + QQ[:1] + ["What is <Prompt0>?", "--json"], two, stdout="full", code=1)

    # ---------------------------------------------------------------- describe
    D = ["describe", "--image", "img.png", "--mask", "imask.png"] + M + ["--max-new-tokens", "4"]
    case("describe/ok", D + ["--json"], image_pair, expect="ok", json_stdout=True)
    case("describe/text", D, image_pair, expect="ok")
    case("describe/mask-repeated", D + ["--mask", "imask.png"], image_pair, code=64)
    case("describe/image-video", ["describe", "--image", "v.mp4", "--mask", "m.png"] + M, code=1)
    case("describe/mask-video", ["describe", "--image", "img.png", "--mask", "v.mp4"] + M, image_pair, code=1)
    case("describe/image-garbage", ["describe", "--image", "g.png", "--mask", "imask.png"] + M,
         seq(image_pair, lambda wd: write(wd / "g.png", "garbage")), code=1)
    case("describe/image-16bit", ["describe", "--image", "i16.png", "--mask", "m11.png", "--max-new-tokens", "4"] + M,
         lambda wd: (shutil.copy(SAMPLES / "images/rgb16.png", wd / "i16.png"), png(wd / "m11.png", 11, 7, lambda x, y: 255)), expect="ok")
    case("describe/image-huge", ["describe", "--image", "h.png", "--mask", "imask.png"] + M,
         seq(image_pair, lambda wd: png(wd / "h.png", 60000, 60000, raw=zlib.compress(b"\0" * 1000))), code=1)
    case("describe/mask-empty", ["describe", "--image", "img.png", "--mask", "z.png"] + M,
         seq(image_pair, lambda wd: png(wd / "z.png", 160, 120, lambda x, y: 0)), code=1)
    case("describe/no-mask", ["describe", "--image", "img.png"] + M, image_pair, code=64)
    case("describe/stdout-closed", D + ["--json"], image_pair, stdout="closed", code=1)
    case("describe/stdout-full-text", D, image_pair, stdout="full", code=1)
    case("describe/temperature-nan", D + ["--temperature", "nan"], image_pair, code=64)
    case("describe/image-fifo", ["describe", "--image", "p.png", "--mask", "imask.png"] + M,
         seq(image_pair, lambda wd: fifo(wd / "p.png")), code=1, timeout=20)

    # ---------------------------------------------------------------- run
    R = ["run", "s.yaml", "--video", "v.mp4", "--region", "mask=m.png", "--quiet"] + M
    case("run/ok", R, spec, expect="ok", json_stdout=True)
    case("run/output", R + ["--output", "r.json"], spec, expect="ok", json_stdout=True, new=["r.json"], json_files=["r.json"])
    case("run/output-is-spec", R + ["--output", "s.yaml"], spec, code=64)
    case("run/output-is-spec-dotdot", R + ["--output", "sub/../s.yaml"], seq(spec, lambda wd: (wd / "sub").mkdir()), code=64)
    case("run/overlay-is-mask", R + ["--overlay", "m.png"], spec, code=64)
    case("run/builtin-ok", ["run", str(REPO / "pipelines/caption-tracked-object.yaml"), "--video", "v.mp4", "--region",
         "mask=m.png", "--quiet", "--frames", "2", "--max-new-tokens", "4"] + M, expect="ok", json_stdout=True)
    specs = {
        "unknown-key": "version: 1\nframes:\n  cout: 3\n",
        "version-2": "version: 2\n",
        "count-neg": "version: 1\nframes:\n  count: -1\n",
        "count-huge": "version: 1\nframes:\n  count: 100000000000000000000\n",
        "count-nan": "version: 1\nframes:\n  count: .nan\n",
        "fps-inf": "version: 1\nframes:\n  fps: .inf\n",
        "tokens-huge": "version: 1\ngeneration:\n  max_new_tokens: 99999999999\n",
        "questions-empty": "version: 1\nquestions: []\n",
        "template-bad": "version: 1\nprompt:\n  text: \"no placeholder\"\n",
        "model-missing": "version: 1\nmodel: nowhere\n",
        "dup-key": "version: 1\nversion: 1\n",
        "tab-indent": "version: 1\nframes:\n\tcount: 2\n",
        "nested": nested_yaml(200),
        "flow-nested": "description: " + "{a: " * 200 + "1" + "}" * 200 + "\n",
        "anchors": "".join("k%d: &a%d 1\n" % (i, i) for i in range(40)),
        "bom": "\ufeffversion: 1\nframes:\n  count: 2\ngeneration:\n  max_new_tokens: 4\n",
        "crlf": "version: 1\r\nframes:\r\n  count: 2\r\ngeneration:\r\n  max_new_tokens: 4\r\n",
        "empty": "",
        "tracker-max-frames-0": "version: 1\ntracker:\n  max_frames: 0\n",
        "tracker-max-side-huge": "version: 1\ntracker:\n  max_side: 99999999\n",
        "mask-mode-bogus": "version: 1\nvideorefer:\n  mask_mode: bogus\n",
        "top-p-nan": "version: 1\ngeneration:\n  top_p: .nan\n",
    }
    # a big token budget ends at EOS or the context; --question replaces an empty list; --model
    # wins over the spec's; the tracker never enlarges: all fine
    ok_specs = {"bom", "crlf", "empty", "tokens-huge", "questions-empty", "model-missing", "tracker-max-side-huge"}
    for k, text in specs.items():
        ex = "any" if k in ok_specs else "fail"
        case(f"run/spec-{k}", ["run", "x.yaml", "--video", "v.mp4", "--region", "mask=m.png", "--quiet", "--frames", "2",
             "--max-new-tokens", "4", "--question", "What is <Prompt0>?"] + M, (lambda t: lambda wd: write(wd / "x.yaml", t))(text), expect=ex, code=1 if ex == "fail" else None,
             json_stdout=ex != "fail", timeout=90)
    case("run/spec-missing", ["run", "nope.yaml", "--video", "v.mp4", "--region", "mask=m.png"] + M, code=1)
    case("run/no-video", ["run", "s.yaml", "--region", "mask=m.png"] + M, spec, code=64)
    case("run/set-questions-scalar", R + ["--set", "questions=5"], spec, expect="any", json_stdout=True)   # one text = a list of one
    case("run/set-questions-map", R + ["--set", "questions={a: 1}"], spec, code=64)
    case("run/set-model", R + ["--set", "model=/nonexistent"], spec, code=None, expect="any")
    case("run/video-repeated", R + ["--video", "v.mp4"], spec, code=64)
    case("run/stdout-closed", R, spec, stdout="closed", code=1)
    case("run/question-and-choice", R + ["--question", "What? <Prompt0>", "--choice", "(A) a", "--choice", "(B) b"], spec,
         expect="ok", json_stdout=True)
    case("run/choice-no-question", R + ["--choice", "(A) a"], spec, code=None)

    # ---------------------------------------------------------------- batch
    BS = ["--pipeline", "s.yaml", "--quiet"] + M

    def bsetup(regions="mask=m.png\n", extra=None):
        def s(wd):
            spec(wd)
            batch_folder(wd, regions=regions)
            if extra:
                extra(wd)
        return s
    case("batch/ok", ["batch", "videos", "--out", "r.jsonl"] + BS, bsetup(), expect="ok", new=["r.jsonl"], json_files=["r.jsonl"],
         json_stdout=True)
    # a folder's files are protected by the results-file checks (exists without --resume; not a results record)
    case("batch/out-is-video", ["batch", "videos", "--out", "videos/a.mp4"] + BS, bsetup(), code=1)
    case("batch/out-is-regions", ["batch", "videos", "--out", "videos/a.regions", "--resume"] + BS, bsetup(), code=1)
    case("batch/out-is-spec", ["batch", "videos", "--out", "s.yaml"] + BS, bsetup(), code=64)
    case("batch/out-is-mask-hardlink", ["batch", "videos", "--out", "h"] + BS, bsetup(extra=lambda wd: os.link(wd / "videos/m.png", wd / "h")), code=1)
    case("batch/out-exists", ["batch", "videos", "--out", "r.jsonl"] + BS, bsetup(extra=lambda wd: write(wd / "r.jsonl", "mine\n")), code=None)
    case("batch/out-exists-empty", ["batch", "videos", "--out", "r.jsonl"] + BS, bsetup(extra=lambda wd: write(wd / "r.jsonl", "")), code=None,
         expect="any", modify=["r.jsonl"])
    case("batch/bad-items", ["batch", "videos", "--out", "r.jsonl"] + BS,
         bsetup(extra=lambda wd: (shutil.copy(SAMPLES / "bad/corrupt.mp4", wd / "videos/b.mp4"), write(wd / "videos/b.regions", "box=1,1,30,30\n"),
                                  shutil.copy(SAMPLES / "clips/ball.mp4", wd / "videos/c.mp4"),  # no regions file
                                  shutil.copy(SAMPLES / "clips/ball.mp4", wd / "videos/d.mp4"), write(wd / "videos/d.regions", "box=1,2\n"),
                                  write(wd / "videos/e.mp4", ""), write(wd / "videos/e.regions", "mask=m.png\n"))),
         expect="ok", new=["r.jsonl"], json_files=["r.jsonl"])
    items = {
        "region-bad": {"id": "x", "video": "videos/a.mp4", "regions": ["box=1,2"]},
        "region-bogus": {"id": "x", "video": "videos/a.mp4", "regions": ["bogus=1"]},
        "question-empty": {"id": "x", "video": "videos/a.mp4", "regions": ["mask=videos/m.png"], "questions": [""]},
        "video-missing": {"id": "x", "video": "nope.mp4", "regions": ["mask=videos/m.png"]},
        "frame-bad": {"id": "x", "video": "videos/a.mp4", "regions": ["mask=videos/m.png frame=-1"]},
        "no-regions": {"id": "x", "video": "videos/a.mp4"},
        "regions-not-list": {"id": "x", "video": "videos/a.mp4", "regions": "mask=videos/m.png"},
        "mask-is-video": {"id": "x", "video": "videos/a.mp4", "regions": ["mask=videos/a.mp4"]},
        "prompt-missing": {"id": "x", "video": "videos/a.mp4", "regions": ["mask=videos/m.png"], "questions": ["<Prompt3>?"]},
    }
    for k, item in items.items():
        case(f"batch/item-{k}", ["batch", "items.jsonl", "--out", "r.jsonl"] + BS,
             bsetup(extra=(lambda it: lambda wd: write(wd / "items.jsonl", json.dumps(it) + "\n"))(item)),
             expect="ok", new=["r.jsonl"], json_files=["r.jsonl"], note="item error must name the item's field, not a CLI flag")
    case("batch/items-nested-line", ["batch", "items.jsonl", "--out", "r.jsonl"] + BS,
         bsetup(extra=lambda wd: write(wd / "items.jsonl", nested_json(100000) + "\n")), code=None, expect="any", new=["r.jsonl"])
    case("batch/items-garbage", ["batch", "items.jsonl", "--out", "r.jsonl"] + BS,
         bsetup(extra=lambda wd: write(wd / "items.jsonl", "{not json\n")), code=None, expect="any", new=["r.jsonl"])
    case("batch/items-long-line", ["batch", "items.jsonl", "--out", "r.jsonl"] + BS,
         bsetup(extra=lambda wd: write(wd / "items.jsonl", "{\"id\": \"" + "x" * (2 << 20) + "\"}\n")), code=None, expect="any", new=["r.jsonl"])
    case("batch/items-fifo", ["batch", "items.jsonl", "--out", "r.jsonl"] + BS, bsetup(extra=lambda wd: fifo(wd / "items.jsonl")),
         code=1, timeout=20)
    case("batch/items-empty", ["batch", "items.jsonl", "--out", "r.jsonl"] + BS, bsetup(extra=lambda wd: write(wd / "items.jsonl", "")),
         code=None, expect="any", new=["r.jsonl"])
    case("batch/items-loop", ["batch", "items.jsonl", "--out", "r.jsonl"] + BS, bsetup(extra=lambda wd: loop(wd / "items.jsonl")), code=1)
    case("batch/items-dup-ids", ["batch", "items.jsonl", "--out", "r.jsonl"] + BS,
         bsetup(extra=lambda wd: write(wd / "items.jsonl", (json.dumps({"id": "x", "video": "videos/a.mp4", "regions": ["mask=videos/m.png"]}) + "\n") * 2)),
         code=None, expect="any", new=["r.jsonl"])
    case("batch/regions-fifo", ["batch", "videos", "--out", "r.jsonl"] + BS,
         bsetup(extra=lambda wd: (os.remove(wd / "videos/a.regions"), fifo(wd / "videos/a.regions"))), expect="ok", new=["r.jsonl"],
         json_files=["r.jsonl"], timeout=20, note="the item is an error line; the batch goes on")
    case("batch/out-is-list", ["batch", "items.jsonl", "--out", "items.jsonl"] + BS,
         bsetup(extra=lambda wd: write(wd / "items.jsonl", "videos/a.mp4\n")), code=64)
    case("batch/out-is-list-link", ["batch", "items.txt", "--out", "l"] + BS,
         bsetup(extra=lambda wd: (write(wd / "items.txt", "videos/a.mp4\n"), os.symlink("items.txt", wd / "l"))), code=64)
    for v in ["2/2", "-1/2", "1/0", "abc", "1/99999999999999999999", "auto"]:
        case(f"batch/shard={v}", ["batch", "videos", "--out", "r.jsonl", "--shard", v] + BS, bsetup(), code=64)
    case("batch/shard-auto-env-bad", ["batch", "videos", "--out", "r.jsonl", "--shard", "auto"] + BS, bsetup(), code=64,
         env={"SLURM_ARRAY_TASK_ID": "9223372036854775807", "SLURM_ARRAY_TASK_MIN": "-9223372036854775808", "SLURM_ARRAY_TASK_COUNT": "2"})
    case("batch/stdout-full", ["batch", "videos", "--out", "r.jsonl"] + BS, bsetup(), stdout="full", code=1, new=["r.jsonl"])
    case("batch/no-pipeline", ["batch", "videos", "--out", "r.jsonl", "--quiet"] + M, bsetup(), code=64)
    case("batch/pipeline-nested", ["batch", "videos", "--out", "r.jsonl", "--pipeline", "n.yaml", "--quiet"] + M,
         bsetup(extra=lambda wd: write(wd / "n.yaml", nested_yaml(5000))), code=1)

    def first_run(sets=()):
        def s(wd):
            spec(wd)
            batch_folder(wd)
            r = subprocess.run([GAR, "batch", "videos", "--out", "r.jsonl"] + BS + sum([["--set", x] for x in sets], []),
                               cwd=wd, capture_output=True, timeout=120)
            assert r.returncode == 0, r.stderr
        return s
    case("batch/resume-same", ["batch", "videos", "--out", "r.jsonl", "--resume"] + BS, first_run(), expect="ok", modify=["r.jsonl"])
    case("batch/resume-other-set", ["batch", "videos", "--out", "r.jsonl", "--resume", "--set", "frames.count=3"] + BS, first_run(), code=None)
    case("batch/resume-dropped-set", ["batch", "videos", "--out", "r.jsonl", "--resume"] + BS, first_run(["frames.count=3"]), code=None)
    case("batch/resume-other-spec", ["batch", "videos", "--out", "r.jsonl", "--resume", "--pipeline", "s2.yaml", "--quiet"] + M,
         seq(first_run(), lambda wd: spec(wd, "s2.yaml", "questions: [\"Other <Prompt0>?\"]\n")), code=None)
    case("batch/resume-other-model", ["batch", "videos", "--out", "r.jsonl", "--resume", "--pipeline", "s.yaml", "--quiet", "--model",
         str(REPO / "Tests/Fixtures/gar-tiny-8bform")], first_run(), code=None)
    case("batch/resume-partial-line", ["batch", "videos", "--out", "r.jsonl", "--resume"] + BS,
         seq(first_run(), lambda wd: write(wd / "r.jsonl", "{\"id\": \"zz", "a")), expect="ok", modify=["r.jsonl"])
    case("batch/resume-garbage-file", ["batch", "videos", "--out", "r.jsonl", "--resume"] + BS,
         bsetup(extra=lambda wd: write(wd / "r.jsonl", "garbage\nmore garbage\n")), code=None)
    case("batch/resume-fifo", ["batch", "videos", "--out", "r.jsonl", "--resume"] + BS, bsetup(extra=lambda wd: fifo(wd / "r.jsonl")),
         code=None, timeout=20)
    case("batch/locked", ["batch", "videos", "--out", "r.jsonl", "--resume"] + BS, first_run(), code=1, msg="pid", runner="locked")
    case("batch/locked-fresh", ["batch", "videos", "--out", "r.jsonl"] + BS,
         bsetup(extra=lambda wd: write(wd / "r.jsonl", "")), code=None, runner="locked")
    case("batch/concurrent", ["batch", "videos", "--out", "r.jsonl"] + BS,
         bsetup(extra=lambda wd: [shutil.copy(SAMPLES / "clips/ball.mp4", wd / ("videos/c%d.mp4" % i)) or
                                  write(wd / ("videos/c%d.regions" % i), "mask=m.png\n") for i in range(4)]),
         expect="ok", new=["r.jsonl"], runner="concurrent", timeout=180)
    # merge
    def parts(wd):
        spec(wd)
        batch_folder(wd)
        for i in range(2):
            r = subprocess.run([GAR, "batch", "videos", "--out", "p%d.jsonl" % i, "--shard", "%d/2" % i] + BS, cwd=wd,
                               capture_output=True, timeout=120)
            assert r.returncode == 0, r.stderr
    case("merge/ok", ["batch", "merge", "--out", "all.jsonl", "p0.jsonl", "p1.jsonl"], parts, expect="ok", new=["all.jsonl"],
         json_files=["all.jsonl"], json_stdout=True)
    case("merge/out-is-part", ["batch", "merge", "--out", "p0.jsonl", "p0.jsonl", "p1.jsonl"], parts, code=64)
    case("merge/out-is-part-link", ["batch", "merge", "--out", "l", "p0.jsonl", "p1.jsonl"], seq(parts, lambda wd: os.symlink("p1.jsonl", wd / "l")), code=64)
    case("merge/out-is-part-dotdot", ["batch", "merge", "--out", "sub/../p1.jsonl", "p0.jsonl", "p1.jsonl"],
         seq(parts, lambda wd: (wd / "sub").mkdir()), code=64)
    case("merge/part-fifo", ["batch", "merge", "--out", "all.jsonl", "p0.jsonl", "f.jsonl"], seq(parts, lambda wd: fifo(wd / "f.jsonl")),
         code=1, timeout=20)
    case("merge/part-garbage", ["batch", "merge", "--out", "all.jsonl", "p0.jsonl", "g.jsonl"],
         seq(parts, lambda wd: write(wd / "g.jsonl", "garbage\n")), code=None, expect="any", new=["all.jsonl"])
    case("merge/part-nested", ["batch", "merge", "--out", "all.jsonl", "g.jsonl"],
         seq(parts, lambda wd: write(wd / "g.jsonl", nested_json(100000) + "\n")), code=None)
    case("merge/part-empty", ["batch", "merge", "--out", "all.jsonl", "g.jsonl"], seq(parts, lambda wd: write(wd / "g.jsonl", "")),
         code=None, expect="any", new=["all.jsonl"])
    case("merge/part-missing", ["batch", "merge", "--out", "all.jsonl", "nope.jsonl"], code=1)
    case("merge/part-dir", ["batch", "merge", "--out", "all.jsonl", "d"], lambda wd: (wd / "d").mkdir(), code=1)
    case("merge/no-parts", ["batch", "merge", "--out", "all.jsonl"], code=64)
    case("merge/no-out", ["batch", "merge", "p0.jsonl"], parts, code=64)
    case("merge/out-locked", ["batch", "merge", "--out", "all.jsonl", "p0.jsonl"], seq(parts, lambda wd: write(wd / "all.jsonl", "")),
         code=1, runner="locked-all")
    case("merge/stdout-closed", ["batch", "merge", "--out", "all.jsonl", "p0.jsonl", "p1.jsonl"], parts, stdout="closed", code=1, new=["all.jsonl"])
    case("merge/out-proc", ["batch", "merge", "--out", "/proc/gar-sweep.jsonl", "p0.jsonl"], parts, code=1)

    # ---------------------------------------------------------------- bench videorefer
    def vr(wd):
        shutil.copy(VR / "predictions_fixed.jsonl", wd / "pred.jsonl")
        shutil.copy(VR / "questions.json", wd / "q.json")
    case("vr/score-ok", ["bench", "videorefer", "--score", "pred.jsonl", "--json"], vr, expect="ok", json_stdout=True)
    case("vr/score-text", ["bench", "videorefer", "--score", "pred.jsonl"], vr, expect="ok")
    case("vr/score-garbage", ["bench", "videorefer", "--score", "g.jsonl"], lambda wd: write(wd / "g.jsonl", "garbage\n"), code=1)
    case("vr/score-empty", ["bench", "videorefer", "--score", "g.jsonl"], lambda wd: write(wd / "g.jsonl", ""), code=None, expect="any")
    case("vr/score-fifo", ["bench", "videorefer", "--score", "g.jsonl"], lambda wd: fifo(wd / "g.jsonl"), code=1, timeout=20)
    case("vr/score-dir", ["bench", "videorefer", "--score", "d"], lambda wd: (wd / "d").mkdir(), code=1)
    case("vr/score-nested", ["bench", "videorefer", "--score", "g.jsonl"], lambda wd: write(wd / "g.jsonl", nested_json(100000) + "\n"), code=1)
    case("vr/score-missing-keys", ["bench", "videorefer", "--score", "g.jsonl"], lambda wd: write(wd / "g.jsonl", "{\"id\": 1}\n"), code=None)
    case("vr/score-and-questions", ["bench", "videorefer", "--score", "pred.jsonl", "--questions", "q.json"], vr, code=64)
    case("vr/score-stdout-full", ["bench", "videorefer", "--score", "pred.jsonl"], vr, stdout="full", code=1)
    VRR = ["bench", "videorefer", "--questions", "q.json", "--videos", str(VR / "videos"), "--limit", "2", "--quiet",
           "--set", "generation.max_new_tokens=4"] + M
    case("vr/run-ok", VRR + ["--out", "p.jsonl"], vr, expect="ok", new=["p.jsonl"], json_files=["p.jsonl"], timeout=120)
    case("vr/out-is-questions", VRR + ["--out", "q.json"], vr, code=64)
    case("vr/out-is-questions-link", VRR + ["--out", "l"], seq(vr, lambda wd: os.symlink("q.json", wd / "l")), code=64)
    case("vr/questions-nested", ["bench", "videorefer", "--questions", "n.json", "--videos", ".", "--out", "p.jsonl"] + M,
         lambda wd: write(wd / "n.json", nested_json(100000)), code=1)
    case("vr/questions-garbage", ["bench", "videorefer", "--questions", "n.json", "--videos", ".", "--out", "p.jsonl"] + M,
         lambda wd: write(wd / "n.json", "[{\"id\": "), code=1)
    case("vr/limit-neg", VRR[:-2] + ["--out", "p.jsonl", "--limit", "-1"] + M, vr, code=64)
    case("vr/mode-bogus", VRR + ["--out", "p.jsonl", "--mode", "bogus"], vr, code=64)
    case("vr/videos-missing", ["bench", "videorefer", "--questions", "q.json", "--videos", "nope", "--out", "p.jsonl", "--limit", "1",
         "--quiet"] + M, vr, code=None, expect="any", new=["p.jsonl"])

    # ---------------------------------------------------------------- eval-track
    case("eval/ok", ["eval-track", "davis", "--json", "--quiet"], davis, expect="ok", json_stdout=True)
    case("eval/prompts", ["eval-track", "davis", "--prompts", "--json", "--quiet"], davis, expect="ok", json_stdout=True)
    case("eval/save", ["eval-track", "davis", "--save", "s", "--quiet"], davis, expect="ok", new=["s", "s/*", "s/*/*"])
    case("eval/save-is-annotations", ["eval-track", "davis", "--save", "davis/Annotations/480p", "--quiet"], davis, code=64)
    case("eval/save-is-dataset", ["eval-track", "davis", "--save", "davis", "--quiet"], davis, code=64)
    case("eval/save-is-jpeg-dir", ["eval-track", "davis", "--save", "davis/JPEGImages/480p", "--quiet"], davis, code=64)
    case("eval/save-in-dataset", ["eval-track", "davis", "--save", "davis/pred", "--quiet"], davis, code=64)
    case("eval/save-user-files", ["eval-track", "davis", "--save", "s", "--quiet"], seq(davis, lambda wd: write(wd / "s/notes.txt", "keep")),
         expect="ok", new=["s/*", "s/*/*"])
    case("eval/save-is-file", ["eval-track", "davis", "--save", "v.mp4", "--quiet"], davis, code=None)
    case("eval/missing", ["eval-track", "nope", "--quiet"], code=1)
    case("eval/empty", ["eval-track", "e", "--quiet"], lambda wd: (wd / "e").mkdir(), code=1)
    case("eval/sequence-missing", ["eval-track", "davis", "--sequences", "nope", "--quiet"], davis, code=None)
    case("eval/res-bogus", ["eval-track", "davis", "--res", "bogus", "--quiet"], davis, code=None)
    case("eval/baseline-bogus", ["eval-track", "davis", "--baseline", "bogus", "--quiet"], davis, code=64)
    case("eval/annotation-garbage", ["eval-track", "davis", "--quiet"],
         seq(davis, lambda wd: write(wd / "davis/Annotations/480p/seq/00000.png", "garbage")), code=1)
    case("eval/annotation-video", ["eval-track", "davis", "--quiet"],
         seq(davis, lambda wd: shutil.copy(wd / "v.mp4", wd / "davis/Annotations/480p/seq/00000.png")), code=1)
    case("eval/annotation-huge", ["eval-track", "davis", "--quiet"],
         seq(davis, lambda wd: png(wd / "davis/Annotations/480p/seq/00000.png", 1 << 20, 1 << 20, raw=zlib.compress(b"\0" * 100))), code=1)
    case("eval/frame-fifo", ["eval-track", "davis", "--quiet"],
         seq(davis, lambda wd: (os.remove(wd / "davis/JPEGImages/480p/seq/00002.jpg"), fifo(wd / "davis/JPEGImages/480p/seq/00002.jpg"))),
         code=1, timeout=20)
    case("eval/stdout-closed", ["eval-track", "davis", "--json", "--quiet"], davis, stdout="closed", code=1)

    # ---------------------------------------------------------------- inspect / tokenize
    case("inspect/ok", ["inspect", MODEL, "--json"], expect="ok", json_stdout=True)
    case("inspect/text", ["inspect", MODEL], expect="ok")
    case("inspect/missing", ["inspect", "nope"], code=1)
    case("inspect/file", ["inspect", "v.mp4"], code=1)
    case("inspect/empty", ["inspect", "e"], lambda wd: (wd / "e").mkdir(), code=1)
    def model_copy(mut):
        def s(wd):
            shutil.copytree(MODEL, wd / "md")
            mut(wd / "md")
        return s
    case("inspect/config-garbage", ["inspect", "md"], model_copy(lambda d: write(d / "config.json", "{garbage")), code=1)
    case("inspect/config-nested", ["inspect", "md"], model_copy(lambda d: write(d / "config.json", nested_json(200000))), code=1)
    case("inspect/config-fifo", ["inspect", "md"], model_copy(lambda d: (os.remove(d / "config.json"), fifo(d / "config.json"))), code=1, timeout=20)
    case("inspect/weights-truncated", ["inspect", "md"], model_copy(lambda d: os.truncate(d / "model.safetensors", 5000)), code=1)
    case("inspect/weights-header-huge", ["inspect", "md"],
         model_copy(lambda d: Path(d / "model.safetensors").write_bytes(struct.pack("<Q", 1 << 62) + b"{}")), code=1)
    case("inspect/weights-zero", ["inspect", "md"], model_copy(lambda d: write(d / "model.safetensors", "")), code=1)
    case("inspect/weights-loop", ["inspect", "md"], model_copy(lambda d: (os.remove(d / "model.safetensors"), loop(d / "model.safetensors"))), code=1)
    case("inspect/stdout-full", ["inspect", MODEL, "--json"], stdout="full", code=1)
    case("inspect/stdout-closed", ["inspect", MODEL], stdout="closed", code=1)
    TK = ["tokenize"] + M
    case("tok/ok", TK + ["--text", "Hello <Prompt0> é 😀", "--json"], expect="ok", json_stdout=True)
    case("tok/file", TK + ["--file", "t.txt", "--json"], lambda wd: write(wd / "t.txt", "hello\nworld"), expect="ok", json_stdout=True)
    case("tok/empty", TK + ["--text", "", "--json"], expect="any", json_stdout=True)
    case("tok/big", TK + ["--file", "t.txt"], lambda wd: write(wd / "t.txt", "word " * 200000), expect="any")
    case("tok/invalid-utf8", TK + ["--file", "t.txt"], lambda wd: write(wd / "t.txt", b"\xff\xfe\x80abc", "wb"), code=1)
    case("tok/fifo", TK + ["--file", "t.txt"], lambda wd: fifo(wd / "t.txt"), code=1, timeout=20)
    case("tok/dir", TK + ["--file", "d"], lambda wd: (wd / "d").mkdir(), code=1)
    case("tok/missing-file", TK + ["--file", "nope.txt"], code=1)
    case("tok/both", TK + ["--text", "a", "--file", "t.txt"], lambda wd: write(wd / "t.txt", "x"), code=64)
    case("tok/neither", TK, code=64)
    case("tok/model-missing", ["tokenize", "--model", "nope", "--text", "a"], code=1)
    case("tok/tokenizer-garbage", ["tokenize", "--model", "md", "--text", "a"], model_copy(lambda d: write(d / "tokenizer.json", "{\"model\": [")), code=1)
    case("tok/tokenizer-nested", ["tokenize", "--model", "md", "--text", "a"], model_copy(lambda d: write(d / "tokenizer.json", nested_json(200000))), code=1)
    case("tok/stdout-closed", TK + ["--text", "a"], stdout="closed", code=1)
    case("tok/stdout-full", TK + ["--text", "a", "--json"], stdout="full", code=1)
    case("tok/text-repeated", TK + ["--text", "a", "--text", "b"], code=64)

    # ---------------------------------------------------------------- top level
    case("top/no-args", [], expect="any")   # prints the help
    case("top/unknown-command", ["bogus"], code=64)
    case("top/version", ["--version"], expect="ok")
    case("top/help-closed", ["--help"], stdout="closed", code=1)
    case("top/help-full", ["caption", "--help"], stdout="full", code=1)


# ----------------------------------------------------------------------------------------------
# Running and checking


def snapshot(root):
    """path -> (kind, digest) for everything under root, without following links."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256(str(st.st_size).encode())
                with open(p, "rb") as f:
                    if st.st_size > 256 << 20:   # a huge (sparse) input: its ends and size
                        h.update(f.read(1 << 20))
                        f.seek(-(1 << 20), 2)
                        h.update(f.read())
                    else:
                        for block in iter(lambda: f.read(1 << 20), b""):
                            h.update(block)
                out[rel] = ("file", h.hexdigest(), stat.S_IMODE(st.st_mode))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            elif stat.S_ISFIFO(st.st_mode):
                out[rel] = ("fifo",)
            else:
                out[rel] = ("other",)
    return out


PROGRESS = re.compile(r"^[^:]+: \d+/\d+ \(|^[a-z -]+ .*\(\d+(\.\d+)?s\)$")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
KEY_EXCEPTIONS = {"Question", "Answer"}


def bad_keys(v, path="$"):
    found = []
    if isinstance(v, dict):
        for k, x in v.items():
            if not SNAKE.match(k) and k not in KEY_EXCEPTIONS:
                found.append(f"{path}.{k}")
            found += bad_keys(x, f"{path}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v[:50]):
            found += bad_keys(x, f"{path}[{i}]")
    return found


def check_json_doc(text, where):
    """Problems of one JSON document or JSONL file (empty list = fine), and the parsed documents."""
    docs = []
    text = text.strip()
    if not text:
        return [f"{where}: empty"], docs
    try:
        docs = [json.loads(text)]
    except ValueError:
        try:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as e:
            return [f"{where}: invalid JSON ({e})"], []
    problems = []
    for d in docs:
        if not isinstance(d, dict):
            problems.append(f"{where}: not an object")
            continue
        if "schema_version" not in d:
            problems.append(f"{where}: no schema_version")
        keys = bad_keys(d)
        if keys:
            problems.append(f"{where}: not snake_case: {', '.join(keys[:5])}")
    return problems, docs


def has_warnings(docs):
    def walk(v):
        if isinstance(v, dict):
            if isinstance(v.get("warnings"), list) and v["warnings"]:
                return True
            return any(walk(x) for x in v.values())
        if isinstance(v, list):
            return any(walk(x) for x in v)
        return False
    return any(walk(d) for d in docs)


def run_gar(c, wd, args, timeout):
    env = dict(os.environ)
    env.update(c["env"])
    stdout_target = subprocess.PIPE
    preexec = None
    if c["stdout"] == "full":
        stdout_target = open("/dev/full", "w")
    elif c["stdout"] == "closed":
        stdout_target = None
        preexec = lambda: os.close(1)
    start = time.time()
    p = subprocess.Popen([GAR] + args, cwd=wd, stdin=subprocess.DEVNULL, stdout=stdout_target, stderr=subprocess.PIPE,
                         env=env, start_new_session=True, preexec_fn=preexec)
    try:
        out, err = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        timed_out = True
    return dict(status=p.returncode, stdout=(out or b"").decode("utf-8", "replace"), stderr=err.decode("utf-8", "replace"),
                timed_out=timed_out, seconds=round(time.time() - start, 2))


def dev_full_ok():
    st = os.stat("/dev/full")
    return stat.S_ISCHR(st.st_mode)


def run_case(c, workroot, default_timeout):
    if not dev_full_ok():
        sys.exit("/dev/full is not a character device any more: stop (restore it: mknod -m 666 /dev/full c 1 7)")
    wd = workroot / re.sub(r"[^A-Za-z0-9_.=-]+", "_", c["name"])[:120]
    wd.mkdir(parents=True)
    base(wd)
    if c["setup"]:
        c["setup"](wd)
    before = snapshot(wd)
    model_before = snapshot(MODEL)
    dev_before = set(os.listdir("/dev"))
    timeout = c["timeout"] or default_timeout
    extra = {}
    if c["runner"] in ("locked", "locked-all"):
        target = wd / ("r.jsonl" if c["runner"] == "locked" else "all.jsonl")
        fd = os.open(target, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            r = run_gar(c, wd, c["args"], timeout)
        finally:
            os.close(fd)
    elif c["runner"] == "concurrent":
        env = dict(os.environ)
        other = subprocess.Popen([GAR] + c["args"], cwd=wd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        time.sleep(0.3)
        second = subprocess.run([GAR] + c["args"][:4] + ["--resume"] + c["args"][4:], cwd=wd, capture_output=True, timeout=timeout)
        o_out, o_err = other.communicate(timeout=timeout)
        r = dict(status=other.returncode, stdout=o_out.decode(), stderr=o_err.decode(), timed_out=False, seconds=0)
        extra = dict(second_status=second.returncode, second_stderr=second.stderr.decode())
    else:
        r = run_gar(c, wd, c["args"], timeout)
    after = snapshot(wd)
    problems = []   # (class, text)

    def p(cls, text):
        problems.append((cls, text))

    status, err = r["status"], r["stderr"]
    err_lines = [l for l in err.splitlines() if l.strip()]
    # -- crashes
    if r["timed_out"]:
        p("crash", f"timed out after {timeout} s (hang)")
    elif status is not None and status < 0:
        p("crash", f"killed by signal {-status}")
    if re.search(r"Fatal error|Stack dump|Backtrace|backtrace|Illegal instruction|Segmentation fault|💣", err):
        p("crash", "backtrace or fatal error on stderr")
    # -- files
    for path, info in before.items():
        if path not in after:
            p("lost", f"deleted: {path}")
        elif after[path] != info and not any(fnmatch.fnmatch(path, m) for m in c["modify"]):
            if info[0] == "dir" and after[path][0] == "dir":
                continue
            p("lost", f"modified: {path} ({info[0]} -> {after[path][0]})")
    # A write error on stdout comes at the end: the files of the run are complete and stay (README).
    allowed_new = c["new"] if (status == 0 or c["runner"] == "concurrent" or c["stdout"]) else []
    for path in sorted(set(after) - set(before)):
        if not any(fnmatch.fnmatch(path, m) for m in allowed_new):
            p("lost" if status == 0 else "silent", f"unexpected path {'created' if status == 0 else 'left behind by a failed run'}: {path}")
    if snapshot(MODEL) != model_before:
        p("lost", "the model folder (an input) changed")
        shutil.rmtree(MODEL)
        shutil.copytree(REPO / "Tests/Fixtures/gar-tiny", MODEL)
    stray = sorted(n for n in set(os.listdir("/dev")) - dev_before if "gar" in n or n.startswith("."))
    if stray:
        p("lost", f"stray files in /dev: {stray}")
    # -- outcome
    ok = status == 0
    if c["expect"] == "fail" and ok:
        p("silent", "exit 0 on bad input")
    if c["expect"] == "ok" and not ok and not r["timed_out"] and (status or 0) > 0 and c["runner"] != "concurrent":
        p("silent" if c["stdout"] else "convention", f"failed on a good input: {err_lines[-1:] or status}")
    if not ok and status is not None and status > 0 and c["runner"] != "concurrent":
        errors = [l for l in err_lines if not l.startswith("warning: ") and not PROGRESS.match(l)]
        if len(errors) != 1:
            p("convention", f"{len(errors)} non-warning stderr lines (want 1)")
        if not errors or not errors[-1].startswith("error: "):
            p("convention", f"error line does not start with 'error: ': {(errors or [''])[-1][:120]!r}")
        if c["code"] is not None and status != c["code"] and not (c["code"] == 1 and c["stdout"]):
            p("convention", f"exit {status}, want {c['code']}")
        elif c["code"] is None and status not in (1, 64):
            p("convention", f"exit {status}, want 1 or 64")
        if c["code"] == 1 and c["stdout"] and status not in (1,):
            p("convention", f"exit {status} on a write error, want 1")
        if c["msg"] and errors and not re.search(c["msg"], errors[-1]):
            p("convention", f"message does not match /{c['msg']}/")
        if errors and re.search(r"--region '|--box |--question:|--mask ", errors[-1]) and c["name"].startswith("batch/item"):
            p("convention", "item error names a CLI flag")
    # -- batch item errors (in the results file)
    if c["name"].startswith("batch/item-") and (wd / "r.jsonl").exists():
        for line in (wd / "r.jsonl").read_text().splitlines():
            try:
                d = json.loads(line)
            except ValueError:
                continue
            e = d.get("error") or ""
            if d.get("status") == "error" and re.search(r"--region|--box|--question|--mask|--point|--scribble|--frame", e):
                p("convention", f"item error names a CLI flag: {e[:160]}")
            if c["name"] != "batch/item-video-missing" and d.get("status") == "ok":
                p("silent", "bad item reported ok")
    # -- JSON
    docs = []
    if ok and c["json_stdout"]:
        probs, docs = check_json_doc(r["stdout"], "stdout")
        for x in probs:
            p("silent" if "invalid" in x or "empty" in x else "convention", x)
    for f in c["json_files"] if ok else []:
        fp = wd / f
        if fp.exists():
            probs, d2 = check_json_doc(fp.read_text(), f)
            docs += d2
            for x in probs:
                p("silent" if "invalid" in x else "convention", x)
    if ok and c["warn"] and not has_warnings(docs):
        p("silent", "damaged input but no warnings in the JSON")
    if c["runner"] == "concurrent":   # whichever run takes the lock first does the work; the other is refused
        refused = [s for s, e in ((status, err), (extra["second_status"], extra["second_stderr"])) if s != 0]
        if len(refused) == 2 or (refused and "in use by another gar run (pid " not in err + extra["second_stderr"]):
            p("silent", f"two runs on one results file: exits {status} and {extra['second_status']}")
        lines = (wd / "r.jsonl").read_text().splitlines() if (wd / "r.jsonl").exists() else []
        ids = [json.loads(l).get("id") for l in lines if l.strip()]
        if len(ids) != len(set(ids)):
            p("silent", f"items processed twice: {ids}")
    return dict(name=c["name"], args=c["args"], status=status, signaled=bool(status is not None and status < 0),
                timed_out=r["timed_out"], seconds=r["seconds"], stderr_lines=len(err_lines),
                stderr_tail=err_lines[-3:], stdout_head=r["stdout"][:300], problems=problems, note=c["note"], **extra)


def main():
    global GAR
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gar", default=str(REPO / ".build/debug/gar"))
    ap.add_argument("--out", required=True, help="report folder (its work/ is recreated)")
    ap.add_argument("--only", help="regex: run only the cases whose name matches")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per case (default 60)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders of passing cases")
    a = ap.parse_args()
    GAR = os.path.abspath(a.gar)
    if not os.access(GAR, os.X_OK):
        sys.exit(f"no gar binary at {GAR}")
    out = Path(a.out).resolve()
    work = out / "work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    global MODEL
    MODEL = str(out / "model")
    if os.path.exists(MODEL):
        shutil.rmtree(MODEL)
    shutil.copytree(REPO / "Tests/Fixtures/gar-tiny", MODEL)
    define_cases()
    cases = [c for c in CASES if not a.only or re.search(a.only, c["name"])]
    repo_before = {k: snapshot(REPO / k) for k in ("samples", "Tests/Fixtures/gar-tiny", "Tests/Fixtures/videorefer")}
    results = []
    t0 = time.time()
    for i, c in enumerate(cases):
        try:
            res = run_case(c, work, a.timeout)
        except Exception as e:  # a broken case is reported, not fatal
            res = dict(name=c["name"], args=c["args"], status=None, problems=[("harness", f"{type(e).__name__}: {e}")])
        results.append(res)
        mark = "ok  " if not res["problems"] else "FAIL"
        print(f"[{i + 1}/{len(cases)}] {mark} {c['name']} ({res.get('seconds', 0)} s) {'; '.join(x[1] for x in res['problems'])[:200]}",
              flush=True)
        if not res["problems"] and not a.keep:
            shutil.rmtree(work / re.sub(r"[^A-Za-z0-9_.=-]+", "_", c["name"])[:120], ignore_errors=True)
    for k, snap in repo_before.items():
        if snapshot(REPO / k) != snap:
            results.append(dict(name=f"repo/{k}", args=[], status=None, problems=[("lost", f"repository inputs under {k} changed")]))
    failed = [r for r in results if r["problems"]]
    by_class = {cls: sum(1 for r in failed if any(x[0] == cls for x in r["problems"])) for cls in CLASSES + ["harness"]}
    (out / "report.json").write_text(json.dumps(dict(cases=len(results), passed=len(results) - len(failed), failed=len(failed),
                                                     by_class=by_class, results=results), indent=1, default=str))
    lines = [f"# gar sweep — {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}", "",
             f"binary: `{GAR}`; {len(results)} cases, {len(results) - len(failed)} passed, {len(failed)} failed "
             f"in {time.time() - t0:.0f} s", "", "| class | cases |", "|---|---|"]
    lines += [f"| {cls} | {n} |" for cls, n in by_class.items()]
    lines += ["", "## Failures", ""]
    for r in failed:
        lines.append(f"- **{r['name']}** `gar {' '.join(repr(x) if (' ' in x or not x) else x for x in r['args'])[:300]}` → exit {r['status']}")
        for cls, text in r["problems"]:
            lines.append(f"  - {cls}: {text}")
        for l in r.get("stderr_tail", [])[-2:]:
            lines.append(f"  - stderr: `{l[:300]}`")
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print(f"\n{len(results)} cases, {len(results) - len(failed)} passed, {len(failed)} failed: {by_class}\nreport: {out}/report.md")


GAR = None
if __name__ == "__main__":
    main()
