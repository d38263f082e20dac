"""Is dlbench faithful? Its timing of a framework must match a plain script that uses no dlbench code.

For each workload (mnist_mlp, cifar10_cnn) and framework, this runs the standalone loop in benchmarks/standalone/ and
the matching dlbench trial (same data, model, optimizer, batch size, augmentation, threads), alternating them, and
prints the ratio of their steady-state mean epoch times (dlbench / standalone, first epoch left out of both), and
beside it the ratio of the median epochs, which a burst of load from other processes moves less. Within noise, the
ratio should be 0.9 to 1.1: a ratio above that would mean the harness makes a framework look slower than it is.

    python benchmarks/faithful.py [--workloads mnist_mlp,cifar10_cnn] [--frameworks torch,jax] [--epochs N]
                                  [--rounds 2] [--threads 2] [--samples 1024]

char_gpt_mini (`--workloads char_gpt_mini --frameworks torch`) compares nanoGPT's own model and train loop
(standalone/nanogpt_char_torch.py) with dlbench's torch char_gpt_mini on the real corpus, 250 iterations an epoch.
mnist_mlp trains on dlbench's `small` MNIST (8000 images, shipped with dlbench). cifar10_cnn trains on `--samples`
images of dlbench's synthetic CIFAR-10: this script writes them to a temporary .npz (it is the harness side, so it
may use dlbench's loader) and the loops read that file, so both sides see the very same arrays.
It needs the frameworks installed (`make setup`); it writes its dlbench results to a temporary store.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# framework -> the standalone script's suffix and its arguments after `epochs threads`
FRAMEWORKS = {
    "torch": ("torch", []), "jax": ("jax", []), "tensorflow": ("tensorflow", []),
    "keras-jax": ("keras", ["jax"]), "keras-torch": ("keras", ["torch"]), "keras-tensorflow": ("keras", ["tensorflow"]),
}
WORKLOADS = {  # workload -> (dlbench data variant, default epochs)
    "mnist_mlp": ("small", 6),
    "cifar10_cnn": ("synthetic", 4),
    "char_gpt_mini": ("real", 3),  # an epoch: 250 iterations of batch 12; torch only (nanoGPT is PyTorch)
}
# The standalone scripts named otherwise than <workload>_<suffix>.py
SCRIPTS = {"char_gpt_mini": "nanogpt_char"}


def standalone(workload, framework, epochs, threads, device, env):
    suffix, extra = FRAMEWORKS[framework]
    script = HERE / "standalone" / f"{SCRIPTS.get(workload, workload)}_{suffix}.py"
    if not script.exists():
        sys.exit(f"no standalone loop {script.name} for {workload} in {framework}")
    out = subprocess.run([sys.executable, str(script), str(epochs), str(threads), *extra],
                         capture_output=True, text=True, cwd=HERE / "standalone",
                         env={**os.environ, **env, "STANDALONE_DEVICE": device})
    if out.returncode:
        sys.exit(f"{script.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["epoch_seconds"][1:]


def dlbench(workload, framework, epochs, threads, device, samples, store):
    data = WORKLOADS[workload][0]
    command = [sys.executable, "-m", "dlbench.cli", "run", "--workloads", workload, "--frameworks", framework,
               "--data", data, "--epochs", str(epochs), "--repeats", "1", "--threads", str(threads),
               "--device", device, "--store", str(store), "--json"]
    if data == "synthetic":
        command += ["--samples", str(samples)]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"dlbench run {workload} {framework} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    from dlbench.store import Store
    s = Store(store)
    run = s.runs(workloads=[workload], frameworks=[framework])[-1]
    if run["status"] != "ok":
        sys.exit(f"dlbench run {workload} {framework} ended {run['status']}: {run.get('error')}")
    return [e["train_seconds"] for e in s.epochs([run["id"]])[run["id"]] if not e["warmup"]]


def cifar10_file(samples, folder):
    """dlbench's synthetic CIFAR-10 (seed 0, the trial's) as the standalone loops read it."""
    import numpy as np

    from dlbench.data import cifar10
    dataset = cifar10.load("synthetic", samples, seed=0)
    path = folder / "cifar10_synthetic.npz"
    np.savez(path, x_train=dataset.x_train, y_train=dataset.y_train)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run, the first left out (default: mnist_mlp 6, cifar10_cnn 4)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of standalone and dlbench runs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", type=int, default=1024, help="cifar10_cnn's training images (synthetic)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    args = parser.parse_args()
    workloads = args.workloads.split(",")
    for name in workloads:
        if name not in WORKLOADS:
            parser.error(f"no standalone loops for workload {name!r}: use {', '.join(WORKLOADS)}")
    folder = Path(tempfile.mkdtemp())
    store = folder / "faithful.sqlite"
    env = {"STANDALONE_CIFAR10": str(cifar10_file(args.samples, folder))} if "cifar10_cnn" in workloads else {}
    print(f"{'workload':<13}{'framework':<18}{'standalone s':>14}{'dlbench s':>12}{'ratio':>8}{'median ratio':>14}"
          f"{'epochs':>8}", flush=True)
    for workload in workloads:
        epochs = args.epochs or WORKLOADS[workload][1]
        for framework in args.frameworks.split(","):
            alone, harness = [], []
            for _ in range(args.rounds):
                alone += standalone(workload, framework, epochs, args.threads, args.device, env)
                harness += dlbench(workload, framework, epochs, args.threads, args.device, args.samples, store)
            a, h = statistics.fmean(alone), statistics.fmean(harness)
            median = statistics.median(harness) / statistics.median(alone)
            print(f"{workload:<13}{framework:<18}{a:>14.4f}{h:>12.4f}{h / a:>8.2f}{median:>14.2f}"
                  f"{len(alone):>4}+{len(harness):<3}", flush=True)


if __name__ == "__main__":
    main()
