# Shared by the benchmark scripts (sourced, not run): the stack up, /usr/bin/time present,
# a release build, and `measure`.
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
