"""ResNet-50 feature extraction on this CPU: images/s per runtime at batch 1, 8, 32 over 64 images.

Each runtime runs in its own process (python -m dlbench.inference.resnet50_features.runtimes --sweep), pinned to
the same number of CPUs with the same intra-op thread count; per batch size one untimed warm-up pass over the images,
then one timed pass. The features of the run are checked against the NumPy float64 reference too (relative error),
so a fast runtime that computes something else shows. A first step towards the inference scenario's sweep.

    python benchmarks/resnet50_cpu.py [--runtimes torch,jax] [--images 64] [--batch-sizes 1,8,32] [--threads 2]
                                      [--weights W.npz] [--json out.json]

The canonical weights are generated into dlbench's cache on first use (about 20 s, 94 MB).
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from dlbench.inference import resnet50_features as spec
from dlbench.inference.resnet50_features import runtimes
from dlbench.inference.resnet50_features import weights as canonical


def run(runtime, weights, images, batch_sizes, threads, out):
    proc = subprocess.run(
        [sys.executable, "-m", "dlbench.inference.resnet50_features.runtimes", "--runtime", runtime, "--weights",
         weights, "--images", str(images), "--threads", str(threads), "--sweep", batch_sizes, "--out", out],
        capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode not in (0, 3) or not lines:
        return {"runtime": runtime, "status": "failed", "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtimes", default=",".join(runtimes.RUNTIMES))
    parser.add_argument("--images", type=int, default=spec.IMAGES_CPU)
    parser.add_argument("--batch-sizes", default=",".join(map(str, spec.BATCH_SIZES_CPU)))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weights", help="the canonical .npz (default: generated into the cache)")
    parser.add_argument("--json", help="write every runtime's result here")
    args = parser.parse_args()
    weights = args.weights or canonical.ensure(0)
    check_images = min(args.images, 4)  # the float64 reference is slow: check the first few images
    reference = canonical.forward(canonical.load(weights), spec.inputs(check_images))
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    results = []
    print("| runtime | " + " | ".join("b=%d img/s" % b for b in sizes) + " | b=1 p50 ms | b=%d p90 ms | "
          "build s | peak MB | rel. error |" % sizes[-1])
    print("|---" * (len(sizes) + 6) + "|")
    with tempfile.TemporaryDirectory() as scratch:
        for runtime in args.runtimes.split(","):
            out = str(Path(scratch) / (runtime + ".npy"))
            result = run(runtime, weights, args.images, args.batch_sizes, args.threads, out)
            results.append(result)
            if result.get("status") != "ok":
                print("| %s | %s |" % (runtime, result.get("status")) + " %s |" % (
                    result.get("hint") or result.get("error")))
                continue
            error = spec.relative_error(np.load(out)[:check_images], reference)
            result["relative_error"] = error
            by_size = {s["batch_size"]: s for s in result["sweep"]}
            print("| %s | " % runtime + " | ".join("%.1f" % by_size[b]["images_per_s"] for b in sizes) +
                  " | %.0f | %.0f | %.1f | %.0f | %.1e |" % (
                      1000 * by_size[sizes[0]]["latency_p50_s"], 1000 * by_size[sizes[-1]]["latency_p90_s"],
                      result["build_s"], result["peak_rss_mb"] or 0, error), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
