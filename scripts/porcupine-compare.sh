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
# 2. Check time only (parse excluded): faultline's criterion-free timer (`faultline check
#    --json`'s per-file `check_ms`, the median of 5 checks after one warm-up, as Porcupine's
#    bench does) against Porcupine's per-file median `check_ms`, summed over the group.
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
"$BENCH" -wall -group kv $(files kv | head -1) >/dev/null

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
