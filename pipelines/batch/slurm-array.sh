#!/usr/bin/env bash
# gar batch as a Slurm job array: `sbatch pipelines/batch/slurm-array.sh /data/videos /results`.
# Task i of the array processes items i, i+N, ... (N = array size) and appends to its own file;
# `--shard auto` reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT.
# Re-submitting the same array resumes every part (finished items skipped, failed ones retried).
# Afterwards: gar batch merge --out /results/all.jsonl /results/part-*.jsonl
#SBATCH --job-name=gar-batch
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=12G
#SBATCH --time=12:00:00
#SBATCH --output=gar-batch-%A_%a.log
set -euo pipefail
VIDEOS=${1:?usage: sbatch slurm-array.sh VIDEOS_DIR RESULTS_DIR}
RESULTS=${2:?usage: sbatch slurm-array.sh VIDEOS_DIR RESULTS_DIR}
GAR=${GAR:-.build/release/gar}
MODEL=${MODEL:-/models/GAR-1B}
mkdir -p "$RESULTS"
"$GAR" batch "$VIDEOS" --pipeline pipelines/temporal-qa.yaml --model "$MODEL" \
    --out "$RESULTS/part-${SLURM_ARRAY_TASK_ID}.jsonl" --shard auto --resume \
    --threads "${SLURM_CPUS_PER_TASK:-4}"
