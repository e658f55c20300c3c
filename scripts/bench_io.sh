#!/usr/bin/env bash
# Runs ptx-io's criterion benches and the numpy/pydicom peer on the same inputs, one after
# the other on the same machine, and prints the peer/ptx time ratios (higher = ptx faster).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cargo bench --locked -p ptx-io --bench io -- --warm-up-time 1 --measurement-time 5 >&2
peer=$("$root/.venv/bin/python" scripts/bench_io_peer.py)
"$root/.venv/bin/python" - "$peer" <<'PY'
import json, os, sys
peer = json.loads(sys.argv[1])
print(f"{'bench':32} {'ptx (ms)':>10} {'python (ms)':>12} {'ratio':>8}")
for name in ["rle/decode_encode_1500_rows", "dicom/decode_siim_jpeg"]:
    path = os.path.join("target/criterion", name.replace("/", "_"), "new/estimates.json")
    ours = json.load(open(path))["mean"]["point_estimate"] / 1e9
    print(f"{name:32} {ours*1e3:10.3f} {peer[name]*1e3:12.3f} {peer[name]/ours:7.1f}x")
print(f"(numpy {peer['numpy']}, pydicom {peer['pydicom']}; cores: {os.cpu_count()})")
PY
