#!/usr/bin/env bash
# Regenerates the paper examples' default synthetic runs (two seeds) and the tables of their
# READMEs' "What the synthetic run shows" sections (all five, or the ones named). Long: up to
# ten minutes per example on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cargo build --release --locked -p ptx-examples --examples
examples=("$@")
if [ ${#examples[@]} -eq 0 ]; then
    examples=(haghanifar_two_stage shannak_autoencoder viel_ablation dasic_backbones harmalkar_pretraining)
fi
python3 scripts/paper_tables.py "${examples[@]}"
