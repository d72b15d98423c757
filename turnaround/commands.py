"""The `turnaround` command: a thin layer over the library (load, build, refresh, report, docs,
pull-slurm, demo, shell).

Exit codes: 0 ok, 1 data-quality failure (a dbt test at error severity), 2 usage or input error
with a message naming the file (and line) at fault, 130 interrupted (Ctrl-C), 141 the reader of
the output left. No command prints a traceback (`TURNAROUND_TRACEBACK=1` shows an unexpected
error's).
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import duckdb

from loaders.config import DEFAULT_CONFIG, REPORT_OUT, SOURCES, Config, load_config
from loaders.errors import TurnaroundError
from loaders.pipeline import LoadSummary, load
from loaders.pulls.sacct import inputs_reading, parse_day, pull_slurm
from reports.terminal import comparison_rows, format_comparison, rejected_counts
from turnaround.dbt import (
    BuildResult,
    build,
    current_build,
    docs,
    incomplete_build,
    last_build_results,
    ledger_fingerprint,
    read_results,
)
from warehouse import check_path, connect, damaged, no_space

BROKEN_PIPE = 141  # 128 + SIGPIPE
INTERRUPTED = 130  # 128 + SIGINT
#: sacct windows longer than ten years are a typo (and a date past 9999 cannot be written)
MAX_WINDOW_DAYS = 3660
BUILD_INTERRUPTED = (
    "the build did not finish, so the marts are from an incomplete build until the next "
    "`turnaround refresh` (or `build`) completes one"
)
LOAD_INTERRUPTED = "the warehouse is as it was before this load"
LOAD_COMMITTED = "this load had already committed: its files are in the warehouse"


@dataclass
class Interrupts:
    """Ctrl-C in this process: the first raises KeyboardInterrupt where the command is, which
    it unwinds through (a load rolls back, dbt is stopped, worker processes finish their chunk
    and exit); later ones are ignored so that clean-up finishes, but a third ends the process
    at once. Forked worker processes inherit the handler and ignore SIGINT: the main process
    stops them."""

    pid: int = 0
    count: int = 0
    unraisable: Callable[[sys.UnraisableHookArgs], object] = sys.unraisablehook
    #: what the command was doing, said in the one line an interrupt ends it with
    doing: str = ""

    def install(self) -> None:
        """Handle SIGINT in this process (and the interrupts Python could not raise)."""
        self.pid = os.getpid()
        signal.signal(signal.SIGINT, self.handle)
        self.unraisable = sys.unraisablehook
        sys.unraisablehook = self.swallowed

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler (see the class)."""
        if os.getpid() != self.pid:
            return
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt
        if self.count >= 3:
            os.write(2, b"turnaround: interrupted again; stopping at once\n")
            os._exit(INTERRUPTED)

    def swallowed(self, info: sys.UnraisableHookArgs) -> None:
        """An interrupt raised where Python cannot raise (a fork's or a finaliser's callback)
        is not lost, nor printed: it is delivered again, at the next point that can raise."""
        if isinstance(info.exc_value, KeyboardInterrupt) and os.getpid() == self.pid:
            self.count = 0
            signal.raise_signal(signal.SIGINT)
            return
        self.unraisable(info)


INTERRUPTS = Interrupts()


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="FILE",
        help=f"config file (default: ./{DEFAULT_CONFIG})",
    )


def _add_strict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail the whole load (exit 2, naming file and line) at the first malformed record "
        "instead of setting it aside in raw.rejected_records",
    )


def _add_full_refresh(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from scratch (dbt --full-refresh) and, on "
        "refresh, read and hash every input again (not only those whose size or mtime "
        "changed); never skips dbt",
    )


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="turnaround",
        description="Measure how fast 4D Camera data reaches the supercomputer: "
        "load raw telemetry into a DuckDB warehouse and build the marts with dbt.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_load = commands.add_parser(
        "load",
        help="load new and changed input files into the raw schema",
        description="Load the inputs of the config (or only the named sources) into raw tables. "
        "Files already loaded unchanged are skipped; changed files replace their rows.",
    )
    _add_config(p_load)
    _add_strict(p_load)
    p_load.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help=f"only these sources ({', '.join(SOURCES)})",
    )

    p_build = commands.add_parser(
        "build",
        help="dbt build on the warehouse named in the config",
        description="Run `dbt build` on the config's warehouse; extra arguments go to dbt "
        "(e.g. `turnaround build --select marts`).",
    )
    _add_config(p_build)
    _add_full_refresh(p_build)
    p_build.add_argument(
        "dbt_args",
        nargs=argparse.REMAINDER,
        metavar="DBT ARGS",
        help="arguments passed to dbt build",
    )

    p_refresh = commands.add_parser(
        "refresh",
        help="load, then build, then print the comparison table",
        description="Load every input, run dbt build and print the file transfer vs "
        "streaming comparison. Exits 1 when a dbt test at error severity fails. When the load "
        "brought nothing and the last build succeeded on the same dbt project, dbt is skipped.",
    )
    _add_config(p_refresh)
    _add_strict(p_refresh)
    _add_full_refresh(p_refresh)

    p_demo = commands.add_parser(
        "demo",
        help="write a synthetic dataset and a turnaround.toml for it",
        description="Write a synthetic dataset in the native input formats, shaped like the "
        "published data (deterministic by seed), and a turnaround.toml that loads it.",
    )
    p_demo.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p_demo.add_argument(
        "--scale",
        type=int,
        default=1,
        metavar="N",
        help="volume as a multiple of the published data (default 1)",
    )
    p_demo.add_argument("--seed", type=int, default=0, metavar="S", help="random seed")
    p_demo.add_argument(
        "--force",
        action="store_true",
        help="write into DIR even if it is not empty (files of the same names are replaced)",
    )

    p_report = commands.add_parser(
        "report",
        help="write the report page and the comparison table as LaTeX, Markdown and CSV",
        description="Write DIR/index.html (plotly.js beside it, no network needed) from the "
        "marts, and DIR/comparison.{tex,md,csv}.",
    )
    _add_config(p_report)
    p_report.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"output folder (default: {REPORT_OUT}/ beside the config file)",
    )

    p_docs = commands.add_parser(
        "docs",
        help="dbt docs generate: the catalog and lineage (the report's exposure included)",
        description="Run `dbt docs generate` on the config's warehouse; the site is written to "
        "dbt/target/ beside the warehouse (serve it with `dbt docs serve`).",
    )
    _add_config(p_docs)

    p_pull = commands.add_parser(
        "pull-slurm",
        help="run sacct over consecutive windows into raw files for load",
        description="Run `sacct --allocations --duplicates` (TZ=UTC) over consecutive windows "
        "from --since (default: where the last pull ended) to --until (default: now), writing "
        "one file per window for `turnaround load`; the config's slurm input for them needs "
        'timezone = "UTC".',
    )
    _add_config(p_pull)
    p_pull.add_argument("--since", metavar="DATE", help="start (UTC), e.g. 2023-10-01")
    p_pull.add_argument("--until", metavar="DATE", help="end (UTC; default: now)")
    p_pull.add_argument(
        "--window-days", type=int, default=1, metavar="N", help="days per sacct call (default 1)"
    )
    p_pull.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the files go (default: slurm/pulled/ beside the config)",
    )

    p_shell = commands.add_parser(
        "shell",
        help="open the DuckDB shell on the warehouse, read-only",
        description="Open the DuckDB shell (duckdb-cli) on the config's warehouse, read-only.",
    )
    _add_config(p_shell)
    return parser


def _report_build(result: BuildResult) -> int:
    print(result.summary())
    for warning in result.warnings:
        print(f"  warn: {warning}")
    for failure in result.failures:
        print(f"  error: {failure}", file=sys.stderr)
    return result.exit_code


def _program() -> str:
    """How the user invoked this command (`.venv/bin/turnaround` from make), for hints."""
    invoked = sys.argv[0] if sys.argv else ""
    return invoked if Path(invoked).name == "turnaround" else "turnaround"


def _load(
    config: Config, sources: list[str], strict: bool = False, rehash: bool = False
) -> LoadSummary:
    """`load`, whose interruption says whether the warehouse changed: the ledger before is
    compared with the ledger after (a load interrupted while it committed may have)."""
    before = ledger_fingerprint(config)
    try:
        return load(config, sources, strict=strict, rehash=rehash)
    except BaseException:
        if INTERRUPTS.count:
            INTERRUPTS.doing = LOAD_INTERRUPTED
            try:
                if ledger_fingerprint(config) != before:
                    INTERRUPTS.doing = LOAD_COMMITTED
            except (TurnaroundError, duckdb.Error):
                INTERRUPTS.doing = ""
        raise


def cmd_load(config: Config, sources: list[str], strict: bool = False) -> int:
    summary = _load(config, sources, strict=strict)
    print(f"load {summary.load_id} into {config.warehouse}")
    for line in summary.lines():
        print(f"  {line}")
    return 0


def cmd_report(config: Config, out: Path | None) -> int:
    from reports import build_report  # plotly and pandas: only the commands that report

    out = out if out is not None else config.path.parent / REPORT_OUT
    incomplete = incomplete_build(config)
    notice = None
    if incomplete:
        notice = (
            f"The marts are from an incomplete build ({incomplete}): some may be older than "
            f"others. Run `{_program()} refresh --config {config.path}` to complete it."
        )
    result = build_report(
        config.path,
        config.warehouse,
        out,
        last_build_results(config),
        config.timezone,
        notice=notice,
    )
    print(f"Report: {result.index.resolve()}")
    if incomplete:
        print(f"  note: the marts are from an incomplete build ({incomplete})")
    if result.empty_marts:
        print(f"  empty marts: {', '.join(result.empty_marts)}")
    return 0


def _loaded_nothing(summary: LoadSummary) -> bool:
    return not summary.reject_kinds and all(
        t.files_new == 0 and t.files_replaced == 0 and t.rejected == 0
        for t in summary.sources.values()
    )


def cmd_build(config: Config, dbt_args: list[str], full_refresh: bool = False) -> int:
    INTERRUPTS.doing = BUILD_INTERRUPTED
    result = build(config, dbt_args, full_refresh=full_refresh)
    INTERRUPTS.doing = ""
    return _report_build(result)


def cmd_refresh(config: Config, strict: bool = False, full_refresh: bool = False) -> int:
    summary = _load(config, [], strict=strict, rehash=full_refresh)
    print(f"load {summary.load_id} into {config.warehouse}")
    for line in summary.lines():
        print(f"  {line}")
    sys.stdout.flush()  # before dbt writes to the same output (and a reader that left stops us)
    state = None
    if not full_refresh and _loaded_nothing(summary):
        state = current_build(config, ["--quiet"])
    if state is not None:
        last = read_results(last_build_results(config)).summary()
        print(f"nothing new since the build of {state['finished_at']}; marts are current ({last})")
        code = 0
    else:
        incomplete = incomplete_build(config)
        if incomplete:
            print(f"the marts are from an incomplete build ({incomplete}); building again")
            sys.stdout.flush()
        code = cmd_build(config, ["--quiet"], full_refresh)
    if code == 2:
        return 2
    print()
    if code != 0:
        print("(this build had errors: models that failed or were skipped keep their last state)")
    print(format_comparison(comparison_rows(config.warehouse)))
    rejected = rejected_counts(config.warehouse)
    if rejected:
        print()
        print("Rejected records in the warehouse (raw.rejected_records):")
        for source, kind, count in rejected:
            print(f"  {count:>6}  {source}: {kind}")
    print()
    print(f"Warehouse: {config.warehouse}")
    print(f"Open it with: {_program()} shell --config {config.path}")
    cmd_report(config, None)
    return code


def cmd_shell(config: Config) -> int:
    if not config.warehouse.exists():
        raise TurnaroundError(
            f"{config.warehouse}: no warehouse yet; run `turnaround refresh --config "
            f"{config.path}` first"
        )
    connect(config.warehouse, read_only=True).close()  # one sentence if a writer holds it
    beside = Path(sys.executable).with_name("duckdb")
    duckdb_cli = str(beside) if beside.exists() else shutil.which("duckdb")
    if not duckdb_cli:
        raise TurnaroundError("the DuckDB shell (duckdb-cli) is not installed; run `make run`")
    os.execv(duckdb_cli, [duckdb_cli, "-readonly", str(config.warehouse)])
    return 0  # not reached


def cmd_pull_slurm(config: Config, args: argparse.Namespace) -> int:
    if not 1 <= args.window_days <= MAX_WINDOW_DAYS:
        raise TurnaroundError(
            f"--window-days must be between 1 and {MAX_WINDOW_DAYS}, not {args.window_days}"
        )
    try:
        summary = pull_slurm(
            config,
            parse_day(args.since) if args.since else None,
            parse_day(args.until) if args.until else None,
            args.out,
            args.window_days,
        )
    except OverflowError:
        raise TurnaroundError(
            "--since, --until and --window-days reach past the year 9999"
        ) from None
    first, last = summary.windows[0][0], summary.windows[-1][1]
    print(
        f"pulled {len(summary.windows)} windows, {first:%Y-%m-%d %H:%M} to "
        f"{last:%Y-%m-%d %H:%M} UTC: {summary.lines} lines in {summary.files[0].parent}"
    )
    for problem in inputs_reading(config, summary.files):
        print(f"warning: {problem}", file=sys.stderr)
    print(f"Load them with: {_program()} load --config {config.path} slurm")
    return 0


def cmd_demo(out: Path, scale: int, seed: int, force: bool = False) -> int:
    from turnaround.demo import MAX_SCALE, write_demo

    if not 1 <= scale <= MAX_SCALE:
        raise TurnaroundError(f"--scale must be between 1 and {MAX_SCALE}, not {scale}")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise TurnaroundError(
            f"{out} is not empty: the demo writes a whole project there (its turnaround.toml "
            "and inputs); choose an empty or new folder, or pass --force to write over it"
        )
    if out.exists() and not out.is_dir():
        raise TurnaroundError(f"{out} is a file, not a folder")
    INTERRUPTS.doing = f"{out} holds part of a demo: run the command again with --force"
    config_path = write_demo(out, scale=scale, seed=seed)
    INTERRUPTS.doing = ""
    print(f"demo dataset (scale {scale}, seed {seed}) written; config: {config_path}")
    return 0


def _dispatch(args: argparse.Namespace, extra: list[str], context: dict[str, Config]) -> int:
    """Run the parsed command (`context` gets the config once read, for error messages)."""
    if args.command == "demo":
        return cmd_demo(args.out, args.scale, args.seed, args.force)
    config = context["config"] = load_config(args.config)
    check_path(config.warehouse)
    if args.command == "load":
        return cmd_load(config, args.sources, args.strict)
    if args.command == "build":
        dbt_args = [*extra, *args.dbt_args]
        if dbt_args[:1] == ["--"]:
            dbt_args = dbt_args[1:]
        return cmd_build(config, dbt_args, args.full_refresh)
    if args.command == "refresh":
        return cmd_refresh(config, args.strict, args.full_refresh)
    if args.command == "report":
        return cmd_report(config, args.out)
    if args.command == "pull-slurm":
        return cmd_pull_slurm(config, args)
    if args.command == "docs":
        INTERRUPTS.doing = "dbt docs generate did not finish"
        return _report_build(docs(config))
    return cmd_shell(config)


def _error_line(exc: BaseException, config: Config | None) -> tuple[str, int]:
    """The one line (and exit code) for an error that ended a command."""
    if isinstance(exc, TurnaroundError):
        return f"turnaround: error: {exc}", exc.exit_code
    warehouse = config.warehouse if config is not None else None
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            where = Path(exc.filename) if exc.filename else warehouse or Path.cwd()
            return f"turnaround: error: {no_space(where)}", 2
        where = f"{exc.filename}: " if exc.filename else ""
        return f"turnaround: error: {where}{exc.strerror or exc}", 2
    if isinstance(exc, duckdb.Error) and warehouse is not None:
        text = str(exc)
        known = damaged(warehouse, text)
        if known is not None:
            return f"turnaround: error: {known}", 2
        return f"turnaround: error: {warehouse}: {text.strip().splitlines()[0]}", 2
    kind = type(exc).__name__
    return f"turnaround: internal error: {kind}: {exc} (please report it)", 2


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "build":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    context: dict[str, Config] = {}
    try:
        return _dispatch(args, extra, context)
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        if INTERRUPTS.count or isinstance(exc, KeyboardInterrupt):
            # whatever the interrupt surfaced as (DuckDB: "Query interrupted")
            doing = f"; {INTERRUPTS.doing}" if INTERRUPTS.doing else ""
            print(f"turnaround: interrupted{doing}", file=sys.stderr)
            return INTERRUPTED
        if isinstance(exc, BrokenPipeError):
            raise  # the reader of our output left (`| head`): main ends quietly
        if os.environ.get("TURNAROUND_TRACEBACK") and not isinstance(exc, TurnaroundError):
            raise
        line, code = _error_line(exc, context.get("config"))
        print(line, file=sys.stderr)
        return code


def main() -> None:
    """Console-script entry point."""
    INTERRUPTS.install()
    if hasattr(sys.stdout, "reconfigure"):
        # a path whose bytes are not UTF-8 prints as \xNN escapes instead of failing
        sys.stdout.reconfigure(errors="backslashreplace")
    code = BROKEN_PIPE
    try:
        code = run()
        sys.stdout.flush()
    except BrokenPipeError:
        # `turnaround load | head`: stop writing, without a traceback or an error line, with
        # the status a shell gives a command SIGPIPE ended (128 + 13), unless the command had
        # already failed (its code says more); whatever it had committed stays. stdout goes to
        # /dev/null so the exit's own flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = code or BROKEN_PIPE
    except KeyboardInterrupt:  # between the command's end and its exit
        print("turnaround: interrupted", file=sys.stderr)
        code = INTERRUPTED
    # the command is over: a Ctrl-C now changes nothing (and Python's own exit would die of it)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
