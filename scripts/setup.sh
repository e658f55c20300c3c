#!/usr/bin/env bash
# One-time, idempotent set-up of the project-local Python environment.
#
# Creates .venv with the pinned packages of scripts/requirements.txt (PyTorch 2.11.0 for tch,
# pydicom and numpy as test references) and links .venv/libtorch to the torch package, which
# .cargo/config.toml hands to tch's build script as LIBTORCH. When already done it returns in
# well under a second: the stamp holds the hash of requirements.txt.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
req="$root/scripts/requirements.txt"
stamp="$venv/.ptx-requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$venv/libtorch/lib" ]; then
    exit 0
fi

echo "ptx setup: installing $(grep -c '^[a-z]' "$req") Python packages into .venv (first time: a few minutes, ~5 GB)" >&2
if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 without python3-venv has no ensurepip: fall back to virtualenv.
    rm -rf "$venv"
    python3 -m pip install --quiet --user virtualenv
    python3 -m virtualenv --quiet "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
ln -sfn "$torch_dir" "$venv/libtorch"
echo "$want" > "$stamp"
echo "ptx setup: done (libtorch at $torch_dir)" >&2
