#!/usr/bin/env bash
# The stage ablation on the embedded dataset, offline (experiments/ablation_stages/README.md);
# extra arguments apply to every run, e.g. backends=api llm.model=... for real models.
# Run from anywhere; results go to <repo>/outputs and the MLflow store <repo>/mlruns.
set -euo pipefail
cd "$(dirname "$0")/../.."
python -m scenmine -m \
    +exp=full,ablation_no_vlm,ablation_no_review,ablation_no_screening,refprog_baseline \
    output.progress=false "$@"
python -m scenmine.report sweep=latest baseline=full name=ablation_stages \
    'title="Stage ablation: offline backends on the embedded dataset"'
cp outputs/reports/ablation_stages/report.md outputs/reports/ablation_stages/metrics.png \
    experiments/ablation_stages/
