"""bench/RESULTS.md from the benchmark's measurements (bench/run.py): the tables per section;
the targets (bench/targets.py) and the notes on how each number was taken (bench/methods.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bench.markdown import machine, number, per_second, table
from bench.methods import methods
from bench.records import FLOOR_STAGES, ScaleResult, SparkResult
from bench.spark import spark_section
from bench.targets import targets
from bench.timing import REPEATS, Timed
from tests.conftest import INPUTS

if TYPE_CHECKING:
    from bench.distiller import DistillerResult

REPO = Path(__file__).resolve().parent.parent


def distiller_section(result: DistillerResult | None) -> list[str]:
    """The Distiller database pull (bench/distiller.py): a table and a reading; nothing when
    it did not run (--skip-distiller)."""
    if result is None:
        return []
    first, same, one = result.pulls
    return [
        f"## Distiller database pull (\N{MULTIPLICATION SIGN}{result.scale}, "
        f"{result.pairs:,} pairs)",
        "",
        "An era-2 Distiller database in a throwaway PostgreSQL 15 server (bench/distiller.py): "
        f"the {result.published_pairs:,} (scan, job) pairs of the published rows and of the "
        f"rows that must not count, copied x{result.scale} in SQL (ids offset, scan metadata "
        "kept), then VACUUM ANALYZE; each pull is the whole `turnaround load --config F "
        "distiller_db` process (input format `postgres`, the SELECT-only role over 127.0.0.1), "
        "and after each `raw.distiller_pulls` and `raw.distiller_db` must hold every pair. "
        "pairs/s: the pairs the pull read / its wall time. No target.",
        "",
        *table(
            ["pull", "wall s", "pairs/s", "peak RSS MiB"],
            "lrrr",
            (
                [
                    pull.name,
                    f"{pull.run.wall:.2f}",
                    f"{pull.pairs_per_second:,.0f}",
                    f"{pull.run.rss_mib:,.0f}",
                ]
                for pull in result.pulls
            ),
        ),
        "",
        f"Reading: the server hashes all {result.pairs:,} pairs first, so a pull that finds "
        f"nothing changed reads one row and takes {same.run.wall:.1f} s against "
        f"{first.run.wall:.1f} s for the first and {one.run.wall:.1f} s when one job's change "
        f"replaces the whole snapshot, at most {max(p.run.rss_mib for p in result.pulls):,.0f}"
        " MiB.",
        "",
    ]


def render(
    published: list[tuple[str, Timed, str]],
    results: list[ScaleResult],
    args: argparse.Namespace,
    started: str,
    load_before: str,
    seconds: float,
    full_refresh_flag: list[str],
    startup: float,
    dbt_start: float,
    pandas: float,
    distiller: DistillerResult | None = None,
    spark: SparkResult | None = None,
) -> str:
    noop = published[-1]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`bench/run.py --scales {args.scales} --seed {args.seed}"
        + (f" --spark-scales {args.spark_scales}" if spark is not None else " --skip-spark")
        + "`) "
        f"on {started}, in {seconds / 60:.1f} min, on: {machine()}; load average "
        f"(1/5/15 min) {load_before} at the start. Not run by CI. Starting `turnaround` "
        f"(`turnaround load --help`: the imports, no work; median of {REPEATS}) takes "
        f"{startup:.2f} s, part of every wall time below.",
        "",
        "## Targets",
        "",
        *targets(results, startup, pandas),
        f"| no-op refresh of the published data <= 5 s | {noop[1].wall:.2f} s | "
        f"{'met' if noop[1].wall <= 5 else 'MISSED'} |",
        "",
        "## Published data",
        "",
        f"The inputs in `{INPUTS.relative_to(REPO.parent)}`, read in place.",
        "",
        *table(
            ["stage", "wall (s)", "target", "peak RSS (MiB)", "exit"],
            "lrlrr",
            (
                [stage, f"{run.wall:.2f}", target, f"{run.rss_mib:,.0f}", str(run.code)]
                for stage, run, target in published
            ),
        ),
        "",
        "## Demo data, per stage",
        "",
        "`turnaround demo --scale N` (x1 = the published volume). files and rows: what the "
        "command's loads wrote to the ledger `raw.loads` (status `loaded` or `replaced`); "
        "for dbt build, rows is every row in raw it builds from.",
        "",
        *table(
            [
                "scale",
                "stage",
                "wall (s)",
                "files",
                "rows",
                "files/s",
                "rows/s",
                "peak RSS (MiB)",
                "exit",
            ],
            "rlrrrrrrr",
            (
                [
                    f"x{r.scale}",
                    s.name,
                    f"{s.run.wall:.2f}",
                    number(s.files),
                    number(s.rows),
                    per_second(s.files, s.run.wall),
                    per_second(s.rows, s.run.wall),
                    f"{s.run.rss_mib:,.0f}",
                    str(s.run.code),
                ]
                for r in results
                for s in r.stages
            ),
        ),
        "",
        "## One more day",
        "",
        *table(
            [
                "scale",
                "held back",
                "files in tree",
                "full refresh (s)",
                "one more day (s)",
                "one more day / full",
                "tree restored byte-identical",
            ],
            "rlrrrrl",
            (
                [
                    f"x{r.scale}",
                    f"{r.day}: {r.held_files:,} files, {r.held_lines:,} lines",
                    f"{r.tree_files:,}",
                    f"{r.stage_named('full').run.wall:.2f}",
                    f"{r.stage_named('one more day').run.wall:.2f}",
                    f"{r.stage_named('one more day').run.wall / r.stage_named('full').run.wall:.0%}",  # noqa: E501
                    "yes (sha256 of every file)" if r.identical else "NO",
                ]
                for r in results
            ),
        ),
        "",
        *(f"- x{r.scale}, held back: {r.held}." for r in results),
        "",
        "## What a refresh of one more day cannot shed",
        "",
        "After the refresh of one more day, the three things it does are timed again with nothing "
        "new: `load` (the ledger's change detection: a stat of every file of every input), "
        "`build` (dbt: its start, the parse, every model and test, every model rebuilt) and "
        "`report`. floor = their sum less what one refresh "
        f"process pays once and they paid each: the start of two of them ({startup:.2f} s each) "
        f"and pandas' import, which load and report both need ({pandas:.2f} s): what a refresh "
        "that brings any new data at all costs. Starting dbt alone (`dbt --version`, median of "
        f"{REPEATS}) takes {dbt_start:.2f} s.",
        "",
        *table(
            [
                "scale",
                "full refresh (s)",
                "one more day (s)",
                "load, nothing new (s)",
                "dbt build, nothing new (s)",
                "report (s)",
                "floor (s)",
                "floor / full",
            ],
            "rrrrrrrr",
            (
                [
                    f"x{r.scale}",
                    f"{r.stage_named('full').run.wall:.2f}",
                    f"{r.stage_named('one more day').run.wall:.2f}",
                    *(f"{r.stage_named(stage).run.wall:.2f}" for stage, _ in FLOOR_STAGES),
                    f"{r.floor(startup, pandas):.2f}",
                    f"{r.floor(startup, pandas) / r.stage_named('full').run.wall:.0%}",
                ]
                for r in results
            ),
        ),
        "",
        "## rec_status JSON loader against its references",
        "",
        *table(
            [
                "scale",
                "files",
                "load process (s)",
                "loader (s)",
                "read floor before / after (s)",
                "loader / floor",
                "stat floor (s, files)",
                "no-op reload (s)",
                "no-op / stat floor",
            ],
            "rrrrrrrrr",
            (
                [
                    f"x{r.scale}",
                    f"{ref.files:,}",
                    f"{ref.wall:.2f}",
                    f"{ref.loader:.2f}",
                    f"{ref.floor_before:.3f} / {ref.floor_after:.3f}",
                    f"{ref.loader / ref.floor:.1f}x",
                    f"{ref.stat_floor:.3f} ({ref.stat_files:,})",
                    f"{ref.noop_reload:.2f}",
                    f"{ref.noop_reload / ref.stat_floor:.1f}x",
                ]
                for r in results
                if (ref := r.reference) is not None
            ),
        ),
        "",
        *table(
            [
                "scale",
                "cat|jq sample",
                "cat|jq (s)",
                "cat|jq per file (ms)",
                "loader per file (µs)",
                "cat|jq / loader",
            ],
            "rrrrrr",
            (
                [
                    f"x{r.scale}",
                    f"{ref.jq_files:,}",
                    f"{ref.jq_seconds:.2f}",
                    f"{ref.jq_per_file * 1e3:.2f}",
                    f"{ref.loader_per_file * 1e6:.1f}",
                    f"{ref.jq_per_file / ref.loader_per_file:,.0f}x",
                ]
                for r in results
                if (ref := r.reference) is not None
            ),
        ),
        "",
        "## rec_status load as a whole process",
        "",
        *table(
            ["scale", "layout", "files", "plain-read process (s)", "load process (s)", "ratio"],
            "rlrrrr",
            (
                [
                    f"x{r.scale}",
                    p.layout,
                    f"{p.files:,}",
                    f"{p.floor:.2f}",
                    f"{p.load:.2f}",
                    f"{p.ratio:.2f}x",
                ]
                for r in results
                for p in r.processes
            ),
        ),
        "",
        "## File listings against the stat floor",
        "",
        *table(
            [
                "scale",
                "files",
                "stat floor before / after (s)",
                "walk, format dir (s)",
                "walk / floor",
                "listing, format stat (s)",
                "listing / floor",
            ],
            "rrrrrrr",
            (
                [
                    f"x{r.scale}",
                    f"{walk.files:,}",
                    f"{walk.floor_before:.3f} / {walk.floor_after:.3f}",
                    f"{walk.walk:.2f}",
                    f"{walk.walk / walk.floor:.2f}x",
                    f"{walk.listing:.2f}",
                    f"{walk.listing / walk.floor:.2f}x",
                ]
                for r in results
                if (walk := r.walk) is not None
            ),
        ),
        "",
        *distiller_section(distiller),
        *spark_section(spark),
        *methods(full_refresh_flag, spark is not None),
    ]
    return "\n".join(lines)
