#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then checks
# formatting and lints, builds the binaries the end-to-end tests start, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
# The PostgreSQL that install-test-deps.sh started, for the store's conformance suite.
export FERROHUB_TEST_POSTGRES="${FERROHUB_TEST_POSTGRES:-postgresql://ferrohub:ferrohub@127.0.0.1:5432/postgres}"

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The instant spawner exists only with `test-util` (benchmarks); keep it compiling and clean.
cargo clippy -p ferrohub --features test-util --lib -- -D warnings
echo "== import cycles between modules (they may only shrink: scripts/module-cycles.baseline)"
python3 scripts/module-cycles.py --check
echo "== cargo build (the end-to-end tests start these binaries)"
cargo build --workspace --bins
echo "== test images (the Docker spawner's and the manager's end-to-end tests run them)"
bash scripts/build-test-images.sh
bash scripts/build-demo-images.sh
echo "== cargo test"
cargo test --workspace --no-fail-fast
