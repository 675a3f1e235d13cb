#!/usr/bin/env bash
# Querying the lake with DuckDB, against asking MySQL, on one machine in one run, on the
# same data:
#   1. seed BENCH_ROWS (default 1,000,000) skewed courseware_studentmodule rows (as bench.sh);
#   2. `edlake extract --full` of the course-partitioned table to a local lake, with the
#      DuckDB catalog (<lake>/openedx.duckdb.sql);
#   3. one query, a course team's average grade per course:
#        SELECT course_id, avg(grade), count(*) FROM … GROUP BY 1
#      (a) through the typed view, in DuckDB's CLI (`-init <catalog>`): the files read with
#          the dialect's settings and every column decoded and typed;
#      (b) on MySQL, `mariadb --batch --quick`;
#      (c) over DuckDB's plain `read_csv` of the files (its own sniffing, NULL as `\N`, no
#          decoding): what the view's decoding costs on top of reading;
#      (d) through the view again after BENCH_DELTAS (default 3) incremental runs, each after
#          BENCH_CHANGED (default 1,000) rows changed, left delta files for the view's
#          one-row-per-key window to merge.
# Wall time and peak RSS come from /usr/bin/time: each figure is the median of BENCH_REPEAT
# (default 3) runs after one warm-up run (a warm page cache, a warm buffer pool). DuckDB
# starts a process and reads the catalog in every run, as a user's query does.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

ROWS=${BENCH_ROWS:-1000000}
CHANGED=${BENCH_CHANGED:-1000}
DELTAS=${BENCH_DELTAS:-3}
REPEAT=${BENCH_REPEAT:-3}
DB=openedx
DB_URL="mysql://openedx:openedx@127.0.0.1:3306/$DB"
DUCKDB=.venv/bin/duckdb
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lake=$work/lake
catalog=$lake/openedx.duckdb.sql

write_contenders() {
  local env="EDLAKE_MYSQL__PASSWORD=openedx EDLAKE_DATALAKE__URL=$lake EDLAKE_LOG=warn EDLAKE_CATALOG__DUCKDB=true"
  local extract="./target/release/edlake --config config/edlake.toml extract --table courseware_studentmodule"
  # Untimed: the lake, then CHANGED random rows changed before each incremental run.
  cat > "$work/extract_full" <<SH
#!/bin/sh
rm -rf "$lake"
$env exec $extract --full > "$work/edlake.out"
SH
  cat > "$work/extract_incremental" <<SH
#!/bin/sh
$env exec $extract > "$work/edlake.out"
SH
  cat > "$work/change_rows" <<SH
#!/bin/sh
exec mariadb -h127.0.0.1 -uopenedx -popenedx $DB -e "UPDATE courseware_studentmodule
  SET grade = RAND(), modified = UTC_TIMESTAMP(6) ORDER BY RAND() LIMIT $CHANGED"
SH
  # The contenders, each printing its answer to a file.
  cat > "$work/view" <<SH
#!/bin/sh
exec $DUCKDB -csv -init "$catalog" -c "SELECT course_id, avg(grade), count(*)
  FROM openedx_table_courseware_studentmodule GROUP BY 1" > "$work/view.csv"
SH
  cat > "$work/mysql" <<SH
#!/bin/sh
exec mariadb --batch --quick -h127.0.0.1 -uopenedx -popenedx $DB -e "SELECT course_id, AVG(grade), COUNT(*)
  FROM courseware_studentmodule GROUP BY 1" > "$work/mysql.tsv"
SH
  cat > "$work/read_csv" <<SH
#!/bin/sh
exec $DUCKDB -csv -c "SELECT course_id, avg(grade), count(*)
  FROM read_csv('$lake/openedx/courseware_studentmodule/**/*.csv', hive_partitioning = true, nullstr = '\\\\\\\\N')
  GROUP BY 1" > "$work/read_csv.csv"
SH
  chmod +x "$work"/*
}

report() { # label wall rss base_wall
  awk -v l="$1" -v w="$2" -v r="$3" -v base="$4" \
    'BEGIN { printf "%-52s %8.2f s %9.1f MiB %7.2fx\n", l, w, r / 1024, w / base }'
}

# Rows and courses of an answer (CSV or TSV with a header; count in the last column), and
# whether it is MySQL's answer: the same courses and counts, averages to 9 decimals (the
# sums run in another order). Course ids hold no comma, tab or quote; DuckDB's CSV quotes
# the non-ASCII ones.
answer_totals() {
  tail -n +2 "$1" | awk -F'[,\t]' '{ rows += $NF; courses++ } END { printf "%d rows in %d courses", rows, courses }'
}
normalized() {
  tail -n +2 "$1" | awk -F'[,\t]' '{ gsub(/"/, "", $1); printf "%s %d %.9f\n", $1, $NF, ($2 == "" || $2 == "NULL") ? -1 : $2 }' | LC_ALL=C sort
}
same_as_mysql() {
  if cmp -s <(normalized "$1") <(normalized "$work/mysql.tsv"); then echo "MySQL's answer"; else echo "NOT MySQL's answer"; fi
}

seed "$ROWS"
write_contenders
echo "table: $(mariadb -h127.0.0.1 -uopenedx -popenedx -N -e "SELECT COUNT(*), COUNT(DISTINCT course_id), MAX(c) FROM (SELECT course_id, COUNT(*) OVER (PARTITION BY course_id) c FROM $DB.courseware_studentmodule) t") (rows, courses, rows in the biggest course)"
"$work/extract_full"
echo "lake: $(du -sh "$lake/openedx/courseware_studentmodule" | cut -f1) in $(find "$lake" -name '*.csv' | wc -l) files; DuckDB $($DUCKDB -noheader -list -c 'SELECT version()')"

for contender in view mysql read_csv; do "$work/$contender"; done # warm-up
read -r view_wall view_rss < <(measure view)
read -r mysql_wall mysql_rss < <(measure mysql)
read -r csv_wall csv_rss < <(measure read_csv)
view_answer="$(answer_totals "$work/view.csv"), $(same_as_mysql "$work/view.csv")"
mysql_answer=$(answer_totals "$work/mysql.tsv")
csv_answer="$(answer_totals "$work/read_csv.csv"), $(same_as_mysql "$work/read_csv.csv")"

for _ in $(seq "$DELTAS"); do "$work/change_rows"; "$work/extract_incremental"; done
deltas=$(find "$lake" -name '*.delta-*.csv' | wc -l)
delta_rows=$(find "$lake" -name '*.delta-*.csv' -exec tail -q -n +2 {} + | wc -l)
"$work/view" # warm-up
read -r delta_wall delta_rss < <(measure view)
"$work/mysql"
delta_answer="$(answer_totals "$work/view.csv"), $(same_as_mysql "$work/view.csv")"

echo
echo "== SELECT course_id, avg(grade), count(*) … GROUP BY 1 on $ROWS rows, median of $REPEAT runs"
echo "   (ratio: against MySQL)"
report "(a) DuckDB, the typed view (-init catalog)" "$view_wall" "$view_rss" "$mysql_wall"
report "(b) MySQL, mariadb --batch --quick" "$mysql_wall" "$mysql_rss" "$mysql_wall"
report "(c) DuckDB, plain read_csv of the files" "$csv_wall" "$csv_rss" "$mysql_wall"
report "(d) (a) after $DELTAS incremental runs ($deltas delta files)" "$delta_wall" "$delta_rss" "$mysql_wall"
echo
echo "answers: (a) $view_answer; (b) $mysql_answer; (c) $csv_answer"
echo "         (d) $delta_answer (the delta files hold $delta_rows row versions)"
