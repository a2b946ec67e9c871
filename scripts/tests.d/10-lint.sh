#!/usr/bin/env bash
# Format and lint: cargo fmt --check and clippy on every target, warnings denied.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo fmt --all --check
cargo clippy --locked --all-targets -- -D warnings
echo "lint: 2 passed, 0 failed"
