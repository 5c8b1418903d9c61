#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs h5dump and a Python venv with pinned
# h5py + numpy when missing, checks formatting, lints, the no_std build, then runs every test.
# Long torture runs are opt-in: H5SINK_KILLS=25 (kills per configuration), H5SINK_REPLAY_STATES=N.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup-test-env.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --release --all-targets -- -D warnings
echo "== no_std build of encode + format"
cargo build --release --no-default-features --lib
echo "== cargo test"
cargo test --release
