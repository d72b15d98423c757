"""turnaround: the application around the loaders and the report.

`turnaround.cli` is the command (the console script), `turnaround.commands` what each command
does, `turnaround.dbt` the dbt driver with the build state and the no-op skip, and
`turnaround.demo` the synthetic dataset. Importing this package imports nothing else: the
console script installs its Ctrl-C handler before DuckDB and pandas load.
"""
