#!/usr/bin/env bash
# Issue #2's benchmark, on one machine in one run, on the same data:
#   1. seed BENCH_ROWS (default 1,000,000) skewed courseware_studentmodule rows;
#   2. `mariadb --batch --quick` of the same columns to a file (the raw scan);
#   3. `edlake extract` of the course-partitioned table to a local lake;
#   4. the same to S3 on the local moto server;
#   5. with BENCH_GROW=1, the table grown 10x and the local extract measured again
#      (peak RSS must stay flat).
# Wall time and peak RSS come from /usr/bin/time. Each measurement is the median of
# BENCH_REPEAT (default 3) runs after one warm-up scan, so every contender reads a warm
# buffer pool.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

ROWS=${BENCH_ROWS:-1000000}
REPEAT=${BENCH_REPEAT:-3}
DB=openedx
DB_URL="mysql://openedx:openedx@127.0.0.1:3306/$DB"
BUCKET=edlake-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

row_count() {
  mariadb -h127.0.0.1 -uopenedx -popenedx -N -e "SELECT COUNT(*) FROM $DB.courseware_studentmodule" 2>/dev/null || echo 0
}

# (Re)seeds unless the table already holds exactly that many rows of this generator.
seed() {
  if [ "$(row_count)" = "$1" ] && [ "${BENCH_RESEED:-0}" != 1 ]; then
    echo "courseware_studentmodule already holds $1 rows (BENCH_RESEED=1 to reseed)" >&2
    return
  fi
  echo "seeding $1 courseware_studentmodule rows..." >&2
  python3 scripts/seed.py --mysql-url "$DB_URL" --studentmodule-rows "$1" --only-studentmodule --quiet
}

# The columns edlake reads, in its order: data columns, then the partition column.
columns() {
  mariadb -h127.0.0.1 -uopenedx -popenedx -N -e "
    SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY COLUMN_NAME = 'course_id', ORDINAL_POSITION)
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$DB' AND TABLE_NAME = 'courseware_studentmodule'"
}

# Each contender is a small script, so /usr/bin/time measures exactly that process tree.
write_contenders() {
  cat > "$work/raw_scan" <<SH
#!/bin/sh
exec mariadb --batch --quick -h127.0.0.1 -uopenedx -popenedx $DB \
  -e "SELECT $(columns) FROM courseware_studentmodule" > "$work/raw.tsv"
SH
  cat > "$work/edlake_local" <<SH
#!/bin/sh
rm -rf "$work/lake"
EDLAKE_MYSQL__PASSWORD=openedx EDLAKE_DATALAKE__URL="$work/lake" EDLAKE_LOG=warn \
  exec ./target/release/edlake --config config/edlake.toml extract --table courseware_studentmodule > "$work/edlake.out"
SH
  cat > "$work/edlake_s3" <<SH
#!/bin/sh
EDLAKE_MYSQL__PASSWORD=openedx EDLAKE_DATALAKE__URL="s3://$BUCKET" \
  EDLAKE_DATALAKE__ENDPOINT="$EDLAKE_TEST_S3_ENDPOINT" EDLAKE_DATALAKE__SPOOL_DIR="$work/spool" EDLAKE_LOG=warn \
  EDLAKE_CATALOG__ENDPOINT="$EDLAKE_TEST_S3_ENDPOINT" EDLAKE_CATALOG__DATABASE=edlake_bench \
  exec ./target/release/edlake --config config/edlake.toml extract --table courseware_studentmodule > "$work/edlake.out"
SH
  chmod +x "$work/raw_scan" "$work/edlake_local" "$work/edlake_s3"
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
