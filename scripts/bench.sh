#!/usr/bin/env bash
# Issue #2's benchmark, on one machine in one run, on the same data:
#   1. seed BENCH_ROWS (default 1,000,000) skewed courseware_studentmodule rows;
#   2. `mariadb --batch --quick` of the same columns to a file (the raw scan);
#   3. `edlake extract` of the course-partitioned table to a local lake;
#   4. the same to S3 on the local moto server;
#   5. incremental extraction (issue #7), local and S3: a full extract, then an
#      incremental one after BENCH_CHANGED (default 1,000) rows changed, then one with no
#      change;
#   6. with BENCH_GROW=1, the table grown 10x and the local extract measured again
#      (peak RSS must stay flat).
# Wall time and peak RSS come from /usr/bin/time. Each measurement is the median of
# BENCH_REPEAT (default 3) runs after one warm-up scan, so every contender reads a warm
# buffer pool.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

ROWS=${BENCH_ROWS:-1000000}
CHANGED=${BENCH_CHANGED:-1000}
REPEAT=${BENCH_REPEAT:-3}
DB=openedx
DB_URL="mysql://openedx:openedx@127.0.0.1:3306/$DB"
BUCKET=edlake-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each contender is a small script, so /usr/bin/time measures exactly that process tree.
write_contenders() {
  write_raw_scan "$work"
  local local_env="EDLAKE_MYSQL__PASSWORD=openedx EDLAKE_DATALAKE__URL=$work/lake EDLAKE_LOG=warn"
  local s3_env="EDLAKE_MYSQL__PASSWORD=openedx EDLAKE_DATALAKE__URL=s3://$BUCKET \
  EDLAKE_DATALAKE__ENDPOINT=$EDLAKE_TEST_S3_ENDPOINT EDLAKE_DATALAKE__SPOOL_DIR=$work/spool EDLAKE_LOG=warn \
  EDLAKE_CATALOG__ENDPOINT=$EDLAKE_TEST_S3_ENDPOINT EDLAKE_CATALOG__DATABASE=edlake_bench"
  local extract="./target/release/edlake --config config/edlake.toml extract --table courseware_studentmodule"
  cat > "$work/edlake_local" <<SH
#!/bin/sh
rm -rf "$work/lake"
$local_env exec $extract --full > "$work/edlake.out"
SH
  cat > "$work/edlake_s3" <<SH
#!/bin/sh
$s3_env exec $extract --full > "$work/edlake.out"
SH
  # Incremental runs continue the lake the last full run left.
  cat > "$work/edlake_local_incremental" <<SH
#!/bin/sh
$local_env exec $extract > "$work/edlake.out"
SH
  cat > "$work/edlake_s3_incremental" <<SH
#!/bin/sh
$s3_env exec $extract > "$work/edlake.out"
SH
  # Untimed, before each incremental run: CHANGED random rows get new state and a new
  # modified time, as learners answering problems do.
  cat > "$work/change_rows" <<SH
#!/bin/sh
exec mariadb -h127.0.0.1 -uopenedx -popenedx $DB -e "UPDATE courseware_studentmodule
  SET grade = RAND(), state = CONCAT('{\\"changed\\": ', FLOOR(RAND() * 1000), '}'), modified = UTC_TIMESTAMP(6)
  ORDER BY RAND() LIMIT $CHANGED"
SH
  chmod +x "$work"/raw_scan "$work"/edlake_* "$work/change_rows"
}

make_bucket() {
  .venv/bin/python - "$EDLAKE_TEST_S3_ENDPOINT" "$BUCKET" <<'PY'
import sys, boto3
s3 = boto3.resource("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                    aws_access_key_id="test", aws_secret_access_key="test")
b = s3.Bucket(sys.argv[2])
if b.creation_date is None:
    b.create()
b.objects.all().delete()
PY
}


report() { # label wall rss raw_wall
  awk -v l="$1" -v w="$2" -v r="$3" -v base="$4" \
    'BEGIN { printf "%-34s %8.2f s %9.1f MiB %7.2fx\n", l, w, r / 1024, w / base }'
}

seed "$ROWS"
write_contenders
echo "table: $(mariadb -h127.0.0.1 -uopenedx -popenedx -N -e "SELECT COUNT(*), COUNT(DISTINCT course_id), MAX(c) FROM (SELECT course_id, COUNT(*) OVER (PARTITION BY course_id) c FROM $DB.courseware_studentmodule) t") (rows, courses, rows in the biggest course)"
"$work/raw_scan" # warm-up
read -r raw_wall raw_rss < <(measure raw_scan)
echo "raw scan output: $(du -h "$work/raw.tsv" | cut -f1)"
read -r local_wall local_rss < <(measure edlake_local)
echo "local lake: $(du -sh "$work/lake" | cut -f1), $(find "$work/lake" -name '*.csv' | wc -l) files"
make_bucket
read -r s3_wall s3_rss < <(measure edlake_s3)

echo
echo "== $ROWS rows, median of $REPEAT runs (ratio: against the raw scan)"
report "mariadb --batch --quick > file" "$raw_wall" "$raw_rss" "$raw_wall"
report "edlake extract -> local lake" "$local_wall" "$local_rss" "$raw_wall"
report "edlake extract -> S3 (moto)" "$s3_wall" "$s3_rss" "$raw_wall"

# Incremental (#7): the S3 lake holds the last full run; the local one is made again.
"$work/edlake_local"
read -r inc_wall inc_rss < <(measure edlake_local_incremental change_rows)
inc_rows=$(awk '$1 == "courseware_studentmodule" { print $2 }' "$work/edlake.out")
inc_files=$(find "$work/lake" -name '*.delta-*.csv' | wc -l)
read -r none_wall none_rss < <(measure edlake_local_incremental)
none_rows=$(awk '$1 == "courseware_studentmodule" { print $2 }' "$work/edlake.out")
read -r s3_inc_wall s3_inc_rss < <(measure edlake_s3_incremental change_rows)
read -r s3_none_wall s3_none_rss < <(measure edlake_s3_incremental)
echo
echo "== incremental: $CHANGED rows changed before each run (last one wrote $inc_rows rows; $inc_files delta files after $REPEAT runs); no change: $none_rows rows"
echo "   (ratio: against the full extract to the same lake)"
report "full extract -> local lake" "$local_wall" "$local_rss" "$local_wall"
report "incremental, $CHANGED changed -> local" "$inc_wall" "$inc_rss" "$local_wall"
report "incremental, no change -> local" "$none_wall" "$none_rss" "$local_wall"
report "full extract -> S3 (moto)" "$s3_wall" "$s3_rss" "$s3_wall"
report "incremental, $CHANGED changed -> S3" "$s3_inc_wall" "$s3_inc_rss" "$s3_wall"
report "incremental, no change -> S3" "$s3_none_wall" "$s3_none_rss" "$s3_wall"

if [ "${BENCH_GROW:-0}" = 1 ]; then
  seed $((ROWS * 10))
  "$work/raw_scan"
  read -r big_raw_wall big_raw_rss < <(REPEAT=1 measure raw_scan)
  read -r big_wall big_rss < <(REPEAT=1 measure edlake_local)
  echo
  echo "== $((ROWS * 10)) rows (10x), one run"
  report "mariadb --batch --quick > file" "$big_raw_wall" "$big_raw_rss" "$big_raw_wall"
  report "edlake extract -> local lake" "$big_wall" "$big_rss" "$big_raw_wall"
fi
