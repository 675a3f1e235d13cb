# Shared by the benchmark scripts (sourced, not run): the stack up, /usr/bin/time present,
# a release build, `measure`, and `seed` (for those on courseware_studentmodule).
scripts/stack-up.sh >/dev/null
# shellcheck disable=SC1091
source .stack/env
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet

# median wall seconds and median peak RSS (KiB) of REPEAT runs of the script $work/$1;
# the script $work/$2, when given, runs (untimed) before each of them
measure() {
  local walls=() rsss=()
  for _ in $(seq "$REPEAT"); do
    if [ -n "${2:-}" ]; then "$work/$2"; fi
    /usr/bin/time -f "%e %M" -o "$work/time" "$work/$1"
    read -r wall rss < "$work/time"
    walls+=("$wall"); rsss+=("$rss")
  done
  local mid=$(( (REPEAT + 1) / 2 ))
  echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "${mid}p") $(printf '%s\n' "${rsss[@]}" | sort -n | sed -n "${mid}p")"
}

# Rows of courseware_studentmodule in $DB (0 when it is missing).
row_count() {
  mariadb -h127.0.0.1 -uopenedx -popenedx -N -e "SELECT COUNT(*) FROM $DB.courseware_studentmodule" 2>/dev/null || echo 0
}

# What `seed` records in the table's comment: rows and courses of this generator.
seed_mark() { echo "bench seed: $1 rows, $2 courses"; }

# (Re)seeds $1 skewed courseware_studentmodule rows over $2 courses (default 40, seed.py's)
# into $DB_URL, unless the table already holds exactly those (its comment says so).
seed() {
  local courses=${2:-40}
  local mark
  mark=$(seed_mark "$1" "$courses")
  local comment
  comment=$(mariadb -h127.0.0.1 -uopenedx -popenedx -N -e "SELECT TABLE_COMMENT FROM information_schema.TABLES
    WHERE TABLE_SCHEMA = '$DB' AND TABLE_NAME = 'courseware_studentmodule'" 2>/dev/null || true)
  if [ "$comment" = "$mark" ] && [ "$(row_count)" = "$1" ] && [ "${BENCH_RESEED:-0}" != 1 ]; then
    echo "courseware_studentmodule already holds $1 rows over $courses courses (BENCH_RESEED=1 to reseed)" >&2
    return
  fi
  echo "seeding $1 courseware_studentmodule rows over $courses courses..." >&2
  python3 scripts/seed.py --mysql-url "$DB_URL" --studentmodule-rows "$1" --courses "$courses" \
    --only-studentmodule --quiet
  # Metadata only: InnoDB changes a table comment without copying the table.
  mariadb -h127.0.0.1 -uopenedx -popenedx "$DB" -e "ALTER TABLE courseware_studentmodule COMMENT = '$mark'"
}

# The columns edlake reads from courseware_studentmodule of $DB, in its order: data
# columns, then the partition column.
columns() {
  mariadb -h127.0.0.1 -uopenedx -popenedx -N -e "
    SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY COLUMN_NAME = 'course_id', ORDINAL_POSITION)
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$DB' AND TABLE_NAME = 'courseware_studentmodule'"
}

# write_raw_scan DIR: DIR/raw_scan, the baseline every benchmark divides by: `mariadb
# --batch --quick` of the same columns into DIR/raw.tsv (made executable by the caller).
write_raw_scan() {
  cat > "$1/raw_scan" <<SH
#!/bin/sh
exec mariadb --batch --quick -h127.0.0.1 -uopenedx -popenedx $DB \
  -e "SELECT $(columns) FROM courseware_studentmodule" > "$1/raw.tsv"
SH
}
