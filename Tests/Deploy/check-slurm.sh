#!/usr/bin/env bash
# Runs pipelines/batch/slurm-array.sh as Slurm would (no Slurm here): a 2-task array submitted
# from FOLDER, each task with the SLURM_* variables sbatch sets, on two sample clips with the
# tiny checkpoint; then the merge command of the script's header. Passes when both parts and the
# merged file hold one `ok` line per clip.
# Usage: Tests/Deploy/check-slurm.sh [FOLDER]
#   FOLDER: a repository checkout with .build/release/gar (default: this one) or a dist folder.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
submit=$(cd "${1:-$repo}" && pwd)
gar="$submit/bin/gar"; [ -x "$gar" ] || gar="$submit/.build/release/gar"
[ -x "$gar" ] || { echo "error: no bin/gar or .build/release/gar in $submit (build first)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/gar-slurm-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/videos"
cp "$repo/samples/clips/ball.mp4" "$tmp/videos/ball.mp4"
echo "mask=$repo/samples/masks/ball_f0.png" >"$tmp/videos/ball.regions"
cp "$repo/samples/clips/two_objects.mp4" "$tmp/videos/two.mp4"
printf 'mask=%s\nmask=%s\n' "$repo/samples/masks/two_objects_f0_ball.png" \
    "$repo/samples/masks/two_objects_f0_square.png" >"$tmp/videos/two.regions"
echo "Does <Prompt0> pass behind <Prompt1>?" >"$tmp/videos/two.questions"

passed=0 failed=0
expect() { # expect DESCRIPTION FILE N: FILE has N lines, all "status": "ok"
    local lines ok
    lines=$(grep -c . "$2" 2>/dev/null || true)
    ok=$(grep -c '"status" *: *"ok"' "$2" 2>/dev/null || true)
    if [ "$lines" = "$3" ] && [ "$ok" = "$3" ]; then
        echo "ok   $1"; passed=$((passed + 1))
    else
        echo "FAIL $1: $lines lines, $ok ok, expected $3"; failed=$((failed + 1))
    fi
}
for task in 0 1; do
    # Slurm copies the script to its spool folder and runs it from the submit folder.
    cp "$repo/pipelines/batch/slurm-array.sh" "$tmp/slurm_script"
    (cd "$submit" && env SLURM_SUBMIT_DIR="$submit" SLURM_ARRAY_TASK_ID=$task SLURM_ARRAY_TASK_MIN=0 \
        SLURM_ARRAY_TASK_COUNT=2 SLURM_CPUS_PER_TASK=1 MODEL="$repo/Tests/Fixtures/gar-tiny" \
        bash "$tmp/slurm_script" "$tmp/videos" "$tmp/results" 2>"$tmp/task$task.err") ||
        { cat "$tmp/task$task.err" >&2; echo "FAIL task $task exited non-zero"; failed=$((failed + 1)); }
    expect "array task $task wrote results/part-$task.jsonl" "$tmp/results/part-$task.jsonl" 1
done
"$gar" batch merge --out "$tmp/results/all.jsonl" "$tmp/results"/part-*.jsonl
expect "gar batch merge wrote both items to all.jsonl" "$tmp/results/all.jsonl" 2
echo "$passed passed, $failed failed"
((failed == 0))
