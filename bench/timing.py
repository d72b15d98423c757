"""Timing a command as a whole process for the benchmark (bench/run.py): wall time from start
to reaped, peak RSS from os.wait4, and the seconds a `turnaround load` reports for a source."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TURNAROUND = str(Path(sys.executable).with_name("turnaround"))
DBT = str(Path(sys.executable).with_name("dbt"))
REPEATS = 3  # published data: report and no-op refresh, median of
MIB = 2**20


@dataclass(frozen=True)
class Timed:
    """One `turnaround` command: wall seconds, peak RSS, exit code, where its output went."""

    wall: float
    rss_mib: float
    code: int
    log: Path


def timed(log: Path, *args: str, program: str = TURNAROUND) -> Timed:
    """Run `turnaround ARGS` (or another program) as a child process; output to `log`.

    Peak RSS is ru_maxrss of os.wait4 on the child: Linux gives the largest resident set of the
    child and of every descendant it waited for (dbt runs as a subprocess turnaround waits
    for), i.e. the biggest single process, not a sum of processes alive at the same time.
    Exit 1 of build or refresh (a dbt test at error severity failed) or of check (a breached
    level) is recorded; any other
    failure (or a Python traceback, which also exits 1) stops the bench.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        child = subprocess.Popen([program, *args], stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    crashed = "Traceback (most recent call last)" in log.read_text(errors="replace")
    # check exits 1 when a level is breached or a source stale (the demo's are, on purpose)
    if code != 0 and (crashed or code != 1 or args[0] not in ("build", "refresh", "check")):
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
        raise SystemExit(f"{Path(program).name} {' '.join(args)} failed ({code}):\n{tail}")
    return Timed(wall, usage.ru_maxrss * 1024 / MIB, code, log)


def median_run(runs: list[Timed]) -> Timed:
    """The run of median wall time (peak RSS: the largest of the runs)."""
    middle = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
    wall = statistics.median(r.wall for r in runs)
    return Timed(wall, max(r.rss_mib for r in runs), max(r.code for r in runs), middle.log)


def reported_seconds(log: Path, source: str) -> float:
    """The seconds `turnaround load` reports for one source (its line ends `; 1.23 s`)."""
    for line in log.read_text(encoding="utf-8").splitlines():
        found = re.match(rf"\s*{source}\s.*; ([0-9.]+) s$", line)
        if found:
            return float(found.group(1))
    raise SystemExit(f"bench: {log} reports no time for {source}")


def has_flag(command: str, flag: str) -> bool:
    """Whether `turnaround COMMAND --help` mentions the flag (the CLI may gain flags)."""
    done = subprocess.run(
        [TURNAROUND, command, "--help"], capture_output=True, text=True, check=False
    )
    return flag in done.stdout
