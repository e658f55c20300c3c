#!/usr/bin/env bash
# The whole per-sample pipeline (decode SIIM DICOM, resize 512, Haghanifar et al.'s augmentation
# list, raw + AHE + CLAHE, f32 batches of 8) on THREADS threads: ptx-preproc's Loader beside
# pydicom + OpenCV + albumentations in a PyTorch DataLoader with THREADS workers, alternating
# ROUNDS times; prints peer/ptx time ratios (above 1 = ptx faster).
# Usage: bash scripts/bench_pipeline.sh [SAMPLES=128] [THREADS=2] [ROUNDS=3]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
samples=${1:-128}
threads=${2:-2}
rounds=${3:-3}
data=${PTX_SHARED_DATA:-$root/../shared/data}
py="$root/.venv/bin/python"
bash scripts/setup.sh
cargo build --release --locked -p ptx-preproc --example pipeline_timing >&2
dicoms=("$data"/siim/dicom/*.dcm)
results=()
for _ in $(seq "$rounds"); do
    results+=("$(./target/release/examples/pipeline_timing "$samples" "$threads" "${dicoms[@]}")")
    results+=("$("$py" scripts/bench_pipeline_peer.py "$samples" "$threads" "${dicoms[@]}")")
done
"$py" - "${results[@]}" <<'PY'
import json, os, sys
runs = [json.loads(a) for a in sys.argv[1:]]
ours, peer = runs[0::2], runs[1::2]
o = sorted(r["per_image_s"] for r in ours)[len(ours) // 2]
p = sorted(r["per_image_s"] for r in peer)[len(peer) // 2]
per = " ".join(f"{pp['per_image_s'] / oo['per_image_s']:.2f}" for oo, pp in zip(ours, peer))
print(f"pipeline, {ours[0]['threads']} threads, {ours[0]['samples']} samples: ptx {o * 1e3:.1f} ms/image, "
      f"albumentations+OpenCV {p * 1e3:.1f} ms/image, peer/ptx {p / o:.2f}x (rounds: {per}); cores {os.cpu_count()}")
PY
