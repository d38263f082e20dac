"""The report's sections, in page order.

A section is a function `build(data: ReportData) -> Section | None`: it reads the report data (dlbench.report.data),
may draw charts into `data.charts`, and returns its HTML and Markdown (dlbench.report.markup.Section), or None when
it has nothing to show (the cost section without a price table, the inference section before any inference results
exist). The page (dlbench.report.page) adds the heading, the table of contents and the files.

To add a kind of result (inference throughput, verify results, GPU memory), write a module here with a `build`
function, make ReportData carry its results (data.assemble / a loader beside data.inference_results), and add the
function to SECTIONS: nothing else changes.
"""
from dlbench.report.sections import (cost, environment, fastest, feature_matrix, inference, learning, matrix, method,
                                     overview, verify, workloads)

SECTIONS = [
    overview.build,        # what the report holds; environment warnings at a glance
    fastest.build,         # "who is fastest where", in words, with CIs
    learning.build,        # do they learn the same: final accuracy across repeats, learning curves
    verify.build,          # `dlbench verify`: pairwise same-model matrices (renders once verify results exist)
    matrix.build,          # workload x framework, coloured by time relative to the fastest
    workloads.build,       # per workload: epoch time bars, learning curves, time to accuracy
    cost.build,            # with --prices: cost per epoch and relative to the cheapest
    inference.build,       # inference throughput and latency (renders once inference results exist)
    environment.build,     # hardware and versions of every run set; warnings where compared runs differ
    feature_matrix.build,  # what each framework can do: probed and documented
    method.build,          # how the numbers were made
]
