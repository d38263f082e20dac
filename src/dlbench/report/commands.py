"""The report-related commands of the CLI; `register(app)` adds them to the typer app in dlbench.cli."""


def register(app):
    pass
