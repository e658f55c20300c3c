#!/usr/bin/env bash
# Regenerates the reference outputs the tests compare against (kept out of git), from the
# real data in ../shared/data, with the Python reference implementations in tests/reference.
# Output: target/golden (or $PTX_GOLDEN_DIR). Takes a few seconds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${PTX_SHARED_DATA:-$root/../shared/data}
out=${PTX_GOLDEN_DIR:-$root/target/golden}
py="$root/.venv/bin/python"
if [ ! -d "$data" ]; then
    echo "golden: no shared data at $data; data-driven tests will skip (or fail under CI=true)" >&2
    exit 0
fi
mkdir -p "$out"
"$py" "$root/tests/reference/rle_reference.py" --out "$out/rle_reference.tsv" \
    "$data/siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv" \
    "$data/siim/csv/train-rle-sample.JonnoFTW.csv"
"$py" "$root/tests/reference/pydicom_reference.py" --out "$out/pydicom" \
    "$data"/dicom-edge/*.dcm "$data"/siim/dicom/*.dcm "$data"/siim/dicom-variants/*.dcm
"$py" "$root/tests/reference/metrics_reference.py" --out "$out/metrics" \
    "$data/siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv"
"$py" "$root/tests/reference/losses_reference.py" --out "$out/losses" \
    "$data/siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv"
"$py" "$root/tests/reference/preproc_reference.py" --out "$out/preproc" "$data"
"$py" "$root/tests/reference/augment_reference.py" --out "$out/augment" "$data"
# Models: random-weight smp / torchvision / timm models and checkpoints (~3.5 GB, ~30 s).
"$py" "$root/tests/reference/models_reference.py" --out "$out/models"
"$py" "$root/tests/reference/train_reference.py" --out "$out/train"
"$py" "$root/tests/reference/cluster_reference.py" --out "$out/cluster"
