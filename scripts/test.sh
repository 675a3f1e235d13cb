#!/usr/bin/env bash
# The full test suite. Brings the local stack up first (MariaDB and the moto S3 server on
# 127.0.0.1, installed if missing), then runs every unit and integration test against it,
# then validates the deployment files offline (scripts/validate-deploy.sh) and the Tutor
# plugin's rendered environments (scripts/test-tutor.sh). Arguments go to
# the test runner (a filter, `--no-capture`, …).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/stack-up.sh
# shellcheck disable=SC1091
source .stack/env

status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast "$@" || status=$?
else
  cargo test --all-targets --no-fail-fast "$@" || status=$?
fi
# After the tests: they built the edlake binary the embedded configs are checked with.
scripts/validate-deploy.sh || status=$?
# The Tutor plugin, rendered by a real Tutor 22 (its own venv, .venv-tutor); its init task
# runs against the stack's MariaDB.
scripts/test-tutor.sh || status=$?
# The research-package generator checks itself (decrypts, parses back, compares with its truth).
python3 scripts/gen_research_packages.py --self-test || status=$?
exit "$status"
