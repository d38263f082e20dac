"""Who is fastest where, in words generated from the numbers: for each comparison, the fastest framework against
every other one, with the ratio of their steady-state epoch times and its bootstrap CI (stats.ratio_ci on the
stored epochs). A CI that contains 1 is called a tie; a ratio without a CI makes no call."""
from __future__ import annotations

from dataclasses import dataclass

from dlbench import stats
from dlbench.report import markup
from dlbench.report.markup import Section, esc, interval, two


@dataclass
class Claim:
    kind: str            # "faster", "tie", "no_ci" or "no_result"
    group: object
    faster: str          # the framework with the smaller mean (the subject of the sentence)
    slower: str | None
    ratio: stats.Interval | None  # slower's time / faster's time
    text: str

    @property
    def attrs(self):
        attrs = {"class": f"claim claim-{self.kind}", "data-kind": self.kind, "data-workload": self.group.workload,
                 "data-group": self.group.slug, "data-faster": self.faster}
        if self.slower:
            attrs["data-slower"] = self.slower
        if self.ratio is not None:
            attrs["data-ratio"] = repr(self.ratio.estimate)
            if self.ratio.low is not None:
                attrs["data-low"], attrs["data-high"] = repr(self.ratio.low), repr(self.ratio.high)
        return attrs


def claims(data, group):
    """The sentences for one comparison group, fastest first."""
    ranked = group.ranked
    out = []
    if ranked:
        fastest = ranked[0].framework
        for row in ranked[1:]:
            ratio = stats.ratio_ci(group.steady[row.framework], group.steady[fastest],
                                   n_resamples=data.n_resamples, seed=data.seed)
            faster, slower = fastest, row.framework
            if ratio.low is not None and ratio.high < 1.0:  # the bootstrap disagrees with the means: say what it says
                faster, slower = slower, faster
                ratio = stats.Interval(1 / ratio.estimate, 1 / ratio.high, 1 / ratio.low, ratio.method, ratio.n,
                                       ratio.groups)
            where = group.title
            if ratio.low is None:
                kind = "no_ci"
                text = (f"{faster} looks {two(ratio.estimate)}x faster than {slower} on {where}, but without a CI "
                        f"(fewer than two steady-state epochs on one side): no call.")
            elif stats.is_tie(ratio):
                kind = "tie"
                text = (f"{faster} and {slower} are tied on {where}: {slower} takes {two(ratio.estimate)}x "
                        f"{interval(ratio, two)} the time of {faster}, a CI that contains 1.")
            else:
                kind = "faster"
                text = f"{faster} is {two(ratio.estimate)}x {interval(ratio, two)} faster than {slower} on {where}."
            out.append(Claim(kind, group, faster, slower, ratio, text))
    for row in group.rows:
        if row.epoch_seconds is None:
            out.append(Claim("no_result", group, row.framework, None, None,
                             f"{row.framework} has no result on {group.title}: {why_not(group, row.framework)}."))
    return out


def why_not(group, framework):
    """Why a framework has no (or not only) ok runs in a group: each status with its count and stored error."""
    runs = group.runs.get(framework, [])
    parts = []
    statuses = {}
    for run in runs:
        if run["status"] != "ok":
            statuses.setdefault(run["status"], []).append(run)
    for status, members in sorted(statuses.items()):
        errors = list(dict.fromkeys(r["error"] for r in members if r["error"]))
        count = f"{len(members)} of {len(runs)} runs {status}" if len(runs) > 1 else status
        parts.append(f"{count}" + (f" ({'; '.join(errors)})" if errors else ""))
    if not parts:
        parts.append("no steady-state epochs (every epoch was warm-up)")
    return "; ".join(parts)


def headline(data, group):
    ranked = group.ranked
    if not ranked:
        return f"No framework finished {group.title}."
    best = ranked[0]
    tied = [c.slower for c in claims(data, group) if c.kind == "tie"]
    text = (f"On {group.title}, {best.framework} is fastest: {markup.seconds(best.epoch_seconds.estimate)} s per "
            f"steady-state epoch {interval(best.epoch_seconds)}")
    if len(ranked) == 1:
        text += ", the only framework with a result"
    elif tied:
        text += f", statistically tied with {', '.join(tied)}"
    return text + "."


def tally(data):
    """Fastest per comparison, counted per framework (a tie for first place counts as one, with a note)."""
    wins = {}
    for group in data.groups:
        if group.ranked and len(group.ranked) > 1:
            tie = any(c.kind in ("tie", "no_ci") for c in claims(data, group))
            wins.setdefault(group.ranked[0].framework, []).append(group.title + (" (tied for first)" if tie else ""))
    compared = sum(1 for g in data.groups if len(g.ranked) > 1)
    if not wins:
        return None
    parts = [f"{f} on {len(titles)} ({', '.join(titles)})" for f, titles in
             sorted(wins.items(), key=lambda kv: -len(kv[1]))]
    return f"Fastest in {compared} comparison{'s' if compared != 1 else ''}: " + "; ".join(parts) + "."


def build(data):
    if not data.groups:
        return None
    html, md = [], []
    summary = tally(data)
    if summary:
        html.append(f'<p class="tally">{esc(summary)}</p>')
        md.append(summary)
    for group in data.groups:
        title = headline(data, group)
        items = [(c.text, c.attrs) for c in claims(data, group)]
        html.append(f'<div class="claims" data-group="{esc(group.slug)}"><p class="headline">{esc(title)}</p>')
        md.append(f"**{title}**")
        if items:
            list_html, list_md = markup.bullet_list(items)
            html.append(list_html)
            md.append(list_md)
        html.append("</div>")
    note = ("Ratios are steady-state epoch time of the slower over the faster framework, with a 95% bootstrap CI "
            "(repeats resampled, then epochs within each); a CI that contains 1 is a tie.")
    html.append(f'<p class="note">{esc(note)}</p>')
    md.append(f"*{note}*")
    return Section("fastest", "Who is fastest where", "\n".join(html), "\n\n".join(md))
