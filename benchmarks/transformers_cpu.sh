#!/usr/bin/env bash
# The CPU table of the transformer workloads in the six training frameworks (issue #25): char_gpt_mini on the real
# Nietzsche corpus and imdb_transformer on synthetic reviews, one thread each, repeats for the intervals. The two
# suites run side by side, each pinned to its own core (taskset), so a two-core machine takes about 8 minutes;
# a suite's frameworks still run one after another, as a benchmark's always do.
#
#   benchmarks/transformers_cpu.sh [OUT_DIR]
#
# char_gpt_mini: 50 iterations of batch 12 an epoch (--samples 600; a real epoch is 250), 4 epochs, the first a
# warm-up; its learning figure is the full run's (tests/test_workload_gpt.py, slow). imdb_transformer: 1,280 synthetic
# reviews (IMDB's real set cannot be downloaded offline), 4 epochs. Tables and stores go to OUT_DIR.
set -euo pipefail
OUT_DIR=${1:-results/transformers}
mkdir -p "$OUT_DIR"
DLBENCH=${DLBENCH:-dlbench}
common=(--frameworks keras-jax,keras-tensorflow,keras-torch,torch,jax,tensorflow --epochs 4 --repeats 3 --threads 1)
taskset -c 0 $DLBENCH run --workloads char_gpt_mini --data real --samples 600 "${common[@]}" \
    --store "$OUT_DIR/char_gpt_mini.sqlite" --wide > "$OUT_DIR/char_gpt_mini.txt" 2> "$OUT_DIR/char_gpt_mini.log" &
taskset -c 1 $DLBENCH run --workloads imdb_transformer --data synthetic --samples 1280 "${common[@]}" \
    --store "$OUT_DIR/imdb_transformer.sqlite" --wide > "$OUT_DIR/imdb_transformer.txt" 2> "$OUT_DIR/imdb_transformer.log" &
wait
cat "$OUT_DIR/char_gpt_mini.txt" "$OUT_DIR/imdb_transformer.txt"
