"""The A/A test: run the same suite twice, unchanged, into two stores, and let `dlbench compare` judge them. Nothing
differs between the two, so every row it calls faster or slower is a false verdict; dlbench states a rate of at most
5% per row. Also prints each run's wall time and what its budget left undecided.

    python benchmarks/aa.py [--suite default] [--out results/aa] [-- extra dlbench run options]

Run it on a machine doing nothing else: other work makes the two runs genuinely different.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def dlbench(*args):
    return subprocess.run([sys.executable, "-m", "dlbench.cli", *map(str, args)], capture_output=True, text=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="default")
    parser.add_argument("--out", default="results/aa", type=Path)
    parser.add_argument("extra", nargs="*", help="more `dlbench run` options, after --")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stores = []
    for name in ("a", "b"):
        store = args.out / f"{name}.sqlite"
        store.unlink(missing_ok=True)
        started = time.perf_counter()
        result = dlbench("run", "--suite", args.suite, "--store", store, *args.extra)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"run {name} failed ({result.returncode}): {result.stderr[-2000:]}")
        budget = [line for line in result.stderr.splitlines() if line.startswith("--budget")]
        print(f"run {name}: {seconds / 60:.1f} min. {' '.join(budget)}")
        print(result.stdout)
        stores.append(store)
    compared = dlbench("compare", *stores, "--json")
    if compared.returncode != 0:
        sys.exit(f"compare failed: {compared.stderr}")
    found = json.loads(compared.stdout)
    rows = found["rows"]
    different = [r for r in rows if r["verdict"] in ("faster", "slower")]
    print(dlbench("compare", *stores).stdout)
    print(f"A/A: {len(different)} of {len(rows)} rows called different (the stated rate: at most 5% per row); "
          f"verdicts {found['counts']}")


if __name__ == "__main__":
    main()
