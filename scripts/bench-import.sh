#!/usr/bin/env bash
# Issue #21's benchmark: `edlake import` of one daily event file of BENCH_MB (default 1000)
# MB of events (uncompressed; gzip then GPG, as edX delivers them), against the raw cost of
# reading it, `gpg --decrypt FILE | gzip -dc > /dev/null`, on this machine, each the median
# of BENCH_REPEAT (default 3) runs. Wall time and peak RSS from /usr/bin/time; throughput
# in MB of events per second. Target: peak RSS <= 64 MB. The generated file and its test
# key are kept in target/bench/ between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

MB=${BENCH_MB:-1000}
REPEAT=${BENCH_REPEAT:-3}
data=target/bench/rdp-${MB}MB
if [ ! -s "$data/done" ]; then
  echo "generating a ${MB} MB event file in $data (about 35 s per GB)..." >&2
  rm -rf "$data"
  python3 scripts/gen_research_packages.py --out "$data" --make-key --weeks 1 --days 1 \
    --orgs DelftX --events-mb "$MB" --flat >/dev/null
  touch "$data/done"
fi
events=$(ls "$data"/*-events-*.log.gz.gpg | head -1)
export GNUPGHOME="$data/gnupg"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
ln "$events" "$work/in/" 2>/dev/null || cp "$events" "$work/in/"
cat > "$work/edlake.toml" <<TOML
lms_host = "lms.example.com"
[datalake]
url = "$work/lake"
[catalog]
duckdb = false
[import]
gnupghome = "$GNUPGHOME"
TOML

cat > "$work/raw" <<SH
#!/bin/sh
gpg --batch --quiet --decrypt "$events" | gzip -dc > /dev/null
SH
cat > "$work/import" <<SH
#!/bin/sh
EDLAKE_LOG=warn "$PWD/target/release/edlake" --config "$work/edlake.toml" import "$work/in" > "$work/out"
SH
cat > "$work/fresh" <<SH
#!/bin/sh
rm -rf "$work/lake"
SH
chmod +x "$work/raw" "$work/import" "$work/fresh"

read -r raw_wall raw_rss <<< "$(measure raw)"
read -r imp_wall imp_rss <<< "$(measure import fresh)"
bytes=$(gpg --batch --quiet --decrypt "$events" | gzip -dc | wc -c)
echo "event file: $(du -m "$events" | cut -f1) MB as .log.gz.gpg, $((bytes / 1000000)) MB of events"
printf 'raw read (gpg | gzip -d): %6.2f s  %6d KiB  %6.0f MB/s\n' "$raw_wall" "$raw_rss" "$(echo "$bytes / 1000000 / $raw_wall" | bc -l)"
printf 'edlake import:            %6.2f s  %6d KiB  %6.0f MB/s  (%.2fx the raw read)\n' "$imp_wall" "$imp_rss" \
  "$(echo "$bytes / 1000000 / $imp_wall" | bc -l)" "$(echo "$imp_wall / $raw_wall" | bc -l)"
grep -E "events:" "$work/out" || true
