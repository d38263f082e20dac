"""Do the rows of one table do the same work? Read back from a dlbench store, per run: where its training batches
came from (env data_placement) or where an inference trial's images lay (env input_placement), and the float32
matmul precision it ran (env matmul_precision), then check dlbench's rules (docs/gpu.md, "Tiers"):

- the default tier feeds every training loop from the host ("host: ..."), whatever the framework;
- the tuned tier keeps a training set without augmentation on the device ("device: resident") in the native loops
  (torch, jax, tensorflow), which can; Keras's fit cannot, and stays on the host;
- every inference runtime gets its images on its device, placed once ("device: resident");
- one matmul precision per table: on a GPU "tf32" unless the suite set tf32 = false ("fp32"), "fp32" on a CPU.

    python benchmarks/fairness.py STORE [STORE ...]

Prints one line per run and one verdict line per table (workload, device, tier, precision, tf32), and exits 1 if a
rule is broken, 0 otherwise. Runs from before these fields were recorded show "-" and count as broken.
"""
import json
import sqlite3
import statistics
import sys
from collections import defaultdict

NATIVE = ("torch", "jax", "tensorflow")


def expected(run):
    """(data or input placement, matmul precision) the rules ask of this run."""
    settings, env = run["settings"], run["env"]
    gpu = settings.get("device") == "gpu"
    precision = "tf32" if gpu and settings.get("tf32") is not False else "fp32"
    if run["kind"] == "inference":
        return "device: resident", precision
    if settings.get("tier") == "tuned" and run["framework"] in NATIVE and not env.get("augmentation"):
        return "device: resident", precision
    return "host:", precision


def runs_of(path):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    found = []
    for row in db.execute("SELECT id, workload, framework, settings, status, env FROM runs WHERE status = 'ok'"):
        env = json.loads(row["env"] or "{}")
        epochs = [e[0] for e in db.execute("SELECT train_seconds FROM epochs WHERE run_id = ? AND NOT warmup",
                                           (row["id"],))]
        found.append({"workload": row["workload"], "framework": row["framework"], "env": env,
                      "settings": json.loads(row["settings"] or "{}"), "epoch_seconds": epochs,
                      "kind": "inference" if "input_placement" in env else "training"})
    return found


def main(paths):
    runs = [run for path in paths for run in runs_of(path)]
    tables = defaultdict(list)
    for run in runs:
        s = run["settings"]
        key = (run["workload"], s.get("device"), s.get("tier", "-"), s.get("precision", "fp32"), s.get("tf32"))
        tables[key].append(run)
    broken = 0
    print("%-18s %-5s %-7s %-17s %-28s %-9s %-10s %s" % ("workload", "dev", "tier", "framework", "placement",
                                                          "matmul", "epoch s", "compile"))
    for key in sorted(tables, key=str):
        members = sorted(tables[key], key=lambda r: r["framework"])
        problems = []
        for run in members:
            env = run["env"]
            placement = env.get("input_placement") or env.get("data_placement") or "-"
            matmul = env.get("matmul_precision") or "-"
            want_placement, want_matmul = expected(run)
            seconds = "%.4f" % statistics.fmean(run["epoch_seconds"]) if run["epoch_seconds"] else "-"
            flag = ""
            if not placement.startswith(want_placement):
                problems.append("%s placement %r, expected %r" % (run["framework"], placement, want_placement))
                flag += " <- placement"
            if matmul != want_matmul:
                problems.append("%s matmul %r, expected %r" % (run["framework"], matmul, want_matmul))
                flag += " <- matmul"
            print("%-18s %-5s %-7s %-17s %-28s %-9s %-10s %s%s" % (
                run["workload"], key[1], key[2], run["framework"], placement, matmul, seconds,
                env.get("compile_used") or env.get("compile") or "-", flag))
        title = "%s, %s, tier %s, %s, tf32 %s" % key
        if problems:
            broken += 1
            print("  MISMATCH in [%s]: %s" % (title, "; ".join(problems)))
        else:
            print("  fair [%s]: %d runs, one placement rule, matmul %s" % (title, len(members),
                                                                          expected(members[0])[1]))
    print("%d table(s), %d with a mismatch" % (len(tables), broken))
    return 1 if broken else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
