#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), reference outputs, then every test of the
# workspace, ending with one summary line. Extra arguments go to `cargo test` (e.g. `-p ptx-io`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash scripts/golden.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
