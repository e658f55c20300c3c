#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), reference outputs, then every test of the
# workspace. Extra arguments go to `cargo test` (e.g. `-p ptx-io`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash scripts/golden.sh
cargo test --workspace --locked "$@"
