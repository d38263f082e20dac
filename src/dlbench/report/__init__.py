"""Reports (issue 9): HTML with charts, Markdown, comparisons and the framework feature matrix.

    data.assemble(runs, epochs_by_run, ...)  -> ReportData: summary rows grouped per comparison, steady-state times,
                                               learning curves, suites, and the optional extras
    page.write(data, out_dir)                -> report.html (self-contained), report.md, charts/*.png|svg
    sections/                                 one module per section; SECTIONS is the page order
    compare.compare(side_a, side_b)          -> what got faster or slower between two result sets
    features.probe_all / features.matrix     -> the framework feature matrix (probes run in subprocesses: probe.py)
    prices.load(path)                        -> a price table for the cost section

The parent process never imports a framework: only dlbench.report.probe does, in a subprocess of its own.
"""
