"""What the report holds, in one paragraph, and the environment warnings at a glance."""
from __future__ import annotations

from dlbench.report.markup import Section, esc, md_block, md_strong
from dlbench.report.sections import environment


def counts(runs):
    statuses = {}
    for run in runs:
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items(), key=lambda kv: (kv[0] != "ok", kv[0])))


def build(data):
    suites = sorted({r["suite_id"] for r in data.runs})
    parts = [
        f"{len(data.runs)} runs ({counts(data.runs)}) from {len(suites)} suite{'s' if len(suites) != 1 else ''} "
        f"({', '.join(map(str, suites))})" if data.runs else "No runs match",
        f"{len(data.workloads)} workload{'s' if len(data.workloads) != 1 else ''}: {', '.join(data.workloads) or '-'}",
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
    found = environment.warnings(data)
    if found:
        line = (f"{len(found)} environment warning{'s' if len(found) != 1 else ''}: compared runs differ in "
                f"environment (see Environment).")
        html.append(f'<p class="warn-line"><a href="#environment-warnings">{esc(line)}</a></p>')
        md.append(md_strong(line))
    return Section("overview", "Overview", "\n".join(html), "\n\n".join(md), heading=False)
