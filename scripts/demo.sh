#!/usr/bin/env bash
# The main job: builds `ptx`, runs `ptx demo` (synthetic SIIM-like data -> two-stage training
# on the CPU -> thresholds -> prediction -> evaluation, into out/demo/synthetic), then the
# inspection commands on the real samples in ../shared/data, writing everything to out/demo.
# Set-up is idempotent.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cargo build --release --locked -p ptx-cli
ptx="$root/target/release/ptx"
data=${PTX_SHARED_DATA:-$root/../shared/data}
out="$root/out/demo"
rm -rf "$out" && mkdir -p "$out/png"
step() { printf '\n$ %s\n' "$*" | sed "s|$root/||g; s|$data|../shared/data|g"; "$@"; }

step "$ptx" --version
step "$ptx" demo --out "$out/synthetic"
step "$ptx" info "$data"/siim/dicom/*.dcm "$data/siim/dicom-variants/torchxrayvision_Fake_MONOHR1.dcm"
for f in "$data"/siim/dicom/*.dcm "$data/siim/dicom-variants/torchxrayvision_Fake_MONOHR1.dcm"; do
    name=$(basename "$f" .dcm)
    step "$ptx" convert "$f" "$out/png/$name.png"
    step "$ptx" convert "$f" "$out/png/$name.npy"
done
step "$ptx" convert --raw "$data/dicom-edge/RG3_UNCR.dcm" "$out/png/RG3_UNCR.raw16.png"
step "$ptx" convert "$data/dicom-edge/RG3_UNCR.dcm" "$out/png/RG3_UNCR.display.png"
step "$ptx" masks --annotations "$data/siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv" --out "$out/masks"
step "$ptx" encode --masks "$out/masks" --out "$out/reencoded.csv" --rle relative
step "$ptx" encode --masks "$out/masks" --out "$out/submission-absolute.csv" --rle absolute
# The round trip scores 1: every re-encoded mask equals the united annotation rows.
step "$ptx" evaluate --truth "$data/siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv" \
    --pred "$out/submission-absolute.csv" --pred-rle absolute --per-image "$out/evaluate-per-image.csv"
# Lesion report of the first positive mask (SIIM files have 0.143-0.168 mm pixels; the
# subset's own DICOMs are not in ../shared/data, so the spacing is given).
first=$(awk -F, 'NR > 1 && $2 !~ /-1/ { print $1; exit }' "$data/siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv")
step "$ptx" measure --mask "$out/masks/$first.png" --spacing 0.168 0.168
echo
echo "demo: outputs in ${out#$root/}"
