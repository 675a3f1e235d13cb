#!/usr/bin/env bash
# Offline test of the Tutor plugin (deploy/tutor, tutor-contrib-edlake) against a real Tutor 22:
# in temporary Tutor roots it runs `tutor plugins enable edlake` and `tutor config save`
# (a local lake; an S3 lake with IRSA and MongoDB credentials; an S3 lake with static keys)
# and checks the rendered environment (scripts/tutor_checks.py): the compose services, the
# k8s CronJob, sidecar, Jobs and ServiceAccount, the rendered edlake.toml files through
# `edlake config`, secrets only where they belong, the same Kubernetes schema checks as
# scripts/validate-deploy.sh, the image's Dockerfile against the repository's, and the `do`
# commands through a recording stand-in for docker. With MariaDB up (scripts/stack-up.sh,
# EDLAKE_TEST_MYSQL_URL) the init task creates the read-only user for real and edlake
# extracts a table with it.
#
#   scripts/test-tutor.sh           one line per check, exit 1 if any failed
#
# Idempotent: warm runs install nothing. Installs, when missing:
#   * <repo>/.venv-tutor: Tutor 22 from PyPI and the plugin (editable, from deploy/tutor);
#   * the checks' own tools (kubernetes-validate, PyYAML, dockerfile-parse, hadolint,
#     docker-compose), through `scripts/validate-deploy.sh --install-only`, into <repo>/.venv.
#
# Environment:
#   EDLAKE_BIN    edlake binary (default target/debug/edlake, built with cargo when missing)
#   TUTOR_VENV    venv for Tutor and the plugin (default <repo>/.venv-tutor)
#   CHECK_PYTHON  a Python with kubernetes-validate, PyYAML and dockerfile-parse (default
#                 <repo>/.venv/bin/python, provisioned by validate-deploy.sh --install-only)
#   EDLAKE_TEST_MYSQL_URL  an admin MySQL URL (scripts/stack-up.sh's): the init task test
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
TUTOR_VENV="${TUTOR_VENV:-$REPO/.venv-tutor}"
TUTOR_SPEC='tutor>=22.0.0,<23.0.0'

log() { printf '[test-tutor] %s\n' "$*" >&2; }
die() { printf '[test-tutor] ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ the checks' tools
if [[ -z "${CHECK_PYTHON:-}" ]]; then
  "$SCRIPT_DIR/validate-deploy.sh" --install-only
  CHECK_PYTHON="$REPO/.venv/bin/python"
fi
"$CHECK_PYTHON" -c 'import kubernetes_validate, yaml, dockerfile_parse' 2>/dev/null \
  || die "$CHECK_PYTHON lacks kubernetes-validate, PyYAML or dockerfile-parse (unset CHECK_PYTHON to install them)"

# ------------------------------------------------------------------ Tutor and the plugin
if [[ ! -x "$TUTOR_VENV/bin/python" ]]; then
  log "creating Python venv $TUTOR_VENV"
  python3 -m venv "$TUTOR_VENV"
fi
if ! "$TUTOR_VENV/bin/python" - "$TUTOR_SPEC" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
try:
    from packaging.requirements import Requirement
except ImportError:  # a venv with nothing but pip yet
    from pip._vendor.packaging.requirements import Requirement
req = Requirement(sys.argv[1])
sys.exit(0 if req.specifier.contains(version(req.name)) else 1)
PY
  log "pip install $TUTOR_SPEC (into $TUTOR_VENV)"
  "$TUTOR_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$TUTOR_SPEC"
fi
# Editable: the plugin is this checkout's deploy/tutor, whatever was installed before.
plugin_dir=$("$TUTOR_VENV/bin/python" -c 'import os, tutoredlake; print(os.path.dirname(os.path.dirname(tutoredlake.__file__)))' 2>/dev/null || true)
if [[ "$plugin_dir" != "$REPO/deploy/tutor" ]]; then
  log "pip install -e deploy/tutor (into $TUTOR_VENV)"
  "$TUTOR_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$REPO/deploy/tutor"
fi

# ------------------------------------------------------------------ edlake
EDLAKE_BIN="${EDLAKE_BIN:-$REPO/target/debug/edlake}"
if [[ ! -x "$EDLAKE_BIN" ]]; then
  command -v cargo >/dev/null 2>&1 || die "no edlake binary at $EDLAKE_BIN and no cargo to build it (set EDLAKE_BIN)"
  log "building edlake (cargo build --bin edlake)"
  (cd "$REPO" && cargo build --quiet --bin edlake)
  EDLAKE_BIN="$REPO/target/debug/edlake"
fi

export EDLAKE_BIN
export TUTOR_BIN="$TUTOR_VENV/bin/tutor"
export DOCKER_COMPOSE="$(command -v docker-compose || true)"
export KUSTOMIZE=""
if command -v kustomize >/dev/null 2>&1; then
  KUSTOMIZE="$(command -v kustomize) build"
elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  KUSTOMIZE="$(command -v kubectl) kustomize"
fi
export HADOLINT=""
[[ -x "$(dirname "$CHECK_PYTHON")/hadolint" ]] && HADOLINT="$(dirname "$CHECK_PYTHON")/hadolint"

exec "$CHECK_PYTHON" "$SCRIPT_DIR/tutor_checks.py"
