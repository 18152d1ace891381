#!/usr/bin/env bash
# The stage ablation on the embedded dataset, offline (experiments/ablation_stages/README.md).
# Run from anywhere; results go to <repo>/outputs and the MLflow store <repo>/mlruns.
set -euo pipefail
cd "$(dirname "$0")/../.."
python -m scenmine -m \
    +exp=full_offline,ablation_no_vlm_offline,ablation_no_review_offline,ablation_no_screening_offline,refprog_baseline_offline \
    output.progress=false "$@"
python -m scenmine.report sweep=latest baseline=full_offline name=ablation_stages \
    'title="Stage ablation: offline backends on the embedded dataset"'
cp outputs/reports/ablation_stages/report.md outputs/reports/ablation_stages/metrics.png \
    experiments/ablation_stages/
