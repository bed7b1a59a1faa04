#!/usr/bin/env bash
# faultline against Porcupine on the reference corpus, group by group, in one sitting.
#
#   scripts/porcupine-compare.sh [ROUNDS]      # ROUNDS (default 3) interleaved runs per group
#
# Needs: a release build (`cargo build --release`), Go (`apt-get install -y golang-go`) and
# porcupine-bench/run.sh from the shared folder beside the checkout (../shared or ../../shared
# for a worktree; PORCUPINE_BENCH overrides its path). Prints two tables:
#
# 1. Whole processes: `faultline check` over a group's files against Porcupine's bench in its
#    `-wall` mode (one process that parses and checks every file once), wall-clock, each tool
#    ROUNDS times, alternating faultline, Porcupine, faultline, ...; best of the rounds.
# 2. With CHECK_TIME=1, check time only (parse excluded), each group once more: Porcupine's
#    per-file mode (median of 5 checks after a warm-up, summed over the group's files) and
#    faultline's criterion bench `corpus/<group>` (every file of the group checked in turn,
#    parsed and paired before the clock starts; the median estimate is printed).
set -euo pipefail
ROUNDS=${1:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${PORCUPINE_BENCH:-}
for d in "$HERE/../shared" "$HERE/../../shared"; do
  [ -n "$BENCH" ] || [ ! -x "$d/porcupine-bench/run.sh" ] || BENCH=$d/porcupine-bench/run.sh
done
[ -n "$BENCH" ] || { echo "porcupine-bench/run.sh not found: set PORCUPINE_BENCH" >&2; exit 3; }
FL=$HERE/target/release/faultline
C=$HERE/checker/tests/corpora
[ -x "$FL" ] || { echo "no $FL: cargo build --release first" >&2; exit 3; }

files() {
  case $1 in
    etcd) ls "$C"/porcupine-etcd/*.log ;;
    kv) ls "$C"/porcupine-kv/*.txt ;;
    knossos) ls "$C"/knossos/cas-register/*/*.edn ;;
  esac
}
model() {
  case $1 in
    etcd) echo "-m cas-register" ;;
    kv) echo "-m kv-append" ;;
    knossos) echo "-m cas-register --init 0" ;;
  esac
}
now_ms() { date +%s%N | awk '{printf "%.1f", $1 / 1e6}'; }
min() { tr ' ' '\n' | grep . | sort -g | head -1; }

# Build Porcupine's bench once, outside the timings.
"$BENCH" -wall -group kv $(files kv | head -1) >/dev/null 2>&1 || { echo "porcupine bench does not build: is Go installed?" >&2; exit 3; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo
echo "whole process, wall ms, best of $ROUNDS (interleaved)"
printf '%-8s %6s %10s %10s %8s\n' group files faultline porcupine speedup
for g in etcd kv knossos; do
  F=$(files "$g"); n=$(echo "$F" | wc -l)
  fl=""; pc=""
  for _ in $(seq "$ROUNDS"); do
    t0=$(now_ms); "$FL" check $(model "$g") $F >/dev/null || true; t1=$(now_ms)
    "$BENCH" -wall -group "$g" $F >/dev/null 2>&1; t2=$(now_ms)
    fl="$fl $(echo "$t1 - $t0" | bc)"; pc="$pc $(echo "$t2 - $t1" | bc)"
  done
  bf=$(echo "$fl" | min); bp=$(echo "$pc" | min)
  printf '%-8s %6d %10.1f %10.1f %7.1fx\n' "$g" "$n" "$bf" "$bp" "$(echo "$bp / $bf" | bc -l)"
done

[ "${CHECK_TIME:-0}" = 1 ] || exit 0
echo
echo "check time only, ms (Porcupine: sum of per-file medians; faultline: criterion median)"
printf '%-8s %10s %10s %8s\n' group faultline porcupine speedup
for g in etcd kv knossos; do
  pc=$("$BENCH" -group "$g" $(files "$g") 2>/dev/null | awk -F'\t' '{s += $3} END {printf "%.2f", s}')
  fl=$(cd "$HERE" && cargo bench -q -p faultline-checker --bench check -- --noplot "^corpus/$g\$" 2>/dev/null \
    | awk '/time:/ {v = $5; u = $6; if (u == "µs") v /= 1000; if (u == "s") v *= 1000; printf "%.2f", v}')
  printf '%-8s %10.2f %10.2f %7.1fx\n' "$g" "$fl" "$pc" "$(echo "$pc / $fl" | bc -l)"
done
