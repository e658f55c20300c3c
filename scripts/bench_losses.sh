#!/usr/bin/env bash
# Times every ptx-losses loss (forward + backward, 8 x 1 x 512 x 512, CPU) against the same
# loss in PyTorch (torch / segmentation_models_pytorch / MONAI) on the same inputs, both on
# the same libtorch and thread count, alternating ptx and PyTorch ROUNDS times, and prints
# ptx/PyTorch time ratios (1.00 = same; below 1 = ptx faster).
# Usage: bash scripts/bench_losses.sh [THREADS=2] [RUNS=15] [ROUNDS=3]
# The criterion benches (regression tracking) are `cargo bench -p ptx-losses`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
threads=${1:-2}
runs=${2:-15}
rounds=${3:-3}
bash scripts/setup.sh
cargo build --release --locked -p ptx-losses --example loss_timing >&2
results=()
for _ in $(seq "$rounds"); do
    results+=("$(./target/release/examples/loss_timing "$threads" "$runs")")
    results+=("$("$root/.venv/bin/python" scripts/bench_losses_peer.py "$threads" "$runs")")
done
"$root/.venv/bin/python" - "$threads" "${results[@]}" <<'PY'
import json, os, sys
threads, runs = sys.argv[1], [json.loads(a) for a in sys.argv[2:]]
ours, peer = runs[0::2], runs[1::2]
print(f"{'loss (fwd+bwd, 8x1x512x512)':28} {'ptx ms':>8} {'torch ms':>9} {'ratio':>6}  ratio per round")
for name in ours[0]:
    ratios = [o[name] / p[name] for o, p in zip(ours, peer)]
    o = sorted(r[name] for r in ours)[len(ours) // 2]
    p = sorted(r[name] for r in peer)[len(peer) // 2]
    print(f"{name:28} {o * 1e3:8.1f} {p * 1e3:9.1f} {o / p:6.2f}  " + " ".join(f"{r:.2f}" for r in ratios))
print(f"{threads} threads, medians over {len(ours)} alternating rounds; cores {os.cpu_count()}")
PY
