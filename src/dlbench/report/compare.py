"""Compare two result sets: what got faster or slower from A to B, with the ratio of steady-state epoch times, its
95% interval over repeats and its verdict (dlbench.stats: the same rules as the run table and the reports).

A side is a store, filters on a store, or both:
    old.sqlite                     every run in that store
    suite=3                        runs of suite 3 in --store
    framework=torch,torch=2.12     filters joined by ","; a key given twice means either value
    old.sqlite@suite=last          filters on another store

Filter keys: suite (an id or last), workload, framework, host (the node's hostname), node (part of the node's
device name, e.g. node=H100), status (default ok), the compared settings (device, data, samples, batch_size, threads,
precision, compile, tier), python, and any module whose version runs record (torch, jax, jaxlib, keras,
tensorflow, flax, optax): its version starts with the value (torch=2.13 matches 2.13.0+cpu).

Rows are matched by workload, framework and the compared settings, except what the two sides select differently
(compare threads=1 with threads=2, or framework=torch with framework=keras-torch) and what --ignore names.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dlbench import frameworks, stats, summary
from dlbench.report import data as report_data
from dlbench.report.sections import environment

MODULE_KEYS = frameworks.FRAMEWORK_MODULES + ("python",)  # filter on the version of any module a run imported
RUN_KEYS = ("suite", "workload", "framework", "host", "node", "status")
FILTER_KEYS = RUN_KEYS + summary.COMPARED_ON + MODULE_KEYS


class CompareError(ValueError):
    pass


@dataclass
class Side:
    name: str
    spec: str
    store_path: str
    filters: dict                        # key -> [values]
    runs: list = field(default_factory=list)
    epochs_by_run: dict = field(default_factory=dict)

    def describe(self):
        runs = self.runs
        versions = {}
        for run in runs:
            for k, v in environment.own_versions(run).items():
                versions.setdefault(k, set()).add(v)
        return {"spec": self.spec, "store": self.store_path,
                "filters": {k: v if len(v) > 1 else v[0] for k, v in self.filters.items()},
                "runs": len(runs), "suites": sorted({r["suite_id"] for r in runs}),
                "hosts": sorted({r["node_host"] for r in runs}), "devices": sorted({r["node_device"] for r in runs}),
                "versions": {k: sorted(v) for k, v in sorted(versions.items())}}


def parse_spec(spec, default_store):
    """(store path, filters) of one side."""
    spec = spec.strip()
    if "=" not in spec:
        return spec, {}
    store, text = default_store, spec
    if "@" in spec and "=" not in spec.split("@", 1)[0]:
        store, text = spec.split("@", 1)
    filters = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise CompareError(f"{spec!r}: {part!r} is not key=value")
        key, value = (s.strip() for s in part.split("=", 1))
        key = key.replace("-", "_")
        if key not in FILTER_KEYS:
            raise CompareError(f"{spec!r}: unknown filter {key!r}; known: {', '.join(FILTER_KEYS)}")
        filters.setdefault(key, []).append(value)
    if store is None:
        raise CompareError(f"{spec!r} filters a store: give --store or STORE@{text}")
    return str(store), filters


def _matches(run, key, values):
    if key == "workload":
        return run["workload"] in values
    if key == "framework":
        return run["framework"] in values
    if key == "host":
        return run["node_host"] in values
    if key == "node":
        return any(v.lower() in run["node_device"].lower() for v in values)
    if key == "status":
        return run["status"] in values
    if key in summary.COMPARED_ON:
        return str(run["settings"].get(key)).lower() in [v.lower() for v in values]
    if key == "python":
        return any(str(run["env"].get("python", "")).startswith(v) for v in values)
    if key in MODULE_KEYS:
        found = (run["env"].get("imported") or {}).get(key)
        return found is not None and any(str(found).startswith(v) for v in values)
    return True


def load_side(name, spec, default_store, open_store):
    """Resolve one side: open its store (open_store(path) -> Store) and select its runs."""
    store_path, filters = parse_spec(spec, default_store)
    if not Path(store_path).exists():
        raise CompareError(f"side {name} ({spec}): no store at {store_path}")
    store = open_store(store_path)
    try:
        suite_ids = []
        for value in filters.get("suite", []):
            if value == "last":
                suite_ids.append(store.last_suite_id())
            elif value.isdigit():
                suite_ids.append(int(value))
            else:
                raise CompareError(f"side {name}: suite takes an id or 'last', not {value!r}")
        runs = store.runs() if not suite_ids else [r for s in suite_ids for r in store.runs(suite_id=s)]
        wanted = {**filters}
        wanted.setdefault("status", ["ok"])
        runs = [r for r in runs if all(_matches(r, k, v) for k, v in wanted.items() if k != "suite")]
        epochs = store.epochs([r["id"] for r in runs])
    finally:
        store.close()
    return Side(name, spec, store_path, filters, runs, epochs)


def match_keys(a, b, ignore=()):
    """The compared settings rows are matched on, and the ones left out (and why)."""
    left_out = {k: "--ignore" for k in ignore}
    for key in ("workload", "framework") + summary.COMPARED_ON:
        va, vb = a.filters.get(key), b.filters.get(key)
        if va is not None and vb is not None and sorted(va) != sorted(vb):
            left_out.setdefault(key, "selected differently on the two sides")
    on = [k for k in ("workload", "framework") + summary.COMPARED_ON if k not in left_out]
    return on, left_out


def _key(run, on):
    values = {"workload": run["workload"], "framework": run["framework"], **run["settings"]}
    return json.dumps({k: values.get(k) for k in on}, sort_keys=True)


def _groups(side, on):
    groups = {}
    for run in side.runs:
        groups.setdefault(_key(run, on), []).append(run)
    return groups


def verdict(ratio):
    """B time / A time -> (stats.verdict's word for B, the change as a reader says it)."""
    kind = stats.verdict(ratio)
    if ratio.low is None or kind == "inconclusive":
        shown = f"{ratio.estimate:.2f}x the time" + (f" [{ratio.low:.2f}, {ratio.high:.2f}]" if ratio.low else "")
        return kind, f"no verdict: {shown} ({stats.why_inconclusive(ratio)})"
    bounds = f"[{ratio.low:.2f}, {ratio.high:.2f}]"
    if kind == "faster":
        return kind, f"{1 / ratio.estimate:.2f}x [{1 / ratio.high:.2f}, {1 / ratio.low:.2f}] faster"
    if kind == "slower":
        return kind, f"{ratio.estimate:.2f}x {bounds} slower"
    if kind == "equivalent":
        return kind, f"equal within ±{stats.MARGIN:.0%}: {ratio.estimate:.2f}x the time {bounds}"
    return kind, f"tie: {ratio.estimate:.2f}x the time {bounds}, the interval contains 1"


def _interval(iv):
    return None if iv is None else iv._asdict()


def compare(a, b, ignore=()):
    for side in (a, b):
        if not side.runs:
            raise CompareError(f"side {side.name} ({side.spec}) matched no runs: check its store and filters "
                               "(`dlbench results --runs` lists what a store holds)")
    for key in ignore:
        if key not in summary.COMPARED_ON:
            raise CompareError(f"--ignore takes compared settings ({', '.join(summary.COMPARED_ON)}), not {key!r}")
    on, left_out = match_keys(a, b, ignore)
    groups_a, groups_b = _groups(a, on), _groups(b, on)
    rows, only_a, only_b = [], [], []
    for key in list(dict.fromkeys(list(groups_a) + list(groups_b))):
        ident = json.loads(key)
        if key not in groups_b:
            only_a.append(ident)
            continue
        if key not in groups_a:
            only_b.append(ident)
            continue
        steady_a = report_data.steady_times(groups_a[key], a.epochs_by_run)
        steady_b = report_data.steady_times(groups_b[key], b.epochs_by_run)
        row = {**ident, "runs_a": len(groups_a[key]), "runs_b": len(groups_b[key])}
        for k in left_out:
            if k in ("workload", "framework"):
                row[f"{k}_a"] = sorted({r[k] for r in groups_a[key]})
                row[f"{k}_b"] = sorted({r[k] for r in groups_b[key]})
            else:
                row[f"{k}_a"] = sorted({str(r["settings"].get(k)) for r in groups_a[key]})
                row[f"{k}_b"] = sorted({str(r["settings"].get(k)) for r in groups_b[key]})
        if not steady_a or not steady_b:
            row.update({"a": None, "b": None, "ratio": None, "verdict": "no result",
                        "text": "no steady-state epochs on " + ("A" if not steady_a else "B")})
            rows.append(row)
            continue
        anytime = summary.adaptive(groups_a[key]) or summary.adaptive(groups_b[key])
        ia = stats.mean_interval(steady_a, anytime=anytime)
        ib = stats.mean_interval(steady_b, anytime=anytime)
        ratio = stats.ratio_interval(steady_b, steady_a, anytime=anytime)
        kind, text = verdict(ratio)
        row.update({"a": _interval(ia), "b": _interval(ib), "ratio": _interval(ratio), "verdict": kind,
                    "text": text})
        rows.append(row)
    return {"a": a.describe(), "b": b.describe(), "matched_on": on, "left_out": left_out, "rows": rows,
            "only_a": only_a, "only_b": only_b, "environment": environment_differences(a, b),
            "differing_settings": differing_settings(only_a, only_b),
            "counts": {k: sum(1 for r in rows if r["verdict"] == k) for k in stats.VERDICTS}}


def slower_than(result, threshold):
    """Rows that are decidedly slower in B by more than `threshold` (B / A): the interval's lower end above it."""
    return [row for row in result["rows"] if row["verdict"] == "slower" and row["ratio"]["low"] > threshold]


def differing_settings(only_a, only_b):
    """Compared settings whose values on the unmatched rows of A and B never meet: what --ignore could leave out."""
    out = {}
    for key in summary.COMPARED_ON:
        va = {json.dumps(i.get(key)) for i in only_a if key in i}
        vb = {json.dumps(i.get(key)) for i in only_b if key in i}
        if va and vb and not va & vb:
            out[key] = {"a": sorted(json.loads(v) for v in va if v != "null") + (["none"] if "null" in va else []),
                        "b": sorted(json.loads(v) for v in vb if v != "null") + (["none"] if "null" in vb else [])}
    return out


def environment_differences(a, b):
    da, db = a.describe(), b.describe()
    out = []
    for key in ("hosts", "devices"):
        if da[key] != db[key]:
            out.append(f"{key}: A {', '.join(da[key]) or '-'}; B {', '.join(db[key]) or '-'}")
    for module in sorted(set(da["versions"]) & set(db["versions"])):  # a module only one side used is no change
        va, vb = da["versions"][module], db["versions"][module]
        if va != vb:
            out.append(f"{module}: A {', '.join(va) or '-'}; B {', '.join(vb) or '-'}")
    pa = sorted({r["env"].get("python") for r in a.runs if r["env"].get("python")})
    pb = sorted({r["env"].get("python") for r in b.runs if r["env"].get("python")})
    if pa != pb:
        out.append(f"python: A {', '.join(pa) or '-'}; B {', '.join(pb) or '-'}")
    return out
