"""Is dlbench faithful? Its timing of a framework must match a plain script that uses no dlbench code.

For each framework, this runs the standalone loop in benchmarks/standalone/ and the matching dlbench trial (same
data, model, optimizer, batch size, threads), alternating them, and prints the ratio of their steady-state mean
epoch times (dlbench / standalone, first epoch left out of both). Within noise, the ratio should be 0.9 to 1.1:
a ratio above that would mean the harness makes a framework look slower than it is.

    python benchmarks/faithful.py [--frameworks torch,jax] [--epochs 6] [--rounds 2] [--threads 2]

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
STANDALONE = {
    "torch": ["mnist_mlp_torch.py"], "jax": ["mnist_mlp_jax.py"], "tensorflow": ["mnist_mlp_tensorflow.py"],
    "keras-jax": ["mnist_mlp_keras.py", "jax"], "keras-torch": ["mnist_mlp_keras.py", "torch"],
    "keras-tensorflow": ["mnist_mlp_keras.py", "tensorflow"],
}


def standalone(framework, epochs, threads, device):
    script, *backend = STANDALONE[framework]
    out = subprocess.run([sys.executable, str(HERE / "standalone" / script), str(epochs), str(threads), *backend],
                         capture_output=True, text=True, cwd=HERE / "standalone", check=True,
                         env={**os.environ, "STANDALONE_DEVICE": device})
    return json.loads(out.stdout.strip().splitlines()[-1])["epoch_seconds"][1:]


def dlbench(framework, epochs, threads, device, store):
    subprocess.run([sys.executable, "-m", "dlbench.cli", "run", "--workloads", "mnist_mlp", "--frameworks",
                    framework, "--data", "small", "--epochs", str(epochs), "--repeats", "1", "--threads",
                    str(threads), "--device", device, "--store", str(store), "--json"],
                   capture_output=True, text=True, check=True)
    from dlbench.store import Store
    s = Store(store)
    run = s.runs(frameworks=[framework])[-1]
    return [e["train_seconds"] for e in s.epochs([run["id"]])[run["id"]] if not e["warmup"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default=",".join(STANDALONE))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of standalone and dlbench runs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=("cpu", "gpu"))
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp()) / "faithful.sqlite"
    print(f"{'framework':<18}{'standalone s':>14}{'dlbench s':>12}{'ratio':>8}")
    for framework in args.frameworks.split(","):
        alone, harness = [], []
        for _ in range(args.rounds):
            alone += standalone(framework, args.epochs, args.threads, args.device)
            harness += dlbench(framework, args.epochs, args.threads, args.device, store)
        a, h = statistics.fmean(alone), statistics.fmean(harness)
        print(f"{framework:<18}{a:>14.4f}{h:>12.4f}{h / a:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
