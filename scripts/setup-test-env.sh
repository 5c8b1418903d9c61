#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine, idempotently:
#   - h5dump (Debian's hdf5-tools, libhdf5 1.10) when it is missing;
#   - a Python venv at .venv with pinned h5py and numpy (h5py's wheel bundles libhdf5 2.0).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
if ! command -v h5dump >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq hdf5-tools >/dev/null
fi
if ! "$VENV/bin/python" -c 'import h5py, numpy, hdf5plugin' >/dev/null 2>&1; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/tests/py/requirements.txt"
fi
"$VENV/bin/python" -c 'import h5py, numpy; print("h5py", h5py.version.version, "libhdf5", h5py.version.hdf5_version, "numpy", numpy.__version__)'
h5dump --version
