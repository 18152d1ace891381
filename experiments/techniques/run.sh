#!/usr/bin/env bash
# The technique ablation (issue 17): each 2026-winner technique as a switch on top of the full
# pipeline (experiments/techniques/README.md). Offline by default; extra arguments apply to
# every run, e.g. `backends=api llm.model=... llm.base_url=...` for the online half (add
# tech_decompose there: the offline rules parser has no generation strategy).
# Run from anywhere; results go to <repo>/outputs and the MLflow store <repo>/mlruns.
set -euo pipefail
cd "$(dirname "$0")/../.."
REAL="dataset=av2 dataset.logs=../shared/av2_mini/logs dataset.ground_truth=../shared/refav_parity/reference_answers.pkl"
# 1. embedded dataset, full pipeline (screening, static review, geometric verification)
python -m scenmine -m +exp=full,tech_refav_atoms,tech_augment output.progress=false "$@"
python -m scenmine.report sweep=latest baseline=full name=techniques_embedded \
    'title="Techniques on the embedded dataset (full pipeline, offline backends)"'
# 2. real logs scored against the reference programs' answers (no training split there:
#    no screening; augmentation keeps the first working rewrite)
python -m scenmine -m $REAL generate.atoms=extended,refav output.progress=false "$@"
python -m scenmine.report sweep=latest 'baseline="generate.atoms=extended"' name=techniques_real_atoms \
    'title="Richer atoms on the real logs (reference answers)"'
python -m scenmine $REAL generate.augment.k=3 output.progress=false "$@"
# 3. track refinement: tracker-like noise on the real logs, every library program
python -m scenmine.bench tracks | tail -3   # about 5 min on 2 cores; --seed N for other noise
