"""Small formatting helpers of bench/RESULTS.md: Markdown tables, numbers, verdicts, and the
machine the benchmark ran on."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from pathlib import Path


def verdict(ok: bool, target: str) -> str:
    return f"{target}: {'met' if ok else 'MISSED'}"


def per_second(count: int | None, wall: float) -> str:
    return "-" if count is None or wall <= 0 else f"{count / wall:,.0f}"


def number(count: int | None) -> str:
    return "-" if count is None else f"{count:,}"


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


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def escape(cell: str) -> str:
    """A Markdown table cell: its `|` escaped."""
    return cell.replace("|", "\\|")


def table(header: Iterable[str], align: str, rows: Iterable[Iterable[str]]) -> list[str]:
    """A Markdown table; `align` has one character per column, `l` or `r`."""
    head = [escape(cell) for cell in header]
    rule = ["---:" if a == "r" else "---" for a in align]
    return [
        f"| {' | '.join(head)} |",
        f"| {' | '.join(rule)} |",
        *(f"| {' | '.join(escape(cell) for cell in row)} |" for row in rows),
    ]
