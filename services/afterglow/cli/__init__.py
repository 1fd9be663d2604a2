"""The `afterglow` command line: one Typer application, one module per command group."""
