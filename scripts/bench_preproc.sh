#!/usr/bin/env bash
# CLAHE / AHE / equalizeHist / resize on the positive SIIM DICOM (1024x1024, 8-bit), ptx-preproc
# beside OpenCV (opencv-python-headless), one thread each, alternating ROUNDS times; prints
# OpenCV/ptx time ratios (above 1 = ptx faster). Usage: bash scripts/bench_preproc.sh [RUNS=50] [ROUNDS=3]
# The criterion benches (regression tracking) are `cargo bench -p ptx-preproc`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
runs=${1:-50}
rounds=${2:-3}
data=${PTX_SHARED_DATA:-$root/../shared/data}
dicom=$(ls "$data"/siim/dicom/*280319.dcm)
py="$root/.venv/bin/python"
bash scripts/setup.sh
cargo build --release --locked -p ptx-preproc --example preproc_timing >&2
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
"$py" scripts/bench_preproc_peer.py "$dicom" --write-raw "$raw"
results=()
for _ in $(seq "$rounds"); do
    results+=("$(./target/release/examples/preproc_timing "$raw" "$runs")")
    results+=("$("$py" scripts/bench_preproc_peer.py "$dicom" "$runs")")
done
"$py" - "${results[@]}" <<'PY'
import json, os, sys
runs = [json.loads(a) for a in sys.argv[1:]]
ours, peer = runs[0::2], runs[1::2]
print(f"{'1024x1024 u8, 1 thread':24} {'ptx ms':>8} {'OpenCV ms':>10} {'OpenCV/ptx':>11}  per round")
for name in ours[0]:
    o = sorted(r[name] for r in ours)[len(ours) // 2]
    p = sorted(r[name] for r in peer)[len(peer) // 2]
    per = " ".join(f"{pp[name] / oo[name]:.2f}" for oo, pp in zip(ours, peer))
    print(f"{name:24} {o * 1e3:8.2f} {p * 1e3:10.2f} {p / o:10.2f}x  {per}")
print(f"medians over {len(ours)} alternating rounds; cores {os.cpu_count()}")
PY
