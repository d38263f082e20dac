"""Reports: HTML with charts, Markdown, comparisons and the framework feature matrix (issue 9)."""
