"""The `turnaround` command line (click): one decorated function per command, each a thin layer
over `turnaround.app`, which is imported only when a command runs (so `--help` starts at once).

Exit codes: 0 ok, 1 data-quality failure (a dbt test at error severity), 2 usage or input error
with a message naming the file (and line) at fault, 130 interrupted (Ctrl-C), 141 the reader of
the output left. No command prints a traceback (`TURNAROUND_TRACEBACK=1` shows an unexpected
error's).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from loaders.config import DEFAULT_CONFIG, REPORT_OUT, SOURCES
from turnaround.interrupts import BROKEN_PIPE, INTERRUPTED, INTERRUPTS
from warehouse import TurnaroundError, no_space

DESCRIPTION = (
    "Measure how fast 4D Camera data reaches the supercomputer: load raw telemetry into a "
    "DuckDB warehouse and build the marts with dbt."
)


class Formatter(click.HelpFormatter):
    """Usage lines as `usage: turnaround …` (lower case, as the errors say it)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "usage: " if prefix is None else prefix)


click.Context.formatter_class = Formatter
SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def config_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        type=click.Path(path_type=Path),
        default=DEFAULT_CONFIG,
        metavar="FILE",
        help=f"config file (default: ./{DEFAULT_CONFIG})",
    )(command)


def strict_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--strict",
        is_flag=True,
        help="fail the whole load (exit 2, naming file and line) at the first malformed record "
        "instead of setting it aside in raw.rejected_records",
    )(command)


def read_config(ctx: click.Context, path: Path) -> Any:
    """The config, kept on the context for the error line (which names its warehouse)."""
    from loaders.config import load_config
    from warehouse import check_path

    config = ctx.obj["config"] = load_config(path)
    check_path(config.warehouse)
    return config


class ReaderLeft(Exception):
    """The reader of the output left (`turnaround load | head`)."""


class Turnaround(click.Group):
    """The group: a command's error becomes one line and its exit code (see the module)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order of this module, the order of a day's work

    def invoke(self, ctx: click.Context) -> Any:
        ctx.obj = {"config": None}
        try:
            code = super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BaseException as exc:
            code = failed(exc, ctx.obj.get("config"))
        ctx.exit(code if isinstance(code, int) else 0)  # the same code in and out of click


@click.group(cls=Turnaround, context_settings=SETTINGS, help=DESCRIPTION)
def cli() -> None:
    """The `turnaround` command."""


@cli.command(context_settings=SETTINGS, short_help="load new and changed input files into raw")
@config_option
@strict_option
@click.argument("sources", nargs=-1, metavar="[SOURCE ...]", type=click.Choice(SOURCES))
@click.pass_context
def load(ctx: click.Context, config: Path, strict: bool, sources: tuple[str, ...]) -> int:
    """Load new and changed input files (all sources, or the named ones) into the `raw` schema;
    files loaded before and unchanged are skipped, changed ones replace their rows."""
    from turnaround import app

    return app.cmd_load(read_config(ctx, config), list(sources), strict)


@cli.command(
    context_settings={**SETTINGS, "ignore_unknown_options": True},
    short_help="dbt build on the warehouse named in the config",
)
@config_option
@click.option("--full-refresh", is_flag=True, help="passed to dbt (`dbt build --full-refresh`)")
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED, metavar="[DBT ARGS]")
@click.pass_context
def build(ctx: click.Context, config: Path, full_refresh: bool, dbt_args: tuple[str, ...]) -> int:
    """`dbt build` on the config's warehouse; other arguments go to dbt (`--select marts`,
    `--vars '{max_receiver_skew_s: 30}'`, merged with the config's zone)."""
    from turnaround import app

    args = list(dbt_args[1:] if dbt_args[:1] == ("--",) else dbt_args)
    return app.cmd_build(read_config(ctx, config), args, full_refresh)


@cli.command(
    context_settings=SETTINGS, short_help="load, build, print the comparison, write the report"
)
@config_option
@strict_option
@click.option(
    "--full-refresh",
    is_flag=True,
    help="never skip dbt, and read and hash every input again (not only those whose size or "
    "mtime changed)",
)
@click.pass_context
def refresh(ctx: click.Context, config: Path, strict: bool, full_refresh: bool) -> int:
    """Load, then build, print the comparison table, then write the report. When the load
    brought nothing (no new, changed or rejected file), the last build succeeded and the dbt
    project is unchanged since, dbt is skipped (`nothing new since the build of …; marts are
    current`). Exits 1 when a dbt test at error severity fails."""
    from turnaround import app

    return app.cmd_refresh(read_config(ctx, config), strict, full_refresh)


@cli.command(context_settings=SETTINGS, short_help="write the report page and the comparison files")
@config_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help=f"output folder (default: {REPORT_OUT}/ beside the config file)",
)
@click.pass_context
def report(ctx: click.Context, config: Path, out: Path | None) -> int:
    """Write `DIR/index.html` (plotly.js beside it, no network needed) from the marts, and the
    comparison as `comparison.tex`, `.md`, `.csv`."""
    from turnaround import app

    return app.cmd_report(read_config(ctx, config), out)


@cli.command(context_settings=SETTINGS, short_help="dbt docs generate: catalog and lineage")
@config_option
@click.pass_context
def docs(ctx: click.Context, config: Path) -> int:
    """`dbt docs generate`: the catalog and lineage, the report as an exposure (site in
    `dbt/target/` beside the warehouse; serve it with `dbt docs serve`)."""
    from turnaround import app

    return app.cmd_docs(read_config(ctx, config))


@cli.command(
    context_settings=SETTINGS,
    short_help="service levels, stale sources, flagged weeks; exit 1 on a breach",
)
@config_option
@click.option(
    "--json", "as_json", is_flag=True, help="one JSON document (turnaround/check.schema.json)"
)
@click.option(
    "--as-of",
    metavar="TIME",
    help="judge freshness at this date or ISO 8601 time instead of now (UTC unless it says)",
)
@click.pass_context
def check(ctx: click.Context, config: Path, as_json: bool, as_of: str | None) -> int:
    """Read the marts (read-only, no dbt run) and print one line per service level (status,
    measured against promised, window), per source (its newest record against the age it may
    have) and per flagged trend week of the last window. Exits 0 when every level is met or has
    no data, 1 when a level of `error` severity is breached or such a source is stale."""
    # only DuckDB and the marts: no loader, dbt or pandas, so a monitor's call is quick
    from turnaround.check import parse_as_of, render, run_check

    moment = parse_as_of(as_of) if as_of else None
    found = run_check(read_config(ctx, config).warehouse, moment)
    click.echo(render(found, as_json))
    return found.exit_code


@cli.command(
    "pull-slurm", context_settings=SETTINGS, short_help="run sacct over windows into files to load"
)
@config_option
@click.option("--since", metavar="DATE", help="start (UTC), e.g. 2023-10-01")
@click.option("--until", metavar="DATE", help="end (UTC; default: now)")
@click.option(
    "--window-days", type=int, default=1, metavar="N", help="days per sacct call, 1 to 3660"
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="where the files go (default: slurm/pulled/ beside the config)",
)
@click.pass_context
def pull_slurm(
    ctx: click.Context,
    config: Path,
    since: str | None,
    until: str | None,
    window_days: int,
    out: Path | None,
) -> int:
    """Run `sacct --allocations --duplicates` (the sacct fields and `State`, `TZ=UTC`) over
    consecutive windows (each starts where the last ended; none skipped) into one file per
    window in `slurm/pulled/` beside the config; without `--since` it resumes where the last
    pull ended (`raw.slurm_pulls`)."""
    from turnaround import app

    return app.cmd_pull_slurm(read_config(ctx, config), since, until, out, window_days)


@cli.command(context_settings=SETTINGS, short_help="write a synthetic dataset and its config")
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, metavar="DIR", help="output folder"
)
@click.option(
    "--scale",
    type=int,
    default=1,
    metavar="N",
    help="volume as a multiple of the published data, 1 to 100 (default 1)",
)
@click.option("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
@click.option(
    "--force",
    is_flag=True,
    help="write into DIR even if it is not empty (files of the same names are replaced)",
)
def demo(out: Path, scale: int, seed: int, force: bool) -> int:
    """Write a synthetic dataset in the native input formats (shaped like the published data,
    deterministic by seed, with one of each defect the tests name in `defects/` folders) and a
    `turnaround.toml` for it, into an empty or new folder."""
    from turnaround import app

    return app.cmd_demo(out, scale, seed, force)


@cli.command(
    context_settings=SETTINGS, short_help="open the DuckDB shell on the warehouse, read-only"
)
@config_option
@click.pass_context
def shell(ctx: click.Context, config: Path) -> int:
    """Open the DuckDB shell (duckdb-cli) on the warehouse, read-only."""
    from turnaround import app

    return app.cmd_shell(read_config(ctx, config))


def failed(exc: BaseException, config: Any) -> int:
    """The exit code of a command that raised `exc`, its one line written (an interrupt and a
    reader that left are told apart from errors)."""
    if INTERRUPTS.count or isinstance(exc, KeyboardInterrupt):
        # whatever the interrupt surfaced as (DuckDB: "Query interrupted")
        doing = f"; {INTERRUPTS.doing}" if INTERRUPTS.doing else ""
        print(f"turnaround: interrupted{doing}", file=sys.stderr)
        return INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        # the reader of our output left (`| head`): main ends quietly (click would make an
        # OSError of a broken pipe its own exit 1)
        raise ReaderLeft from None
    if isinstance(exc, SystemExit | GeneratorExit):
        raise exc
    if os.environ.get("TURNAROUND_TRACEBACK") and not isinstance(exc, TurnaroundError):
        raise exc
    line, code = error_line(exc, config.warehouse if config is not None else None)
    print(line, file=sys.stderr)
    return code


def error_line(exc: BaseException, warehouse: Path | None) -> tuple[str, int]:
    """The one line (and exit code) for an error that ended a command."""
    if isinstance(exc, TurnaroundError):
        return f"turnaround: error: {exc}", exc.exit_code
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            where = Path(exc.filename) if exc.filename else warehouse or Path.cwd()
            return f"turnaround: error: {no_space(where)}", 2
        named = f"{exc.filename}: " if exc.filename else ""
        return f"turnaround: error: {named}{exc.strerror or exc}", 2
    duckdb = sys.modules.get("duckdb")  # only a command that imported DuckDB raises its errors
    if duckdb is not None and isinstance(exc, duckdb.Error) and warehouse is not None:
        from warehouse import damaged

        text = str(exc)
        known = damaged(warehouse, text)
        if known is not None:
            return f"turnaround: error: {known}", 2
        return f"turnaround: error: {warehouse}: {text.strip().splitlines()[0]}", 2
    kind = type(exc).__name__
    return f"turnaround: internal error: {kind}: {exc} (please report it)", 2


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (a usage error's is 2)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        # not `cli.main`: a Ctrl-C while click parses the arguments would print its blank line
        # first; here it reaches `main`, which says it in one line
        with cli.make_context("turnaround", args) as ctx:
            code = cli.invoke(ctx)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:  # --help
        return exc.exit_code
    except click.Abort:  # a prompt's Ctrl-C (click's own)
        print("turnaround: interrupted", file=sys.stderr)
        return INTERRUPTED
    return code if isinstance(code, int) else 0


def main() -> None:
    """Run the command with its Ctrl-C handler and exit with its code."""
    INTERRUPTS.install()
    if hasattr(sys.stdout, "reconfigure"):
        # a path whose bytes are not UTF-8 prints as \xNN escapes instead of failing
        sys.stdout.reconfigure(errors="backslashreplace")
    code = BROKEN_PIPE
    try:
        code = run()
        sys.stdout.flush()
    except (BrokenPipeError, ReaderLeft):
        # `turnaround load | head`: stop writing, without a traceback or an error line, with
        # the status a shell gives a command SIGPIPE ended (128 + 13), unless the command had
        # already failed (its code says more); whatever it had committed stays. stdout goes to
        # /dev/null so the exit's own flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = code or BROKEN_PIPE
    except KeyboardInterrupt:  # between the command's end and its exit
        doing = f"; {INTERRUPTS.doing}" if INTERRUPTS.doing else ""
        print(f"turnaround: interrupted{doing}", file=sys.stderr)
        code = INTERRUPTED
    # the command is over: a Ctrl-C now changes nothing (and Python's own exit would die of it)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code == INTERRUPTED:
        # an interrupt may have landed inside an import (DuckDB, numpy), leaving a C extension
        # half-initialised; the interpreter's finalisation then crashed (SIGSEGV) after the
        # line. Everything the command owns is unwound by now: exit without finalising.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
