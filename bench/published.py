"""The published-data stages of the benchmark (bench/run.py): first load, dbt build, report and
no-op refresh on the published inputs, read where they are."""

from __future__ import annotations

from pathlib import Path

from bench.markdown import verdict
from bench.timing import REPEATS, Timed, median_run, timed
from tests.conftest import write_published_config


def bench_published(root: Path) -> list[tuple[str, Timed, str]]:
    """The published data: first load, build, report (median), no-op refresh (median)."""
    folder = root / "published"
    config = write_published_config(folder)
    logs = folder / "logs"
    print("published: load, build, report, no-op refresh", flush=True)
    rows = [
        ("load (first time)", timed(logs / "load.log", "load", "--config", str(config)), "-"),
        ("dbt build", timed(logs / "build.log", "build", "--config", str(config), "--quiet"), "-"),
    ]
    reports = [
        timed(
            logs / f"report-{i}.log",
            "report",
            "--config",
            str(config),
            "--out",
            str(folder / "report"),
        )
        for i in range(REPEATS)
    ]
    report = median_run(reports)
    rows.append((f"report (median of {REPEATS})", report, verdict(report.wall < 10, "< 10 s")))
    noops = [
        timed(logs / f"refresh-{i}.log", "refresh", "--config", str(config)) for i in range(REPEATS)
    ]
    noop = median_run(noops)
    rows.append((f"no-op refresh (median of {REPEATS})", noop, verdict(noop.wall <= 5, "<= 5 s")))
    return rows
