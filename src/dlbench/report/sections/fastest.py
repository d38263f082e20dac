"""Who is fastest where, in words generated from the numbers: for each comparison, the fastest framework against
every other one, with the ratio of their steady-state epoch times, its 95% interval and its verdict (the summary
rows': stats.ratio_interval and stats.verdict, the same as the terminal table's). Only a decided verdict is said as
"faster"; a tie, an equivalence or too few repeats is said as such."""
from __future__ import annotations

from dataclasses import dataclass

from dlbench import stats
from dlbench.report import markup
from dlbench.report.markup import Section, esc, interval, two


@dataclass
class Claim:
    kind: str            # a stats.verdict of `slower` against `faster` ("faster", "equivalent", "tie",
                         # "inconclusive"), or "no_result"
    group: object
    faster: str          # the framework with the smaller time (the subject of the sentence)
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


def claim(group, fastest, row):
    """The sentence for one row against the fastest: the row's own ratio and verdict, said in one form ("A is N x
    faster than B": the slower one's time over the faster one's)."""
    faster, slower, ratio, where = fastest, row.framework, row.ratio, group.title
    shown = f"{two(ratio.estimate)}x {interval(ratio, two)}".rstrip(" -")
    if row.verdict == "slower":
        return Claim("faster", group, faster, slower, ratio, f"{faster} is {shown} faster than {slower} on {where}.")
    if row.verdict == "faster":  # the interval disagrees with the means' order: say what it says
        inverted = stats.invert(ratio)
        return Claim("faster", group, slower, faster, inverted,
                     f"{slower} is {two(inverted.estimate)}x {interval(inverted, two)} faster than {faster} on "
                     f"{where}.")
    if row.verdict == "equivalent":
        text = (f"{faster} and {slower} are equal within ±{stats.MARGIN:.0%} on {where}: {faster} is {shown} "
                "faster, an interval inside the margin.")
    elif row.verdict == "tie":
        text = (f"{faster} and {slower} are tied on {where}: {faster} is {shown} faster, an interval that "
                "contains 1.")
    else:
        text = (f"{faster} looks {shown} faster than {slower} on {where}, but there is no verdict: "
                f"{row.verdict_reason}.")
    return Claim(row.verdict, group, faster, slower, ratio, text)


def claims(group):
    """The sentences for one comparison group, fastest first."""
    ranked = group.ranked
    out = []
    if ranked:
        fastest = ranked[0].framework
        out += [claim(group, fastest, row) for row in ranked[1:]]
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


def headline(group):
    """One sentence: the fastest, or the frameworks that cannot be told apart from it. A three-way tie is never
    headlined as one framework's win."""
    ranked = group.ranked
    if not ranked:
        return f"No framework finished {group.title}."
    best = ranked[0]
    level = [row.framework for row in ranked[1:] if row.verdict in ("tie", "equivalent", "inconclusive")]
    time = f"{markup.seconds(best.epoch_seconds.estimate)} s per steady-state epoch {interval(best.epoch_seconds)}"
    if len(ranked) == 1:
        return f"On {group.title}, {best.framework} is the only framework with a result: {time}."
    if level:
        return (f"On {group.title}, {', '.join([best.framework] + level)} share first place: the data cannot tell "
                f"them apart ({best.framework} {time}).")
    return f"On {group.title}, {best.framework} is fastest: {time}, decidedly faster than every other framework."


def tally(data):
    """Fastest per comparison, counted per framework (a shared first place counts as one, with a note)."""
    wins = {}
    for group in data.groups:
        if group.ranked and len(group.ranked) > 1:
            shared = any(row.verdict in ("tie", "equivalent", "inconclusive") for row in group.ranked[1:])
            wins.setdefault(group.ranked[0].framework, []).append(group.title + (" (shared)" if shared else ""))
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
        md.append(markup.md_block(summary))
    for group in data.groups:
        title = headline(group)
        items = [(c.text, c.attrs) for c in claims(group)]
        html.append(f'<div class="claims" data-group="{esc(group.slug)}"><p class="headline">{esc(title)}</p>')
        md.append(markup.md_strong(title))
        if items:
            list_html, list_md = markup.bullet_list(items)
            html.append(list_html)
            md.append(list_md)
        html.append("</div>")
    note = ("Ratios are steady-state epoch time of the slower over the faster framework with a 95% interval over "
            "repeats; 'faster' only when the interval excludes 1 (see 'How these numbers were made').")
    html.append(f'<p class="note">{esc(note)}</p>')
    md.append(markup.md_note(note))
    return Section("fastest", "Who is fastest where", "\n".join(html), "\n\n".join(md))
