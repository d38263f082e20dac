"""What the report holds, in one paragraph, and the environment warnings at a glance."""
from __future__ import annotations

from dlbench.report.markup import Section, esc, md_block, md_strong
from dlbench.report.sections import environment


def counts(runs):
    statuses = {}
    for run in runs:
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items(), key=lambda kv: (kv[0] != "ok", kv[0])))


def synthetic_flag(runs):
    """A sentence when any run used synthetic data (random images, generated stories): its accuracy is not the task's."""
    synthetic = [r for r in runs if r["settings"].get("data") == "synthetic"]
    if not synthetic:
        return None
    where = sorted({f"{r['workload']} / {r['framework']}" for r in synthetic})
    return (f"Synthetic data: {len(synthetic)} of {len(runs)} runs trained on generated data instead of the real "
            f"data set ({', '.join(where)}). Their times are real; their accuracy and loss are not the real task's "
            f"and say nothing about how well a framework learns it, however high they read.")


def build(data):
    suites = sorted({r["suite_id"] for r in data.runs})
    workloads = list(dict.fromkeys(r["workload"] for r in data.runs))  # inference ones too (data.workloads: training)
    parts = [
        f"{len(data.runs)} runs ({counts(data.runs)}) from {len(suites)} suite{'s' if len(suites) != 1 else ''} "
        f"({', '.join(map(str, suites))})" if data.runs else "No runs match",
        f"{len(workloads)} workload{'s' if len(workloads) != 1 else ''}: {', '.join(workloads) or '-'}",
        f"{len(data.frameworks)} framework{'s' if len(data.frameworks) != 1 else ''}: "
        f"{', '.join(data.frameworks) or '-'}",
        f"on {', '.join(data.hosts) or '-'} ({'; '.join(data.devices) or '-'})",
    ]
    text = "; ".join(parts) + "."
    source = f"Store {data.store_path}" + (
        f", filtered by {', '.join(f'{k} {v}' for k, v in data.filters.items())}" if data.filters else "") + \
        f"; generated {data.generated_at}."
    html = [f'<p class="lead">{esc(text)}</p>', f'<p class="source">{esc(source)}</p>']
    md = [md_block(text), md_block(source)]
    flag = synthetic_flag(data.runs)
    if flag:
        html.insert(0, f'<p class="flag" id="synthetic-data">{esc(flag)}</p>')
        md.insert(0, md_strong(flag))
    found = environment.warnings(data)
    if found:
        line = (f"{len(found)} environment warning{'s' if len(found) != 1 else ''}: compared runs differ in "
                f"environment (see Environment).")
        html.append(f'<p class="warn-line"><a href="#environment-warnings">{esc(line)}</a></p>')
        md.append(md_strong(line))
    return Section("overview", "Overview", "\n".join(html), "\n\n".join(md), heading=False)
