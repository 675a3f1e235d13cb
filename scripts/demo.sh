#!/usr/bin/env bash
# The demo: local stack up (MariaDB, moto, the Mongo wire test server), a synthetic Open edX
# database and its course structures seeded, then
# `edlake extract` with the shipped config/edlake.toml into ./datalake, a tracking log
# written and shipped with `edlake logs ship`, a look at what was written, and a course
# team's questions (scripts/lake-questions.sql) answered by DuckDB from the lake, through the
# catalog edlake keeps in datalake/openedx.duckdb.sql. Safe to run again: it reseeds and
# re-extracts (the tracking events of every run stay in the lake, as an LMS's would).
# EDLAKE_DATALAKE__FORMAT=parquet runs it with a typed Parquet lake (docs/parquet.md)
# instead of the CSV dialect.
set -euo pipefail
cd "$(dirname "$0")/.."

# The extension of the tables' files: edlake reads the same variable.
ext=${EDLAKE_DATALAKE__FORMAT:-csv}
case $ext in
  csv | parquet) ;;
  *) echo "EDLAKE_DATALAKE__FORMAT must be csv or parquet, not '$ext'" >&2; exit 2 ;;
esac

scripts/stack-up.sh
echo
echo "== Seeding a synthetic Open edX database (openedx on 127.0.0.1:3306)"
python3 scripts/seed.py --mysql-url mysql://openedx:openedx@127.0.0.1:3306/openedx \
  --studentmodule-rows "${DEMO_STUDENTMODULE_ROWS:-200000}"

.venv/bin/python scripts/seed_mongo.py --world --quiet \
  --url "$(. .stack/env && echo "$EDLAKE_TEST_MONGO_URL")"

echo
echo "== Building edlake (release)"
cargo build --release --quiet

echo
echo "== edlake check"
export EDLAKE_MYSQL__PASSWORD=openedx
export EDLAKE_DATALAKE__URL=./datalake
./target/release/edlake --config config/edlake.toml check

echo
echo "== edlake extract --full (config/edlake.toml, lake in ./datalake, $ext files; --full: the database was just reseeded)"
./target/release/edlake --config config/edlake.toml extract --full

echo
echo "== Learners answer 25 problems; edlake extract reads only those rows (incremental)"
mariadb -h127.0.0.1 -uopenedx -popenedx openedx -e "UPDATE courseware_studentmodule
  SET grade = 1, state = '{\"attempts\": 2}', modified = UTC_TIMESTAMP(6) ORDER BY id DESC LIMIT 25"
./target/release/edlake --config config/edlake.toml extract --table courseware_studentmodule
find datalake/openedx/courseware_studentmodule -name "*.delta-*.$ext" | sort | sed -n '1,3s/^/  /p'

echo
echo "== edlake logs ship (an LMS-like writer fills ./demo-logs/tracking.log first)"
mkdir -p demo-logs
python3 scripts/tracking_writer.py demo-logs/tracking.log --writer demo --count 2000 \
  --rate 100000 --start 2024-03-05T23:59:00+00:00 --step-ms 50 >/dev/null
EDLAKE_TRACKING_LOGS__GRACE=1s ./target/release/edlake --config config/edlake.toml logs ship

echo
echo "== What was written"
echo "Tables:"
find datalake -mindepth 2 -maxdepth 2 -type d | sort | sed 's/^/  /'
echo "courseware_studentmodule partitions (one per course, Hive-escaped course ids):"
find datalake/openedx/courseware_studentmodule -name "*.$ext" | sort | sed -n '1,8s/^/  /p'
echo "  … $(find datalake/openedx/courseware_studentmodule -name "*.$ext" | wc -l) files in all, $(du -sh datalake | cut -f1) in the lake"
echo "course_structures: one partition per course (an outline row per block):"
find datalake/openedx/course_structures -name "*.$ext" | sort | sed -n '1,3s/^/  /p'
if [ "$ext" = parquet ]; then
  echo "The columns of auth_user.parquet, typed (no password column; lms is in the path), as DuckDB reads them:"
  .venv/bin/duckdb -c "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM
    read_parquet('datalake/openedx/auth_user/lms=lms.example.com/auth_user.parquet', hive_partitioning = false))" |
    sed 's/^/  /'
else
  echo "First lines of auth_user.csv (no password column; NULL is \\\\N, '' is \"\"):"
  head -4 datalake/openedx/auth_user/lms=lms.example.com/auth_user.csv | cut -c1-160 | sed 's/^/  /'
fi
echo "tracking_logs: gzip JSON lines by event day (the demo events straddle midnight):"
find datalake/openedx/tracking_logs -name '*.gz' | sort | sed 's/^/  /'

echo
echo "== Questions of the lake (scripts/lake-questions.sql), answered by DuckDB through the views in"
echo "   datalake/openedx.duckdb.sql, the DuckDB catalog edlake keeps beside the lake"
# One question at a time: its comment, then DuckDB's answer (10 rows at most on screen).
while IFS= read -r -d '' question; do
  echo
  grep '^--' <<<"$question" | sed 's/^-- \{0,1\}/  /'
  grep -v '^--' <<<"$question" | .venv/bin/duckdb -init datalake/openedx.duckdb.sql -cmd '.maxrows 10'
done < <(awk -v RS= '/^-- [0-9]+\./ { printf "%s%c", $0, 0 }' scripts/lake-questions.sql)

echo
echo "== Query the lake yourself (docs/query-locally.md). The demo installed DuckDB's CLI in .venv:"
echo "  .venv/bin/duckdb -init datalake/openedx.duckdb.sql"
echo "then, e.g.:  SELECT count(*) FROM openedx_table_auth_user;   (.tables lists the views, .quit leaves)"
