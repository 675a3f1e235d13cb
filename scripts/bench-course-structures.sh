#!/usr/bin/env bash
# Issue #4's benchmark: course_structures of BENCH_COURSES (default 1000) synthetic courses
# of BENCH_BLOCKS (default 400) blocks, on the local Mongo wire test server:
#   1. full extraction (`extract --table course_structures --full`) into a fresh local lake;
#   2. a rerun with nothing published (every course skipped on its version).
# Wall time and peak RSS of the edlake process come from /usr/bin/time; each figure is the
# median of BENCH_REPEAT (default 3) runs. The test server is Python (mongomock), so the
# full run's wall time is mostly the server's; the targets are edlake's peak RSS (<= 100 MB)
# and the rerun's wall time (<= 2 s).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

COURSES=${BENCH_COURSES:-1000}
BLOCKS=${BENCH_BLOCKS:-400}
REPEAT=${BENCH_REPEAT:-3}
DB=edlake_bench_${COURSES}x${BLOCKS}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have=$(.venv/bin/python - "$EDLAKE_TEST_MONGO_URL" "$DB" <<'PY'
import sys, pymongo
db = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=3000)[sys.argv[2]]
print(len(list(db["modulestore.active_versions"].find({}, {"_id": 1}))))
PY
)
if [ "$have" != "$COURSES" ] || [ "${BENCH_RESEED:-0}" = 1 ]; then
  echo "seeding $COURSES courses x $BLOCKS blocks into $DB (takes a while: the server is Python)..." >&2
  .venv/bin/python scripts/seed_mongo.py --synthetic "$COURSES" --blocks "$BLOCKS" --database "$DB" \
    --url "$EDLAKE_TEST_MONGO_URL"
fi

cat > "$work/edlake.toml" <<TOML
lms_host = "lms.example.com"
[mysql]
url = "mysql://openedx:openedx@127.0.0.1:3306/openedx"
[mongodb]
url = "$EDLAKE_TEST_MONGO_URL"
database = "$DB"
[course_structures]
course_index = "mongodb"
[datalake]
url = "$work/lake"
TOML
cat > "$work/full" <<SH
#!/bin/sh
rm -rf "$work/lake"
EDLAKE_LOG=error exec ./target/release/edlake --config "$work/edlake.toml" extract --table course_structures --full > "$work/out"
SH
cat > "$work/rerun" <<SH
#!/bin/sh
EDLAKE_LOG=error exec ./target/release/edlake --config "$work/edlake.toml" extract --table course_structures > "$work/out"
SH
chmod +x "$work/full" "$work/rerun"


read -r full_wall full_rss < <(measure full)
tail -n 1 "$work/out"
echo "lake: $(du -sh "$work/lake" | cut -f1), $(find "$work/lake" -name '*.csv' | wc -l) files"
read -r rerun_wall rerun_rss < <(measure rerun)
tail -n 1 "$work/out"

echo
echo "== $COURSES courses x $BLOCKS blocks, median of $REPEAT runs"
awk -v w="$full_wall" -v r="$full_rss" 'BEGIN { printf "%-40s %8.2f s %8.1f MiB peak RSS (target <= 100 MB)\n", "full extraction", w, r / 1024 }'
awk -v w="$rerun_wall" -v r="$rerun_rss" 'BEGIN { printf "%-40s %8.2f s %8.1f MiB peak RSS (target <= 2 s)\n", "rerun, nothing published", w, r / 1024 }'
