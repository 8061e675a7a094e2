#!/usr/bin/env bash
# gar batch as a Slurm job array. Task i of the array processes items i, i+N, ... (N = array
# size) and appends to its own RESULTS/part-i.jsonl; `--shard auto` reads SLURM_ARRAY_TASK_ID,
# SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT. Re-submitting the same array resumes every
# part (finished items skipped, failed ones retried).
#
# Submit from an unpacked release folder on the shared file system (scripts/make-dist.sh makes
# dist/gar-<version>-linux-<arch>.tar.gz; its libraries: `sudo ./install-runtime-deps.sh` on
# each node, or the same packages from RUNTIME-DEPS), then merge when every task is done:
#   cd /shared/gar-<version>-linux-<arch>
#   job=$(sbatch --parsable pipelines/batch/slurm-array.sh /data/videos /results)
#   sbatch --dependency=afterok:"$job" --wrap 'bin/gar batch merge --out /results/all.jsonl /results/part-*.jsonl'
# From a repository checkout with a release build (.build/release/gar) it works the same.
# Environment: MODEL (default /models/GAR-1B), GAR (the gar binary), PIPELINE (the spec).
#SBATCH --job-name=gar-batch
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=12G
#SBATCH --time=12:00:00
#SBATCH --output=gar-batch-%A_%a.log
set -euo pipefail
VIDEOS=${1:?usage: sbatch slurm-array.sh VIDEOS_DIR RESULTS_DIR}
RESULTS=${2:?usage: sbatch slurm-array.sh VIDEOS_DIR RESULTS_DIR}
TASK=${SLURM_ARRAY_TASK_ID:?not a Slurm array task: submit with sbatch}
# Slurm runs a copy of this script from its spool folder: paths are relative to where it was
# submitted (the release folder, or a repository checkout).
GAR_DIR=${SLURM_SUBMIT_DIR:-$PWD}
if [ -x "$GAR_DIR/bin/gar" ]; then
    GAR=${GAR:-$GAR_DIR/bin/gar}
else
    GAR=${GAR:-$GAR_DIR/.build/release/gar}
fi
PIPELINE=${PIPELINE:-$GAR_DIR/pipelines/temporal-qa.yaml}
MODEL=${MODEL:-/models/GAR-1B}
mkdir -p "$RESULTS"
"$GAR" batch "$VIDEOS" --pipeline "$PIPELINE" --model "$MODEL" \
    --out "$RESULTS/part-$TASK.jsonl" --shard auto --resume \
    --threads "${SLURM_CPUS_PER_TASK:-4}"
