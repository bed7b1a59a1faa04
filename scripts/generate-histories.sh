#!/usr/bin/env bash
# Writes the generated cas-register histories of docs/benchmarks.md ("Generated histories") into
# DIR: single-key, C clients always in flight, unique write values, as faultline JSON Lines
# (`faultline check --model cas-register DIR/*.jsonl`) and as Jepsen log lines
# (`../shared/porcupine-bench/run.sh -group gen DIR/*.log`), each plain and with 1% info
# operations and one stale read halfway (-info1-bad).
#
#   scripts/generate-histories.sh DIR [MAX_OPS]      # MAX_OPS defaults to 1000000
set -euo pipefail
DIR=${1:?usage: scripts/generate-histories.sh DIR [MAX_OPS]}
MAX_OPS=${2:-1000000}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
cd "$(dirname "$0")/.."
cargo build --release -q -p faultline-checker --example generate_history
GEN=target/release/examples/generate_history
for clients in 5 10 50 100; do
  for ops in 1000 10000 100000 1000000; do
    [ "$ops" -le "$MAX_OPS" ] || continue
    for extra in "" "--info 1 --bad-read"; do
      name="c$clients-n$ops-k1"
      [ -n "$extra" ] && name="$name-info1-bad"
      for format in jsonl jepsen-log; do
        ext=$([ "$format" = jsonl ] && echo jsonl || echo log)
        # shellcheck disable=SC2086 # $extra is a list of flags
        "$GEN" --clients "$clients" --ops "$ops" $extra --format "$format" --out "$DIR/$name.$ext"
      done
    done
  done
done
echo "wrote $(ls "$DIR" | wc -l) files to $DIR" >&2
