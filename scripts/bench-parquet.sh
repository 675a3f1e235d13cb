#!/usr/bin/env bash
# Issue #18's benchmark: the CSV lake against the Parquet lake, on one machine in one run,
# on the same data:
#   1. seed BENCH_ROWS (default 1,000,000) skewed courseware_studentmodule rows over
#      BENCH_COURSES (default 400) courses (one course holds about half the rows);
#   2. `mariadb --batch --quick` of the same columns to a file (the raw scan);
#   3. `edlake extract --full` of the course-partitioned table to a local lake in CSV,
#      then in Parquet: wall time, peak RSS, lake bytes and files;
#   4. a course team's query through each lake's DuckDB catalog,
#        SELECT course_id, avg(grade) FROM openedx_table_courseware_studentmodule GROUP BY course_id
#      wall time and peak RSS, and the bytes the DuckDB process read: `rchar` (bytes
#      returned by read syscalls, whether from disk or the page cache) and `read_bytes`
#      (bytes fetched from the block device) of /proc/<pid>/io, taken in one more, untimed
#      run (a child's counters are added to its parent's when it is reaped, so a
#      wrapper's own /proc/self/io before and after gives the child's);
#   5. with BENCH_GROW=1, the table grown BENCH_GROW_FACTOR (default 10) times and the
#      raw scan and the Parquet extract measured once more (peak RSS must stay flat).
# Wall time and peak RSS come from /usr/bin/time. Each measurement is the median of
# BENCH_REPEAT (default 3) runs after one warm-up, so every contender reads a warm buffer
# pool and page cache.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

ROWS=${BENCH_ROWS:-1000000}
COURSES=${BENCH_COURSES:-400}
REPEAT=${BENCH_REPEAT:-3}
GROW_FACTOR=${BENCH_GROW_FACTOR:-10}
DB=openedx
DB_URL="mysql://openedx:openedx@127.0.0.1:3306/$DB"
DUCKDB=.venv/bin/duckdb
QUERY="SELECT course_id, avg(grade) FROM openedx_table_courseware_studentmodule GROUP BY course_id"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each contender is a small script, so /usr/bin/time measures exactly that process tree.
write_contenders() {
  write_raw_scan "$work"
  local extract="./target/release/edlake --config config/edlake.toml extract --table courseware_studentmodule --full"
  for format in csv parquet; do
    cat > "$work/extract_$format" <<SH
#!/bin/sh
rm -rf "$work/$format"
EDLAKE_MYSQL__PASSWORD=openedx EDLAKE_DATALAKE__URL=$work/$format EDLAKE_DATALAKE__FORMAT=$format \
  EDLAKE_LOG=warn exec $extract > "$work/extract_$format.out"
SH
    cat > "$work/query_$format" <<SH
#!/bin/sh
exec $DUCKDB -csv -init "$work/$format/openedx.duckdb.sql" -c "$QUERY" > "$work/query_$format.csv"
SH
  done
  # Runs its arguments and prints the rchar and read_bytes they cost (see the top).
  cat > "$work/io.py" <<'PY'
import subprocess, sys
def io():
    with open("/proc/self/io") as f:
        return {k: int(v) for k, v in (line.split(":") for line in f)}
before = io()
subprocess.run(sys.argv[1:], check=True)
after = io()
print(after["rchar"] - before["rchar"], after["read_bytes"] - before["read_bytes"])
PY
  chmod +x "$work"/raw_scan "$work"/extract_* "$work"/query_*
}

report() { # label wall rss base_wall
  awk -v l="$1" -v w="$2" -v r="$3" -v base="$4" \
    'BEGIN { printf "%-44s %8.2f s %9.1f MiB %7.2fx\n", l, w, r / 1024, w / base }'
}

# Bytes of the lake's table files (not the catalog), and how many files.
lake_bytes() { find "$work/$1/openedx/courseware_studentmodule" -name "*.$1" -printf '%s\n' | awk '{ s += $1 } END { print s }'; }
lake_files() { find "$work/$1/openedx/courseware_studentmodule" -name "*.$1" | wc -l; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# An answer's courses, rows sorted, averages to 9 decimals (the sums run in another order).
normalized() {
  tail -n +2 "$1" | awk -F, '{ avg = $NF; $NF = ""; printf "%s %.9f\n", $0, (avg == "") ? -1 : avg }' | LC_ALL=C sort
}

seed "$ROWS" "$COURSES"
write_contenders
echo "table: $(mariadb -h127.0.0.1 -uopenedx -popenedx -N -e "SELECT COUNT(*), COUNT(DISTINCT course_id), MAX(c) FROM (SELECT course_id, COUNT(*) OVER (PARTITION BY course_id) c FROM $DB.courseware_studentmodule) t") (rows, courses, rows in the biggest course)"
echo "DuckDB $($DUCKDB -noheader -list -c 'SELECT version()'); load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$work/raw_scan" # warm-up
read -r raw_wall raw_rss < <(measure raw_scan)
raw_bytes=$(stat -c %s "$work/raw.tsv")
rm -f "$work/raw.tsv"
read -r csv_wall csv_rss < <(measure extract_csv)
read -r pq_wall pq_rss < <(measure extract_parquet)
csv_bytes=$(lake_bytes csv)
pq_bytes=$(lake_bytes parquet)

for format in csv parquet; do "$work/query_$format"; done # warm-up
read -r qcsv_wall qcsv_rss < <(measure query_csv)
read -r qpq_wall qpq_rss < <(measure query_parquet)
read -r qcsv_rchar qcsv_read < <(python3 "$work/io.py" "$work/query_csv")
read -r qpq_rchar qpq_read < <(python3 "$work/io.py" "$work/query_parquet")
if cmp -s <(normalized "$work/query_csv.csv") <(normalized "$work/query_parquet.csv"); then
  same="the same answer"
else
  same="DIFFERENT answers"
fi

echo
echo "== $ROWS rows over $COURSES courses, median of $REPEAT runs (ratio: against the raw scan)"
report "mariadb --batch --quick > file" "$raw_wall" "$raw_rss" "$raw_wall"
report "edlake extract --full -> local CSV lake" "$csv_wall" "$csv_rss" "$raw_wall"
report "edlake extract --full -> local Parquet lake" "$pq_wall" "$pq_rss" "$raw_wall"
echo
echo "== lake bytes (raw scan output: $(mib "$raw_bytes"))"
echo "CSV:     $(mib "$csv_bytes") in $(lake_files csv) files"
echo "Parquet: $(mib "$pq_bytes") in $(lake_files parquet) files ($(awk -v c="$csv_bytes" -v p="$pq_bytes" 'BEGIN { printf "%.1f", c / p }')x smaller)"
echo
echo "== DuckDB: $QUERY"
echo "   median of $REPEAT runs (ratio: against the CSV lake); bytes read from /proc/<pid>/io, one run"
report "DuckDB, the view over the CSV lake" "$qcsv_wall" "$qcsv_rss" "$qcsv_wall"
report "DuckDB, the view over the Parquet lake" "$qpq_wall" "$qpq_rss" "$qcsv_wall"
echo "rchar:      CSV $(mib "$qcsv_rchar"), Parquet $(mib "$qpq_rchar") ($(awk -v c="$qcsv_rchar" -v p="$qpq_rchar" 'BEGIN { printf "%.1f", c / p }')x fewer)"
echo "read_bytes: CSV $(mib "$qcsv_read"), Parquet $(mib "$qpq_read") (from the disk; 0 when the page cache held the files)"
echo "answers: $same ($(tail -n +2 "$work/query_parquet.csv" | wc -l) courses)"

if [ "${BENCH_GROW:-0}" = 1 ]; then
  big=$((ROWS * GROW_FACTOR))
  rm -rf "$work/csv" "$work/parquet"
  seed "$big" "$COURSES"
  "$work/raw_scan"
  read -r big_raw_wall big_raw_rss < <(REPEAT=1 measure raw_scan)
  rm -f "$work/raw.tsv"
  read -r big_wall big_rss < <(REPEAT=1 measure extract_parquet)
  echo
  echo "== $big rows (${GROW_FACTOR}x) over $COURSES courses, one run"
  report "mariadb --batch --quick > file" "$big_raw_wall" "$big_raw_rss" "$big_raw_wall"
  report "edlake extract --full -> local Parquet lake" "$big_wall" "$big_rss" "$big_raw_wall"
  echo "Parquet lake: $(mib "$(lake_bytes parquet)") in $(lake_files parquet) files"
fi
