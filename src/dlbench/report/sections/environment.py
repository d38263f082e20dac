"""The environment of every run set (suite): hardware, framework versions, threads, precision, node; and warnings
where runs that are compared with each other differ in environment (host, CPU or device, Python, framework
versions within one framework id, thread counts, dlbench revision, denormal handling)."""
from __future__ import annotations

import json

from dlbench import frameworks as framework_registry
from dlbench.report import markup
from dlbench.report.markup import Section, esc


def own_modules(framework_id):
    """The modules that belong to a framework id (its packages and distributions, by import name)."""
    if framework_id not in framework_registry.FRAMEWORKS:
        return None
    framework = framework_registry.get(framework_id)
    return set(framework.packages) | {d.replace("-cpu", "") for d in framework.distributions}


def own_versions(run):
    imported = run["env"].get("imported") or {}
    own = own_modules(run["framework"])
    return {k: v for k, v in sorted(imported.items()) if own is None or k in own}


def also_imported(run):
    imported = run["env"].get("imported") or {}
    own = own_modules(run["framework"])
    return sorted(k for k in imported if own is not None and k not in own)


def threads_text(run):
    env = run["env"]
    requested = run["settings"].get("threads")
    read = env.get("threads") or {}
    parts = [f"{requested} requested"]
    if read.get("intra_op") is not None or read.get("inter_op") is not None:
        parts.append(f"intra {read.get('intra_op')}, inter {read.get('inter_op')}")
    elif read.get("note"):
        parts.append(read["note"])
    if env.get("cpu_affinity") is not None:
        parts.append(f"{len(env['cpu_affinity'])} CPUs pinned")
    return "; ".join(parts)


def describe(run):
    """The environment facts of one run, as display strings (equal strings: same environment)."""
    env = run["env"]
    device = env.get("device") or {}
    extras = []
    if env.get("keras_backend"):
        extras.append(f"Keras backend {env['keras_backend']}")
    if env.get("layout"):
        extras.append(env["layout"])
    if "denormals_flushed" in env:
        extras.append("denormals flushed" if env["denormals_flushed"] else "denormals NOT flushed")
    if device.get("cuda"):
        extras.append(f"CUDA {device['cuda']}, cuDNN {device.get('cudnn')}")
    pulled = also_imported(run)
    if pulled:
        extras.append("also imported " + ", ".join(pulled))
    s = run["settings"]
    return {
        "host": run["node_host"], "device": run["node_device"],
        "cpu": env.get("cpu_model") or "-", "python": env.get("python") or "-",
        "versions": ", ".join(f"{k} {v}" for k, v in own_versions(run).items()) or "-",
        "threads": threads_text(run) if env else f"{s.get('threads')} requested",
        "precision": f"{s.get('precision')}, compile {s.get('compile')}"
                     + (f" ({env['compile_used']})" if env.get("compile_used") else "") + f", {s.get('device')}",
        "notes": "; ".join(extras) or "-",
    }


def _where(values):
    """'a (torch, jax); b (keras-torch)' from {value: [frameworks]}."""
    return "; ".join(f"{v} ({', '.join(dict.fromkeys(fs))})" for v, fs in values.items())


def busy_at_start(run, epochs):
    """More runnable work than CPUs when the trial began (1-minute load average): the only evidence of a busy machine
    in runs recorded before the worker sampled other processes' CPU around every epoch (summary.busy_epochs)."""
    if any(e.get("other_cpus") is not None for e in epochs):
        return False
    load, cpus = run["env"].get("load_average"), run["env"].get("cpu_count")
    return bool(load and cpus and load[0] > cpus + 0.5)


def warnings(data):
    """Where runs that are compared with each other (one comparison group) differ in environment."""
    out = []
    suites = {s["id"]: s for s in data.suites}
    for group in data.groups:
        runs = [r for rs in group.runs.values() for r in rs if r["status"] == "ok"]
        with_env = [r for r in runs if r["env"]]

        def spread(value_of, members):
            values = {}
            for run in members:
                value = value_of(run)
                if value is not None:
                    values.setdefault(value, []).append(run["framework"])
            return values

        checks = [
            ("hosts", spread(lambda r: r["node_host"], runs)),
            ("devices", spread(lambda r: r["node_device"], runs)),
            ("CPU models", spread(lambda r: r["env"].get("cpu_model"), with_env)),
            ("Python versions", spread(lambda r: r["env"].get("python"), with_env)),
            ("dlbench revisions", spread(lambda r: suites.get(r["suite_id"], {}).get("git_revision"), runs)),
            ("CPU counts pinned", spread(lambda r: None if r["env"].get("cpu_affinity") is None
                                         else len(r["env"]["cpu_affinity"]), with_env)),
            ("denormal handling", spread(lambda r: None if "denormals_flushed" not in r["env"] else
                                         ("flushed" if r["env"]["denormals_flushed"] else "not flushed"), with_env)),
            ("data placement", spread(lambda r: r["env"].get("data_placement"), with_env)),
            ("matmul precision", spread(lambda r: r["env"].get("matmul_precision"), with_env)),
        ]
        for what, values in checks:
            if len(values) > 1:
                out.append(f"{group.title}: the compared runs differ in {what}: {_where(values)}.")
        for row in group.rows:
            out += [f"{group.title} / {row.framework}: {warning}." for warning in row.warnings]
        busy = spread(lambda r: "busy" if busy_at_start(r, data.epochs_by_run.get(r["id"]) or []) else None,
                      with_env).get("busy")
        if busy:
            out.append(f"{group.title}: the machine was busy (load average above its CPU count) when "
                       f"{len(busy)} run(s) began: {', '.join(dict.fromkeys(busy))}. Their times may be inflated.")
        for framework, members in group.runs.items():
            members = [r for r in members if r["status"] == "ok" and r["env"]]
            versions = spread(lambda r: ", ".join(f"{k} {v}" for k, v in own_versions(r).items()) or None, members)
            if len(versions) > 1:
                out.append(f"{group.title}: {framework} runs used different versions: "
                           f"{'; '.join(f'{v} ({len(fs)} runs)' for v, fs in versions.items())}.")
            threads = spread(lambda r: json.dumps(r["env"].get("threads"), sort_keys=True), members)
            if len(threads) > 1:
                out.append(f"{group.title}: {framework} runs read back different thread settings: "
                           f"{'; '.join(f'{v} ({len(fs)} runs)' for v, fs in threads.items())}.")
    return out


def build(data):
    if not data.runs:
        return None
    html, md = [], []
    found = warnings(data)
    if found:
        items = markup.bullet_list(found, cls="warnings")
        html.append(f'<div class="warn-box" id="environment-warnings"><strong>Warnings</strong>{items[0]}</div>')
        md.append(markup.md_strong("Warnings") + "\n\n" + items[1])
    else:
        text = "No differences in host, device, Python, framework versions or threads among compared runs."
        html.append(f'<p class="ok-note">{esc(text)}</p>')
        md.append(markup.md_block(text))
    by_suite = {}
    for run in data.runs:
        by_suite.setdefault(run["suite_id"], []).append(run)
    suites = {s["id"]: s for s in data.suites}
    for suite_id, runs in sorted(by_suite.items()):
        suite = suites.get(suite_id, {})
        title = f"Suite {suite_id}" + (f" ({suite['name']})" if suite.get("name") else "")
        facts = []
        if suite.get("started_at"):
            facts.append(f"started {suite['started_at']}" + (f", finished {suite['finished_at']}"
                                                              if suite.get("finished_at") else ", not finished"))
        if suite.get("dlbench_version"):
            facts.append(f"dlbench {suite['dlbench_version']} ({suite.get('git_revision') or 'not a checkout'})")
        if suite.get("command"):
            facts.append(f"command: {suite['command']}")
        rows, seen = [], {}
        for run in runs:
            facts_of = describe(run)
            key = (run["framework"], run["workload"], json.dumps(facts_of, sort_keys=True))
            if key not in seen:
                seen[key] = [run["framework"], run["workload"], 0, facts_of]
                rows.append(seen[key])
            seen[key][2] += 1
        table = markup.table(["framework", "workload", "runs", "host", "device", "CPU", "python", "versions",
                              "threads", "precision", "notes"],
                             [[f, w, str(n), d["host"], d["device"], d["cpu"], d["python"], d["versions"],
                               d["threads"], d["precision"], d["notes"]] for f, w, n, d in rows], cls="env")
        html.append(f"<h3>{esc(title)}</h3>")
        md.append(markup.md_heading(3, title))
        if facts:
            p = markup.paragraph("; ".join(facts), cls="suite-facts")
            html.append(p[0])
            md.append(p[1])
        html.append(table[0])
        md.append(table[1])
    return Section("environment", "Environment", "\n".join(html), "\n\n".join(md))
