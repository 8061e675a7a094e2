#!/usr/bin/env bash
# Side-by-side on a DAVIS-layout dataset, in one run on one machine: copy-first-mask and gar
# (gar eval-track), optionally an earlier gar build ("before"), OpenCV DIS / Farneback pull-warp
# chains (opencv_baseline.py), then a table with J&F per sequence, wall and CPU ms/frame (frame-
# weighted means over the sequences; CPU = all threads of the process) and the load average.
# usage: tools/tracking/compare_davis.sh DAVIS_ROOT [PYTHON] [GAR] [GAR_BEFORE]   (dev only, needs opencv-python)
set -euo pipefail
root=$1; py=${2:-python3}; gar=${3:-.build/release/gar}; before=${4:-}
out=$(mktemp -d)
here=$(cd "$(dirname "$0")" && pwd)
cut -d' ' -f1-3 /proc/loadavg > "$out/load_start"
"$gar" eval-track "$root" --baseline copy --json --quiet > "$out/copy.json"
# Process CPU seconds (user + sys) of each whole eval-track run, decoding and scoring included.
TIMEFORMAT='%U %S'
if [ -n "$before" ]; then { time "$before" eval-track "$root" --json --quiet > "$out/before.json"; } 2> "$out/before.time"; fi
{ time "$gar" eval-track "$root" --json --quiet > "$out/gar.json"; } 2> "$out/gar.time"
"$py" "$here/opencv_baseline.py" "$root" --methods dis farneback --json "$out/opencv.json" > "$out/opencv.log"
cut -d' ' -f1-3 /proc/loadavg > "$out/load_end"
"$py" - "$out" <<'PY'
import json, sys, os, re
d = sys.argv[1]
def load(n):
    p = os.path.join(d, n)
    return json.load(open(p)) if os.path.exists(p) else None
def snake(v):   # gar builds before issue 10 wrote camelCase keys (meanJF → mean_jf)
    if isinstance(v, dict): return {re.sub(r"(?<=[a-z])(?=[A-Z])", "_", k).lower(): snake(x) for k, x in v.items()}
    if isinstance(v, list): return [snake(x) for x in v]
    return v
copy, gar, before = (snake(load(n)) for n in ("copy.json", "gar.json", "before.json"))
cv = load("opencv.json")
rows, frames = {}, {}
for s in copy["sequences"]: rows.setdefault(s["name"], {})["copy"] = s["jf"]; frames[s["name"]] = s["frames"]
for name, rep in (("gar", gar), ("before", before)):
    for s in (rep or {}).get("sequences", []): rows[s["name"]][name] = s["jf"]
for m in ("dis", "farneback"):
    for r in cv[m]: rows[r["sequence"]][m] = (r["J"] + r["F"]) / 2
def wmean(recs, key):   # frame-weighted mean of a per-frame cost over the sequences
    n = sum(r["frames"] for r in recs)
    return sum(r[key] * r["frames"] for r in recs) / n
cols = ["copy", "farneback", "dis"] + (["before"] if before else []) + ["gar"]
head = {"copy": "copy", "farneback": "OpenCV Farneback warp", "dis": "OpenCV DIS warp", "before": "gar before", "gar": "gar"}
print("| sequence | " + " | ".join(head[c] for c in cols) + " | gar − DIS warp |")
print("|---|" + "---|" * (len(cols) + 1))
for n in sorted(rows):
    r = rows[n]
    print(f"| {n} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + f" | {r['gar'] - r['dis']:+.3f} |")
def mean(k): return sum(r[k] for r in rows.values()) / len(rows)
means = {"copy": copy["mean_jf"], "gar": gar["mean_jf"], "farneback": mean("farneback"), "dis": mean("dis")}
if before: means["before"] = before["mean_jf"]
print("| **mean J&F** | " + " | ".join(f"**{means[c]:.3f}**" for c in cols) + f" | **{gar['mean_jf'] - mean('dis'):+.3f}** |")
wall = {"copy": 0, "farneback": wmean(cv["farneback"], "ms"), "dis": wmean(cv["dis"], "ms"), "gar": gar["ms_per_frame"]}
cpu = {"copy": 0, "farneback": wmean(cv["farneback"], "cpu_ms"), "dis": wmean(cv["dis"], "cpu_ms"), "gar": gar["cpu_ms_per_frame"]}
if before: wall["before"] = before["ms_per_frame"]; cpu["before"] = before.get("cpu_ms_per_frame")
steps = sum(s["frames"] - 1 for s in gar["sequences"])
def whole(n):           # CPU ms per frame step of the whole eval-track process
    p = os.path.join(d, n + ".time")
    return sum(map(float, open(p).read().split()[-2:])) * 1000 / steps if os.path.exists(p) else None
fmt = lambda v: "n/a" if v is None else f"{v:.1f}"
print("| ms/frame (wall) | " + " | ".join(fmt(wall[c]) for c in cols) + " | |")
print("| ms/frame (CPU, tracking) | " + " | ".join(fmt(cpu[c]) for c in cols) + " | |")
print("| ms/frame (CPU, whole eval process) | " + " | ".join(fmt(whole(c)) if c in ("gar", "before") else "" for c in cols) + " | |")
print(f"gar J {gar['mean_j']:.3f} F {gar['mean_f']:.3f}" + (f"; before J {before['mean_j']:.3f} F {before['mean_f']:.3f}" if before else ""))
print("load average (1/5/15 min) at start:", open(os.path.join(d, "load_start")).read().strip(),
      "| at end:", open(os.path.join(d, "load_end")).read().strip())
for name, rep in (("gar", gar), ("before", before), ("copy", copy)):
    if rep: print(f"{name}: eval-track load before {rep.get('load_before')}, after {rep.get('load_after')}, threads {rep.get('threads')}")
PY
echo "raw results in $out"
