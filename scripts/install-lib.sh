# Shared by the scripts that install what they need on a bare Debian 12 (stack-up.sh,
# validate-deploy.sh). Source it after defining log and die, and VENV when python_packages
# is used.
#   as_root CMD…          runs CMD as root (directly, or with sudo)
#   apt_install [OPT…] PKG…  apt-get install, with one `apt-get update` per script run
#   python_packages       the Debian packages a venv at $VENV still needs (none when it exists)

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  SUDO=(false)   # every root-only step fails with a clear message
fi
as_root() { "${SUDO[@]}" "$@"; }

APT_UPDATED=0
apt_install() {
  [[ ${SUDO[0]:-} == false ]] && die "need root (or sudo) to apt-get install $*"
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

python_packages() {
  if ! command -v python3 >/dev/null 2>&1; then
    echo python3 python3-venv
  elif [[ ! -x "$VENV/bin/python" ]] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    # Debian splits venv/ensurepip out of python3.
    echo python3-venv
  fi
}
