"""`make bench`: time the stages on the published data and write bench/RESULTS.md.

Measures, in one run on this machine: the load, the dbt build, and report generation (the
report's target: under 10 s for the published data). Not a test: CI does not run it.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import INPUTS, write_published_config  # noqa: E402

TURNAROUND = str(Path(sys.executable).with_name("turnaround"))
REPEATS = 3


def timed(*args: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one `turnaround` command in a child process (the
    largest of the command and what it waited for, e.g. dbt)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [TURNAROUND, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"turnaround {' '.join(args)} failed ({code})")
    return wall, usage.ru_maxrss // 1024


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
        f"{memory:.0f} GiB, Python {platform.python_version()}"
    )


def main() -> None:
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="turnaround-bench-") as tmp:
        config = write_published_config(Path(tmp))
        wall, rss = timed("load", "--config", str(config))
        rows.append(("load (published data, first time)", f"{wall:.2f}", "-", str(rss)))
        wall, rss = timed("build", "--config", str(config), "--quiet")
        rows.append(("dbt build", f"{wall:.2f}", "-", str(rss)))
        walls = []
        for _ in range(REPEATS):
            wall, rss = timed("report", "--config", str(config), "--out", f"{tmp}/report")
            walls.append(wall)
        median = statistics.median(walls)
        verdict = "met" if median < 10 else "MISSED"
        rows.append(
            (f"report (median of {REPEATS})", f"{median:.2f}", f"< 10 s: {verdict}", str(rss))
        )
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` ({time.strftime('%Y-%m-%d')}) on: {machine()}.",
        f"Data: the published inputs in `{INPUTS.relative_to(REPO.parent)}`. Each stage runs "
        "as its own `turnaround` process; wall time includes starting Python (and dbt).",
        "",
        "| stage | wall (s) | target | peak RSS (MiB) |",
        "|---|---:|---|---:|",
        *(f"| {stage} | {wall} | {target} | {rss} |" for stage, wall, target, rss in rows),
        "",
    ]
    out = REPO / "bench" / "RESULTS.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
