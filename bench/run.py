"""`make bench`: time the pipeline on the published data and on demo data at x1, x10 and x100 of
its volume, and write bench/RESULTS.md. Not a test: CI does not run it (it takes long at x100).

Measures, in one run on this machine, each stage as its own `turnaround` process:

- the published data (read where it is, never copied): first load, dbt build, report, and a
  no-op refresh (nothing new; target: at most 5 s);
- per demo scale (`turnaround demo --scale N`): each loader (`turnaround load SOURCE`, one per
  source, into a fresh warehouse), `turnaround build`, a full `turnaround refresh` on a fresh
  warehouse with the newest day held back (bench/oneday.py), and the refresh after putting
  that day back (one more day; target at x100: at most 15% of the full refresh): wall time,
  files/s and rows/s from the ledger raw.loads, peak RSS (target at x100: full refresh at
  most 2 GB);
- the rec_status JSON loader against references (bench/reference.py): a plain Python read of
  every status file (target at x100: loader at most 1.5x that floor), `os.stat` of the tree
  (the walk floor, against a no-op reload), and the analysis notes' `cat | jq` + `date` loop
  over a 1,000-file sample (target at x100: the loader 1000x faster per file);
- the rec_status load as a user runs it: the whole `turnaround load rec_status` process
  against one whole plain-read Python process, for the dated tree and for the same files in one
  flat folder (target at x100: at most 1.5x, start-up and commit included);
- the pull from Distiller's PostgreSQL database at x100 the published rows (bench/distiller.py:
  a throwaway PostgreSQL server): first pull, a pull with nothing changed, a pull after one job
  changed (no target);
- the Spark engine (bench/spark.py): `turnaround build` of the same loaded warehouse on DuckDB,
  on Spark in local mode (`local[2]`) and on a standalone cluster of two workers, at x1 and x10
  (--spark-scales); Spark's fixed costs apart (session start, `select 1`, the cluster's start,
  an empty warehouse's build per dbt node) and a linear trend per engine with where Spark's
  would overtake DuckDB's (no target).

    .venv/bin/python bench/run.py [--scales 1,10,100] [--seed 0] [--work DIR] [--keep]
        [--distiller-scale 100] [--skip-distiller] [--spark-scales 1,10] [--skip-spark]

Needs jq, bash and GNU date for the cat|jq reference. Demo data goes to a temporary folder under
/tmp (or under --work DIR) and is removed at the end unless --keep.

This module is the entry point and the run per scale; beside it: bench/timing.py (one command
timed as a whole process), bench/records.py (what is measured), bench/scale.py (the stages at
one demo scale), bench/published.py (the published data), and bench/render.py with
bench/targets.py, bench/methods.py and bench/markdown.py (RESULTS.md).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import reference  # noqa: E402
from bench.markdown import load_average  # noqa: E402
from bench.oneday import manifest  # noqa: E402
from bench.published import bench_published  # noqa: E402
from bench.records import ScaleResult, Stage  # noqa: E402
from bench.render import render  # noqa: E402
from bench.scale import time_loaders, time_refreshes, time_status_processes  # noqa: E402
from bench.timing import DBT, REPEATS, has_flag, median_run, timed  # noqa: E402


def bench_scale(scale: int, seed: int, root: Path, full_refresh_flag: list[str]) -> ScaleResult:
    """Generate the demo at `scale` under root/x<scale> and time every stage on it."""
    result = ScaleResult(scale)
    base = root / f"x{scale}"
    data, logs = base / "data", base / "logs"
    print(f"x{scale}: generating the demo data", flush=True)
    demo = timed(
        logs / "demo.log", "demo", "--out", str(data), "--scale", str(scale), "--seed", str(seed)
    )
    original = manifest(data)
    result.tree_files = len(original)
    result.stages.append(Stage("generate the data (turnaround demo)", demo, len(original)))
    reference.warm_page_cache(data)
    time_loaders(result, data, base)
    time_status_processes(result, data, base)
    time_refreshes(result, data, base, original, full_refresh_flag)
    return result


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales",
        default="1,10,100",
        help="demo scales, comma-separated (default 1,10,100)",
    )
    parser.add_argument("--seed", type=int, default=0, help="demo seed (default 0)")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder for the generated data (default: a temporary folder under /tmp)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated data and warehouses"
    )
    parser.add_argument(
        "--distiller-scale",
        type=int,
        default=100,
        help="the Distiller database pull at this many times the published rows (default 100)",
    )
    parser.add_argument(
        "--skip-distiller",
        action="store_true",
        help="do not time the Distiller database pull (it needs the PostgreSQL server programs)",
    )
    parser.add_argument(
        "--spark-scales",
        default="1,10",
        help="demo scales of the Spark against DuckDB builds, comma-separated (default 1,10)",
    )
    parser.add_argument(
        "--skip-spark",
        action="store_true",
        help="do not time the builds on Spark (they need pyspark, dbt-spark and Java)",
    )
    args = parser.parse_args(argv)
    if args.distiller_scale < 1:
        parser.error("--distiller-scale: 1 or more")
    try:
        args.scale_list = [int(s) for s in args.scales.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--scales: not a list of integers: {args.scales}")
    if not args.scale_list or min(args.scale_list) < 1:
        parser.error("--scales: one or more scales of 1 or more")
    try:
        args.spark_scale_list = [int(s) for s in args.spark_scales.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--spark-scales: not a list of integers: {args.spark_scales}")
    if not args.spark_scale_list or min(args.spark_scale_list) < 1:
        parser.error("--spark-scales: one or more scales of 1 or more")
    return args


def start_up_costs(root: Path) -> tuple[float, float, float]:
    """Median wall times of `turnaround load --help` and `dbt --version`, and what importing
    pandas adds to a bare Python start."""
    startup = median_run(
        [timed(root / "logs" / f"help-{i}.log", "load", "--help") for i in range(REPEATS)]
    ).wall
    dbt_start = median_run(
        [
            timed(root / "logs" / f"dbt-version-{i}.log", "--version", program=DBT)
            for i in range(REPEATS)
        ]
    ).wall
    python = [
        timed(root / "logs" / f"python-{i}.log", "-c", "pass", program=sys.executable)
        for i in range(REPEATS)
    ]
    with_pandas = [
        timed(root / "logs" / f"pandas-{i}.log", "-c", "import pandas", program=sys.executable)
        for i in range(REPEATS)
    ]
    return startup, dbt_start, median_run(with_pandas).wall - median_run(python).wall


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    reference.require_tools()
    started, load_before = time.strftime("%Y-%m-%d %H:%M"), load_average()
    begin = time.perf_counter()
    full_refresh_flag = ["--full-refresh"] if has_flag("refresh", "--full-refresh") else []
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="turnaround-bench-", dir=args.work or "/tmp"))
    print(f"bench: working in {root}", flush=True)
    try:
        startup, dbt_start, pandas = start_up_costs(root)
        published = bench_published(root)
        results = [bench_scale(s, args.seed, root, full_refresh_flag) for s in args.scale_list]
        distiller = None
        if not args.skip_distiller:
            from bench.distiller import bench_distiller

            distiller = bench_distiller(root / "distiller", args.distiller_scale)
        spark = None
        if not args.skip_spark:
            from bench.spark import bench_spark

            spark = bench_spark(root / "spark", root, args.spark_scale_list, args.seed)
    finally:
        if args.keep:
            print(f"bench: kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    text = render(
        published,
        results,
        args,
        started,
        load_before,
        time.perf_counter() - begin,
        full_refresh_flag,
        startup,
        dbt_start,
        pandas,
        distiller,
        spark,
    )
    out = REPO / "bench" / "RESULTS.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
