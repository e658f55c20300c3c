#!/usr/bin/env bash
# Runs ptx-metrics' timing example and its numpy peer on the same inputs, one after the other
# on one thread each, checks that they computed the same numbers, and prints peer/ptx time
# ratios (higher = ptx faster). Usage: bash scripts/bench_metrics.sh [MAPS=100]
# The criterion benches (regression tracking) are `cargo bench -p ptx-metrics`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
maps=${1:-100}
data=${PTX_SHARED_DATA:-$root/../shared/data}
truth="$data/siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv"
bash scripts/setup.sh
[ -f target/golden/metrics/pred.csv ] || bash scripts/golden.sh
pred=target/golden/metrics/pred.csv
cargo build --release --locked -p ptx-metrics --example metrics_timing >&2
ours=$(RAYON_NUM_THREADS=1 ./target/release/examples/metrics_timing "$truth" "$pred" "$maps")
peer=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$root/.venv/bin/python" scripts/bench_metrics_peer.py "$truth" "$pred" "$maps")
"$root/.venv/bin/python" - "$ours" "$peer" <<'PY'
import json, os, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert abs(ours["mean_dice"] - peer["mean_dice"]) < 1e-9, (ours["mean_dice"], peer["mean_dice"])
diff = max(abs(a - b) for a, b in zip(ours["sweep_dice"], peer["sweep_dice"]))
assert diff < 1e-9, diff
n = ours["maps"]
print(f"{'work':44} {'ptx (s)':>9} {'numpy (s)':>10} {'ratio':>8}")
print(f"{'evaluate 1,500 rows (read, decode, Dice)':44} {ours['evaluate_s']:9.4f} {peer['evaluate_s']:10.3f} {peer['evaluate_s']/ours['evaluate_s']:7.0f}x")
print(f"{f'50-threshold sweep, {n} maps, direct loop':44} {ours['sweep_s']:9.3f} {peer['sweep_direct_s']:10.3f} {peer['sweep_direct_s']/ours['sweep_s']:7.1f}x")
print(f"{f'50-threshold sweep, {n} maps, histogram':44} {ours['sweep_s']:9.3f} {peer['sweep_hist_s']:10.3f} {peer['sweep_hist_s']/ours['sweep_s']:7.1f}x")
print(f"ptx sweep per 100 maps: {ours['sweep_s'] * 100 / n:.3f} s; with 4 component areas: "
      f"{ours['sweep_components_s'] * 100 / n:.2f} s (no numpy peer)")
print(f"results equal: mean Dice, and the 50 sweep means within {diff:.1e}; numpy {peer['numpy']}, cores {os.cpu_count()}")
PY
