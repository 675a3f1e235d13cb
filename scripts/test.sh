#!/usr/bin/env bash
# The full test suite. Brings the local stack up first (MariaDB and the moto S3 server on
# 127.0.0.1, installed if missing), then runs every unit and integration test against it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/stack-up.sh
# shellcheck disable=SC1091
source .stack/env

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast "$@"
else
  cargo test --all-targets --no-fail-fast "$@"
fi
