#!/usr/bin/env bash
# Bring up the local stack edlake's tests and demo use, with no Docker and no
# service manager:
#   * MariaDB 10.11 on 127.0.0.1:3306 (stand-in for Open edX's MySQL), with the
#     `openedx` database and the `openedx` / `edlake_test` users;
#   * moto server on 127.0.0.1:${EDLAKE_MOTO_PORT:-5000} (S3, Glue, Athena),
#     from a Python venv at <repo>/.venv;
#   * a MongoDB-wire-compatible test server on 127.0.0.1:${EDLAKE_MONGO_PORT:-27017}
#     (scripts/mongo_server.py: mockupdb for the wire, mongomock as the engine;
#     no MongoDB server can be installed here);
#   * <repo>/.stack/env with the connection settings and the venv's Python for the
#     test helpers (`. .stack/env`).
#
# Idempotent: run it as often as you like; when everything is up it only
# checks, re-applies the grants and rewrites .stack/env (well under 3 s).
# Works on a brand-new Debian 12 (installs what is missing with apt-get and
# pip) and must run as root, or as a user with sudo, for the MariaDB part.
#
# Environment:
#   EDLAKE_MOTO_PORT      moto port (default 5000)
#   EDLAKE_MONGO_PORT     Mongo wire test server port (default 27017)
#   EDLAKE_STACK_LOG_DIR  log directory (default /var/log/edlake-stack as root,
#                         <repo>/.stack/logs otherwise)
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
STACK_DIR="$REPO/.stack"
VENV="$REPO/.venv"
MOTO_PORT="${EDLAKE_MOTO_PORT:-5000}"
MYSQL_HOST=127.0.0.1
MYSQL_PORT=3306
MOTO_SPEC='moto[server]>=5.2,<6'
MONGO_PORT="${EDLAKE_MONGO_PORT:-27017}"
MONGO_SPECS=('mockupdb==1.8.1' 'mongomock==4.3.0' 'pymongo>=4.6,<5')
# DuckDB runs the local catalog's views in the tests and the demo. 1.4 is DuckDB's
# long-term release; its httpfs extension comes from PyPI too (no extension download).
DUCKDB_VERSION=1.4.4
DUCKDB_SPECS=("duckdb==$DUCKDB_VERSION" "duckdb-cli==$DUCKDB_VERSION" 'duckdb-ext-httpfs==1.4.4.20260205')
# pyarrow reads the Parquet lake in the tests: a second reader, independent of the writer's
# own crate (arrow-rs) and of DuckDB (Arrow C++; wheels for Python 3.11).
PYARROW_VERSION=26.0.1
# Debian keeps mariadbd and friends in /usr/sbin, which a non-root PATH lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

log() { printf '[stack-up] %s\n' "$*" >&2; }
die() { printf '[stack-up] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=scripts/install-lib.sh
source "$SCRIPT_DIR/install-lib.sh"
if [[ $(id -u) -eq 0 ]]; then
  LOG_DIR="${EDLAKE_STACK_LOG_DIR:-/var/log/edlake-stack}"
else
  LOG_DIR="${EDLAKE_STACK_LOG_DIR:-$STACK_DIR/logs}"
fi

mkdir -p "$STACK_DIR" "$LOG_DIR"
MARIADB_LOG="$LOG_DIR/mariadbd.log"
MOTO_LOG="$LOG_DIR/moto-$MOTO_PORT.log"
MONGO_LOG="$LOG_DIR/mongo-$MONGO_PORT.log"

# ------------------------------------------------------------------ packages
need_pkgs=()
if ! command -v mariadbd >/dev/null 2>&1; then
  need_pkgs+=(mariadb-server mariadb-client)
elif ! command -v mariadb >/dev/null 2>&1 || ! command -v mariadb-admin >/dev/null 2>&1; then
  need_pkgs+=(mariadb-client)
fi
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl ca-certificates)
# tests/durable.rs runs edlake under strace to check the order of its fsyncs and renames.
command -v strace >/dev/null 2>&1 || need_pkgs+=(strace)
# GnuPG: edX research data packages are encrypted (scripts/gen_research_packages.py, `edlake import`).
command -v gpg >/dev/null 2>&1 || need_pkgs+=(gnupg)
# shellcheck disable=SC2207
need_pkgs+=($(python_packages))
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  apt_install "${need_pkgs[@]}"
fi

# wait_for_start NAME CHECK PID LOG [HINT]: polls CHECK every 0.2 s for up to 30 s (rather than
# e.g. `mariadb-admin --wait=30 ping`), so a server that dies at start-up is reported at
# once, with the end of its log.
wait_for_start() {
  local name=$1 check=$2 pid=$3 logfile=$4 hint=${5:-}
  for _ in $(seq 1 150); do
    "$check" && { log "$name is up"; return 0; }
    if ! as_root kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$logfile" >&2 || true
      die "$name exited during start-up${hint:+ ($hint)}, see $logfile"
    fi
    sleep 0.2
  done
  tail -n 30 "$logfile" >&2 || true
  die "$name did not answer within 30 s, see $logfile"
}

# ------------------------------------------------------------------- MariaDB
mysql_up() {
  # Root over the Unix socket. (A TCP ping as root is no use here: with
  # skip-name-resolve root@localhost does not match 127.0.0.1, the server
  # answers error 1130 before the TLS handshake, and the 10.11 client then
  # exits 1 instead of reporting the server alive.)
  as_root mariadb-admin --protocol=socket -uroot --connect-timeout=2 ping >/dev/null 2>&1
}
tcp_ok() {
  mariadb-admin --no-defaults --protocol=tcp -h"$MYSQL_HOST" -P"$MYSQL_PORT" \
    -uopenedx -popenedx --connect-timeout=2 ping >/dev/null 2>&1
}

MARIADB_STARTED=""
if mysql_up; then
  log "MariaDB already running"
else
  [[ ${SUDO[0]:-} == false ]] && die "MariaDB is not running and starting it needs root (or sudo)"
  log "starting MariaDB (log: $MARIADB_LOG)"
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld
  if ! as_root test -d /var/lib/mysql/mysql; then
    log "initialising /var/lib/mysql (mariadb-install-db)"
    as_root mkdir -p /var/lib/mysql
    as_root chown mysql:mysql /var/lib/mysql
    as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql \
      --auth-root-authentication-method=socket --skip-test-db >>"$MARIADB_LOG" 2>&1 \
      || die "mariadb-install-db failed, see $MARIADB_LOG"
  fi
  printf '\n===== %s starting mariadbd =====\n' "$(date -u +%FT%TZ)" >>"$MARIADB_LOG"
  # Settings on the command line override /etc/mysql/*.cnf. The last three
  # only speed up bulk loads (LOAD DATA of 1M courseware_studentmodule rows:
  # ~30 s instead of ~41 s on 2 cores); the doublewrite buffer stays on, so a
  # machine stopped mid-write cannot leave torn pages behind.
  as_root setsid nohup mariadbd \
    --user=mysql \
    --bind-address="$MYSQL_HOST" --port="$MYSQL_PORT" \
    --innodb-buffer-pool-size=1G \
    --innodb-flush-log-at-trx-commit=2 \
    --local-infile=1 \
    --max-allowed-packet=256M \
    --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci \
    --skip-name-resolve \
    --innodb-sort-buffer-size=64M \
    --innodb-log-file-size=1G \
    --innodb-log-buffer-size=64M \
    >>"$MARIADB_LOG" 2>&1 </dev/null &
  MARIADB_STARTED=$!
  wait_for_start MariaDB mysql_up "$MARIADB_STARTED" "$MARIADB_LOG"
fi

# Root over the Unix socket (Debian's unix_socket auth): database, users and
# the settings above for a server that some other tool started.
as_root mariadb --protocol=socket -uroot --batch <<'SQL' || die "could not provision MariaDB as root over the Unix socket"
SET GLOBAL local_infile = 1;
SET GLOBAL max_allowed_packet = 268435456;
SET GLOBAL innodb_flush_log_at_trx_commit = 2;
SET GLOBAL character_set_server = 'utf8mb4';
SET GLOBAL collation_server = 'utf8mb4_unicode_ci';
SET GLOBAL innodb_buffer_pool_size = GREATEST(@@GLOBAL.innodb_buffer_pool_size, 1073741824);

CREATE DATABASE IF NOT EXISTS openedx CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE USER IF NOT EXISTS 'openedx'@'127.0.0.1' IDENTIFIED BY 'openedx';
ALTER USER 'openedx'@'127.0.0.1' IDENTIFIED BY 'openedx';
CREATE USER IF NOT EXISTS 'openedx'@'localhost' IDENTIFIED BY 'openedx';
ALTER USER 'openedx'@'localhost' IDENTIFIED BY 'openedx';
GRANT ALL PRIVILEGES ON openedx.* TO 'openedx'@'127.0.0.1';
GRANT ALL PRIVILEGES ON openedx.* TO 'openedx'@'localhost';

CREATE USER IF NOT EXISTS 'edlake_test'@'127.0.0.1' IDENTIFIED BY 'edlake_test';
ALTER USER 'edlake_test'@'127.0.0.1' IDENTIFIED BY 'edlake_test';
GRANT ALL PRIVILEGES ON *.* TO 'edlake_test'@'127.0.0.1' WITH GRANT OPTION;
SQL

tcp_ok || die "MariaDB runs but openedx@$MYSQL_HOST cannot connect over TCP port $MYSQL_PORT (started with skip-networking or another bind address?)"
MARIADB_VERSION=$(as_root mariadb --protocol=socket -uroot -N -B -e 'SELECT VERSION()' 2>/dev/null || echo '?')
MARIADB_PID=$(as_root cat /run/mysqld/mysqld.pid 2>/dev/null || echo '?')

# --------------------------------------------------------------------- moto
moto_up() {
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$MOTO_PORT/moto-api/" 2>/dev/null
}

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating Python venv $VENV"
  python3 -m venv "$VENV"
fi
if [[ ! -x "$VENV/bin/moto_server" ]]; then
  log "pip install $MOTO_SPEC (into $VENV)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO_SPEC"
  [[ -x "$VENV/bin/moto_server" ]] || die "pip did not install moto_server"
fi

if moto_up; then
  log "moto already answers on 127.0.0.1:$MOTO_PORT"
else
  log "starting moto on 127.0.0.1:$MOTO_PORT (log: $MOTO_LOG)"
  printf '\n===== %s starting moto_server =====\n' "$(date -u +%FT%TZ)" >>"$MOTO_LOG"
  setsid nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" \
    >>"$MOTO_LOG" 2>&1 </dev/null &
  moto_pid=$!
  echo "$moto_pid" >"$STACK_DIR/moto-$MOTO_PORT.pid"
  wait_for_start moto moto_up "$moto_pid" "$MOTO_LOG" "port $MOTO_PORT busy?"
fi
MOTO_PID=$(cat "$STACK_DIR/moto-$MOTO_PORT.pid" 2>/dev/null || echo '?')

# ------------------------------------------------------------ Mongo (wire)
mongo_up() {
  "$VENV/bin/python" - "$MONGO_PORT" <<'PY' >/dev/null 2>&1
import sys, pymongo
c = pymongo.MongoClient("127.0.0.1", int(sys.argv[1]), directConnection=True, serverSelectionTimeoutMS=1500)
c.admin.command("ping")
PY
}
if ! "$VENV/bin/python" -c 'import mockupdb, mongomock, pymongo' >/dev/null 2>&1; then
  log "pip install ${MONGO_SPECS[*]} (into $VENV)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${MONGO_SPECS[@]}"
fi
if mongo_up; then
  log "Mongo wire server already answers on 127.0.0.1:$MONGO_PORT"
else
  log "starting the Mongo wire server on 127.0.0.1:$MONGO_PORT (log: $MONGO_LOG)"
  printf '\n===== %s starting mongo_server.py =====\n' "$(date -u +%FT%TZ)" >>"$MONGO_LOG"
  setsid nohup "$VENV/bin/python" "$SCRIPT_DIR/mongo_server.py" --port "$MONGO_PORT" \
    >>"$MONGO_LOG" 2>&1 </dev/null &
  mongo_pid=$!
  echo "$mongo_pid" >"$STACK_DIR/mongo-$MONGO_PORT.pid"
  wait_for_start "Mongo wire server" mongo_up "$mongo_pid" "$MONGO_LOG" "port $MONGO_PORT busy?"
fi
MONGO_PID=$(cat "$STACK_DIR/mongo-$MONGO_PORT.pid" 2>/dev/null || echo '?')

# ------------------------------------------------------------------ DuckDB
duckdb_ok() {
  # The CLI wheel installs its binary as a data file, without the execute bit.
  [[ -f "$VENV/bin/duckdb" && ! -x "$VENV/bin/duckdb" ]] && chmod +x "$VENV/bin/duckdb"
  [[ -x "$VENV/bin/duckdb" ]] && "$VENV/bin/python" - "$DUCKDB_VERSION" <<'PY' >/dev/null 2>&1
import sys, duckdb, importlib.util
assert duckdb.__version__ == sys.argv[1]
assert importlib.util.find_spec("duckdb_ext") is not None
PY
}
if ! duckdb_ok; then
  log "pip install ${DUCKDB_SPECS[*]} (into $VENV)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${DUCKDB_SPECS[@]}"
  duckdb_ok || die "pip did not install DuckDB $DUCKDB_VERSION, its CLI and its httpfs extension"
fi
# DuckDB loads extensions from <dir>/v<version>/<platform>/; the PyPI package ships that tree.
DUCKDB_EXTENSIONS=$("$VENV/bin/python" -c 'import duckdb_ext, os; print(os.path.join(list(duckdb_ext.__path__)[0], "extensions"))')

# ----------------------------------------------------------------- pyarrow
pyarrow_ok() {
  "$VENV/bin/python" - "$PYARROW_VERSION" <<'PY' >/dev/null 2>&1
import sys, pyarrow, pyarrow.parquet
assert pyarrow.__version__ == sys.argv[1]
PY
}
if ! pyarrow_ok; then
  log "pip install pyarrow==$PYARROW_VERSION (into $VENV)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pyarrow==$PYARROW_VERSION"
  pyarrow_ok || die "pip did not install pyarrow $PYARROW_VERSION"
fi

# ------------------------------------------------------------ env + ignores
ENV_FILE="$STACK_DIR/env"
cat >"$ENV_FILE.tmp" <<EOF
export EDLAKE_TEST_MYSQL_URL=mysql://edlake_test:edlake_test@$MYSQL_HOST:$MYSQL_PORT
export EDLAKE_DEMO_MYSQL_URL=mysql://openedx:openedx@$MYSQL_HOST:$MYSQL_PORT/openedx
export EDLAKE_TEST_S3_ENDPOINT=http://127.0.0.1:$MOTO_PORT
export EDLAKE_TEST_MONGO_URL=mongodb://127.0.0.1:$MONGO_PORT/?directConnection=true
export EDLAKE_TEST_PYTHON=$VENV/bin/python
export EDLAKE_TEST_DUCKDB=$VENV/bin/duckdb
export EDLAKE_TEST_DUCKDB_EXTENSIONS=$DUCKDB_EXTENSIONS
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
EOF
mv -f "$ENV_FILE.tmp" "$ENV_FILE"

GITIGNORE="$REPO/.gitignore"
touch "$GITIGNORE"
for entry in /target /datalake .venv/ .stack/; do
  if ! grep -qxF -- "$entry" "$GITIGNORE"; then
    # keep the file newline-terminated before appending
    [[ -s "$GITIGNORE" && -n $(tail -c1 "$GITIGNORE") ]] && echo >>"$GITIGNORE"
    echo "$entry" >>"$GITIGNORE"
  fi
done

# ------------------------------------------------------------------ summary
cat <<EOF
edlake stack is up
  MariaDB $MARIADB_VERSION  $MYSQL_HOST:$MYSQL_PORT  (pid $MARIADB_PID, log $MARIADB_LOG)
    demo DB : mysql://openedx:openedx@$MYSQL_HOST:$MYSQL_PORT/openedx    (mariadb -h$MYSQL_HOST -uopenedx -popenedx openedx)
    tests   : mysql://edlake_test:edlake_test@$MYSQL_HOST:$MYSQL_PORT   (all privileges, may create databases)
    root    : mariadb -uroot   (as root, over the Unix socket /run/mysqld/mysqld.sock)
  moto     http://127.0.0.1:$MOTO_PORT  (S3/Glue/Athena, dashboard /moto-api/, reset: POST /moto-api/reset;
           pid $MOTO_PID, log $MOTO_LOG; credentials test/test, region us-east-1)
  mongo    mongodb://127.0.0.1:$MONGO_PORT  (wire-compatible test server: mockupdb + mongomock, in memory;
           pid $MONGO_PID, log $MONGO_LOG; seed: .venv/bin/python scripts/seed_mongo.py)
  duckdb   DuckDB $DUCKDB_VERSION: $VENV/bin/duckdb (CLI), $VENV/bin/python (import duckdb); httpfs in $DUCKDB_EXTENSIONS
  pyarrow  $PYARROW_VERSION: $VENV/bin/python (scripts/parquet_read.py reads the Parquet lake)
  env file $ENV_FILE   ->  . $ENV_FILE
  seed     python3 $REPO/scripts/seed.py   (synthetic Open edX data into openedx)
  stop     kill $MOTO_PID (moto); kill $MONGO_PID (mongo); mariadb-admin -uroot shutdown (MariaDB)
EOF
