#!/usr/bin/env bash
# Side-by-side on a DAVIS-layout dataset, in one run on one machine: copy-first-mask and gar
# (gar eval-track), OpenCV DIS / Farneback pull-warp chains (opencv_baseline.py), then a table.
# usage: tools/tracking/compare_davis.sh DAVIS_ROOT [PYTHON] [GAR]   (dev only, needs opencv-python)
set -euo pipefail
root=$1; py=${2:-python3}; gar=${3:-.build/release/gar}
out=$(mktemp -d)
here=$(cd "$(dirname "$0")" && pwd)
"$gar" eval-track "$root" --baseline copy --json --quiet > "$out/copy.json"
"$gar" eval-track "$root" --json --quiet > "$out/gar.json"
"$py" "$here/opencv_baseline.py" "$root" --methods dis farneback --json "$out/opencv.json" > "$out/opencv.log"
"$py" - "$out" <<'PY'
import json, sys, os
d = sys.argv[1]
copy = json.load(open(os.path.join(d, "copy.json"))); gar = json.load(open(os.path.join(d, "gar.json")))
cv = json.load(open(os.path.join(d, "opencv.json")))
rows = {}
for s in copy["sequences"]: rows.setdefault(s["name"], {})["copy"] = s["JF"]
for s in gar["sequences"]: rows.setdefault(s["name"], {})["gar"] = s["JF"]; rows[s["name"]]["gar_ms"] = s["msPerFrame"]
for m in ("dis", "farneback"):
    for r in cv[m]: rows.setdefault(r["sequence"], {})[m] = (r["J"] + r["F"]) / 2; rows[r["sequence"]][m + "_ms"] = r["ms"]
print("| sequence | copy | OpenCV Farneback warp | OpenCV DIS warp | gar | gar − DIS warp |")
print("|---|---|---|---|---|---|")
for n in sorted(rows):
    r = rows[n]
    print(f"| {n} | {r['copy']:.3f} | {r['farneback']:.3f} | {r['dis']:.3f} | {r['gar']:.3f} | {r['gar'] - r['dis']:+.3f} |")
def mean(k): return sum(r[k] for r in rows.values()) / len(rows)
print(f"| **mean J&F** | {copy['meanJF']:.3f} | {mean('farneback'):.3f} | {mean('dis'):.3f} | {gar['meanJF']:.3f} | {gar['meanJF'] - mean('dis'):+.3f} |")
print(f"| ms/frame (wall) | 0 | {mean('farneback_ms'):.1f} | {mean('dis_ms'):.1f} | {gar['msPerFrame']:.1f} | |")
PY
echo "raw results in $out"
