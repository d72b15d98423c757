"""What each command does, behind the command line of `turnaround.commands`: load, build,
refresh, report, shell, pull-slurm and demo, each returning its exit code."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import duckdb

from loaders.config import REPORT_OUT, Config
from loaders.errors import TurnaroundError
from loaders.pipeline import LoadSummary, load
from loaders.pulls.sacct import inputs_reading, parse_day, pull_slurm
from reports.terminal import comparison_rows, format_comparison, rejected_counts
from turnaround.builds import (
    build,
    current_build,
    incomplete_build,
    last_build_results,
    ledger_fingerprint,
)
from turnaround.dbt import BuildResult, docs, read_results
from turnaround.interrupts import (
    BUILD_INTERRUPTED,
    INTERRUPTS,
    LOAD_COMMITTED,
    LOAD_INTERRUPTED,
)
from warehouse import connect

#: sacct windows longer than ten years are a typo (and a date past 9999 cannot be written)
MAX_WINDOW_DAYS = 3660


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
        summary = load(config, sources, strict=strict, rehash=rehash)
    except BaseException:
        if INTERRUPTS.count:
            INTERRUPTS.doing = LOAD_INTERRUPTED
            try:
                if ledger_fingerprint(config) != before:
                    INTERRUPTS.doing = LOAD_COMMITTED
            except (TurnaroundError, duckdb.Error):
                INTERRUPTS.doing = ""
        raise
    # committed: a Ctrl-C from here on (while the summary prints) finds the load in the warehouse
    INTERRUPTS.doing = LOAD_COMMITTED
    return summary


def cmd_load(config: Config, sources: list[str], strict: bool = False) -> int:
    summary = _load(config, sources, strict=strict)
    print(f"load {summary.load_id} into {config.warehouse}")
    for line in summary.lines():
        print(f"  {line}")
    return 0


def cmd_report(config: Config, out: Path | None) -> int:
    from reports.page import build_report  # plotly and pandas: only the commands that report

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


def cmd_pull_slurm(
    config: Config, since: str | None, until: str | None, out: Path | None, window_days: int
) -> int:
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise TurnaroundError(
            f"--window-days must be between 1 and {MAX_WINDOW_DAYS}, not {window_days}"
        )
    try:
        summary = pull_slurm(
            config,
            parse_day(since) if since else None,
            parse_day(until) if until else None,
            out,
            window_days,
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


def cmd_docs(config: Config) -> int:
    INTERRUPTS.doing = "dbt docs generate did not finish"
    return _report_build(docs(config))
