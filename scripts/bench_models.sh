#!/usr/bin/env bash
# U-Net ResNet34 at SIZE x SIZE, batch BATCH: forward (eval) and forward + backward + Adam step
# (train) in ptx beside segmentation_models_pytorch in PyTorch, each in its own process with
# THREADS libtorch threads, alternating ROUNDS times. Prints per-mode median times, the
# PyTorch/ptx ratio (above 1 = ptx faster) and peak resident memory of both processes.
# Usage: bash scripts/bench_models.sh [SIZE=512] [BATCH=4] [ITERS=3] [THREADS=2] [ROUNDS=3]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
size=${1:-512}
batch=${2:-4}
iters=${3:-3}
threads=${4:-2}
rounds=${5:-3}
py="$root/.venv/bin/python"
bash scripts/setup.sh
cargo build --release --locked -p ptx-models --example unet_timing >&2
results=()
for _ in $(seq "$rounds"); do
    for mode in forward train; do
        results+=("$(./target/release/examples/unet_timing "$mode" "$size" "$batch" "$iters" "$threads")")
        results+=("$("$py" scripts/bench_models_peer.py "$mode" "$size" "$batch" "$iters" "$threads")")
    done
done
"$py" - "${results[@]}" <<'PY'
import json, os, sys
runs = [json.loads(a) for a in sys.argv[1:]]
for mode in ("forward", "train"):
    ours = [r for r in runs if r["mode"] == mode and r["side"] == "ptx"]
    peer = [r for r in runs if r["mode"] == mode and r["side"] == "pytorch"]
    med = lambda rs: sorted(r["median_s"] for r in rs)[len(rs) // 2]
    per = " ".join(f"{p['median_s'] / o['median_s']:.3f}" for o, p in zip(ours, peer))
    o, p = med(ours), med(peer)
    r = ours[0]
    print(f"{mode}: U-Net ResNet34 {r['size']}x{r['size']} batch {r['batch']}, {r['threads']} threads: "
          f"ptx {o:.3f} s, PyTorch+smp {p:.3f} s, PyTorch/ptx {p / o:.3f}x (rounds: {per}); "
          f"peak RSS ptx {max(x['peak_rss_mib'] for x in ours):.0f} MiB, "
          f"PyTorch {max(x['peak_rss_mib'] for x in peer):.0f} MiB; cores {os.cpu_count()}")
PY
