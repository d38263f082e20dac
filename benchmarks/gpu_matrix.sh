#!/usr/bin/env bash
# The GPU matrix: every framework that has a GPU path on this machine, on the workloads that show the GPU's
# behaviour, in both tiers, with repeats; then the faithful check on the GPU. Results go to one store, a log and a
# short table printed last.
#
#   benchmarks/gpu_matrix.sh [OUT_DIR] [STEPS]
#
# STEPS: a comma-separated subset of fairness,mnist_mlp,mnist_cnn,cifar10_cnn,imdb_bilstm,resnet50_features,faithful
# (default: all of them; about 20 minutes on an H100, so a 10-minute slot takes it in two or three parts).
# fairness (about 2 minutes) is the default tier's check alone: mnist_mlp and mnist_cnn on 10,000 samples, both
# tiers with TF32 allowed (the default) and the default tier again with --no-tf32.
#
# The last table (benchmarks/fairness.py) reads back, for every run in the store, where its batches came from
# (data_placement; input_placement for inference) and the float32 matmul precision it ran (matmul_precision), and
# says per table whether the rows followed dlbench's one rule: host-fed default tier, device-resident tuned tier
# where the framework can, inference inputs on the device, one matmul precision (tf32, or fp32 under --no-tf32).
#
# Run it from the repository root on a machine with an NVIDIA GPU and the frameworks installed. dlbench runs from
# the source tree (PYTHONPATH=src): no install needed. Keras, if missing, is installed from wheels in .whl/ (the
# device machine has no network; see DESIGN.md). Frameworks that are not installed are recorded as skipped.
set -uo pipefail
OUT_DIR=${1:-${OUT:-results/gpu}}
STEPS=",${2:-fairness,mnist_mlp,mnist_cnn,cifar10_cnn,imdb_bilstm,resnet50_features,faithful},"
mkdir -p "$OUT_DIR"
STORE="$OUT_DIR/gpu.sqlite"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if ! python3 -c "import keras" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
FRAMEWORKS=torch,jax,keras-jax,keras-torch,tensorflow
dl() { python3 -m dlbench.cli "$@"; }
train() {  # workload, then options; both tiers, 1 warm-up epoch + steady ones, on synthetic data on the GPU
    timeout 900 python3 -m dlbench.cli run --workloads "$1" --frameworks "$FRAMEWORKS" --device gpu --tier default,tuned \
        --data synthetic --timeout 240 --store "$STORE" "${@:2}" >>"$OUT_DIR/log" 2>&1
}

step() { [[ $STEPS == *",$1,"* ]]; }

dl env >>"$OUT_DIR/log" 2>&1
if step fairness; then
    train mnist_mlp --epochs 3 --repeats 1 --samples 10000
    train mnist_cnn --epochs 3 --repeats 1 --samples 10000
    timeout 600 python3 -m dlbench.cli run --workloads mnist_mlp,mnist_cnn --frameworks "$FRAMEWORKS" --device gpu \
        --tier default --no-tf32 --data synthetic --samples 10000 --epochs 3 --repeats 1 --timeout 240 \
        --store "$STORE" >>"$OUT_DIR/log" 2>&1
fi
step mnist_mlp && train mnist_mlp --epochs 4 --repeats 2              # the full 60,000 samples: the frontier's unit
step mnist_cnn && train mnist_cnn --epochs 3 --repeats 1 --samples 10000
step cifar10_cnn && train cifar10_cnn --epochs 3 --repeats 1 --samples 10000
step imdb_bilstm && train imdb_bilstm --epochs 3 --repeats 1 --samples 4000
if step faithful; then
    python3 benchmarks/faithful.py --device gpu --frameworks torch,jax,keras-jax,keras-torch --epochs 5 --rounds 1 \
        --threads 4 2>&1 | tee "$OUT_DIR/faithful.txt"
fi
if step resnet50_features; then
    timeout 900 python3 -m dlbench.cli run --workloads resnet50_features --frameworks all --device gpu --timeout 300 \
        --store "$STORE" >>"$OUT_DIR/log" 2>&1
fi
dl results --store "$STORE" 2>&1 | tee "$OUT_DIR/results.txt"
python3 benchmarks/fairness.py "$STORE" 2>&1 | tee "$OUT_DIR/fairness.txt"
