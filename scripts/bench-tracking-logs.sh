#!/usr/bin/env bash
# Issue #5's benchmark: shipping BENCH_MB (default 1000) MB of tracking log against
# `gzip -6 -c` of the same file, both on this machine, each the median of BENCH_REPEAT
# (default 3) runs:
#   1. gzip -6 -c FILE > /dev/null;
#   2. `edlake logs ship` of the file (as a rotated file) into a fresh local lake;
#   3. the same into S3 on the local moto server.
# Wall time and peak RSS come from /usr/bin/time. Targets: ship <= 1.5x gzip, RSS <= 64 MB.
# The generated log is kept in target/bench/ between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

MB=${BENCH_MB:-1000}
REPEAT=${BENCH_REPEAT:-3}
log=target/bench/tracking-${MB}MB.log
if [ ! -s "$log" ]; then
  echo "generating $MB MB of tracking log in $log (about 100 s per GB)..." >&2
  mkdir -p target/bench
  python3 scripts/gen_tracking_log.py "$MB" "$log.tmp"
  mv "$log.tmp" "$log"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/logs"
# A rotated file next to a live one that is never due.
ln "$log" "$work/logs/tracking.log-20240305-1709596800" 2>/dev/null \
  || cp "$log" "$work/logs/tracking.log-20240305-1709596800"
touch -d '1 hour ago' "$work/logs/tracking.log-20240305-1709596800"
bucket=edlake-bench-tracking
.venv/bin/python - "$EDLAKE_TEST_S3_ENDPOINT" "$bucket" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
try:
    s3.create_bucket(Bucket=sys.argv[2])
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
PY

config() {
  cat <<TOML
lms_host = "lms.example.com"
[datalake]
url = "$1"
endpoint = "$EDLAKE_TEST_S3_ENDPOINT"
[tracking_logs]
path = "$work/logs/tracking.log"
rotate_bytes = "1GiB"
rotate_age = "1d"
grace = "0s"
keep = "7d"
state_dir = "$work/state"
[catalog]
enabled = false
TOML
}
config "$work/lake" > "$work/local.toml"
config "s3://$bucket" > "$work/s3.toml"

cat > "$work/gzip" <<SH
#!/bin/sh
exec gzip -6 -c "$log" > /dev/null
SH
for target in local s3; do
  cat > "$work/ship-$target" <<SH
#!/bin/sh
rm -rf "$work/state" "$work/lake"
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 EDLAKE_LOG=error \
  exec ./target/release/edlake --config "$work/$target.toml" logs ship > "$work/out-$target"
SH
done
chmod +x "$work"/gzip "$work"/ship-*

read -r gzip_wall gzip_rss <<< "$(measure gzip)"
read -r local_wall local_rss <<< "$(measure ship-local)"
out=$(du -sb "$work/lake" | cut -f1)
read -r s3_wall s3_rss <<< "$(measure ship-s3)"
grep -q "1 shipped" "$work/out-local" || { cat "$work/out-local"; exit 1; }
grep -q "1 shipped" "$work/out-s3" || { cat "$work/out-s3"; exit 1; }
size=$(stat -c %s "$log")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "input: $((size / 1000000)) MB; lake: $((out / 1000000)) MB of gzip JSON lines"
printf '%-22s %8s %10s %8s\n' "" "wall s" "peak RSS" "ratio"
printf '%-22s %8s %7s MB %8s\n' "gzip -6 -c" "$gzip_wall" "$((gzip_rss / 1024))" "1.00"
printf '%-22s %8s %7s MB %8s\n' "logs ship → local" "$local_wall" "$((local_rss / 1024))" "$(ratio "$local_wall" "$gzip_wall")"
printf '%-22s %8s %7s MB %8s\n' "logs ship → S3 (moto)" "$s3_wall" "$((s3_rss / 1024))" "$(ratio "$s3_wall" "$gzip_wall")"
