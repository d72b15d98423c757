"""`pull-slurm`: run `sacct` over consecutive windows into raw files that `load` picks up.

Windows share their boundaries, so no instant falls between two of them (the original script
skipped a day between windows); a job running across a boundary shows in both windows, and
staging keeps its finished record. sacct runs with TZ=UTC, so the files' times are UTC: the
config's slurm input for them says `timezone = "UTC"`. Each window pulled is recorded in
`raw.slurm_pulls`; the next pull starts where the last one ended.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loaders.config import Config
from loaders.errors import TurnaroundError
from loaders.raw_schema import create_raw_schema
from loaders.sources.slurm import PULL_FIELDS
from warehouse import connect

SACCT_STAMP = "%Y-%m-%dT%H:%M:%S"
DEFAULT_OUT = Path("slurm") / "pulled"


@dataclass
class PullSummary:
    """The windows one pull fetched and the files it wrote."""

    windows: list[tuple[datetime, datetime]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    lines: int = 0


def parse_day(text: str) -> datetime:
    """A `--since`/`--until` value (`2023-10-01` or `2023-10-01T12:00:00`) as a UTC instant."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TurnaroundError(f"{text!r} is not a date like 2023-10-01") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def windows(since: datetime, until: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """Consecutive [start, end] windows of `days` covering since..until; each starts where the
    previous one ended."""
    if until <= since:
        raise TurnaroundError(
            f"--until ({until:%Y-%m-%d %H:%M}) is not after the start ({since:%Y-%m-%d %H:%M})"
        )
    out = []
    start = since
    while start < until:
        end = min(start + timedelta(days=days), until)
        out.append((start, end))
        start = end
    return out


def last_pulled_end(config: Config) -> datetime | None:
    """Where the last pull ended, from the warehouse's record of pulls."""
    if not config.warehouse.exists():
        return None
    con = connect(config.warehouse)
    try:
        con.begin()
        create_raw_schema(con)
        con.commit()
        (end,) = con.execute("select max(window_end) from raw.slurm_pulls").fetchone() or (None,)
    finally:
        con.close()
    return end.astimezone(UTC) if end is not None else None


def sacct_command(start: datetime, end: datetime) -> list[str]:
    """The sacct call for one window: allocations only, duplicates (requeued jobs) kept, the
    job's state asked for (a job cancelled while running ends with ExitCode 0:0 too)."""
    sacct = shutil.which("sacct")
    if sacct is None:
        raise TurnaroundError("sacct is not on PATH: run pull-slurm on a Slurm login node")
    return [
        sacct,
        "--parsable2",
        "--allocations",
        "--duplicates",
        "--allusers",
        f"--format={','.join(PULL_FIELDS)}",
        f"--starttime={start.strftime(SACCT_STAMP)}",
        f"--endtime={end.strftime(SACCT_STAMP)}",
    ]


def pull_slurm(
    config: Config,
    since: datetime | None,
    until: datetime | None = None,
    out: Path | None = None,
    days: int = 1,
) -> PullSummary:
    """Run sacct window by window from `since` (default: where the last pull ended) to `until`
    (default: now), writing `out/sacct_<start>_<end>.txt` per window."""
    start = since or last_pulled_end(config)
    if start is None:
        raise TurnaroundError("no earlier pull in this warehouse: give --since DATE")
    end = until or datetime.now(UTC).replace(second=0, microsecond=0)
    folder = out if out is not None else config.path.parent / DEFAULT_OUT
    folder.mkdir(parents=True, exist_ok=True)
    summary = PullSummary()
    env = {**os.environ, "TZ": "UTC", "SLURM_TIME_FORMAT": "standard"}
    for window_start, window_end in windows(start, end, days):
        command = sacct_command(window_start, window_end)
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise TurnaroundError(
                f"sacct failed for {window_start:%Y-%m-%d %H:%M}..{window_end:%Y-%m-%d %H:%M} "
                f"(exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
            )
        name = f"sacct_{window_start:%Y%m%dT%H%M%SZ}_{window_end:%Y%m%dT%H%M%SZ}.txt"
        target = folder / name
        partial = target.with_suffix(".part")
        partial.write_text(done.stdout, encoding="utf-8")
        partial.replace(target)  # a killed pull never leaves half a file for load to read
        lines = sum(1 for line in done.stdout.splitlines() if line.strip())
        _record_pull(config, window_start, window_end, target, lines)
        summary.windows.append((window_start, window_end))
        summary.files.append(target)
        summary.lines += lines
    return summary


def _record_pull(config: Config, start: datetime, end: datetime, path: Path, lines: int) -> None:
    con = connect(config.warehouse)
    try:
        con.begin()
        create_raw_schema(con)
        con.execute(
            "insert into raw.slurm_pulls values (?, ?, ?, ?, ?)",
            [start, end, str(path.resolve()), lines, datetime.now(UTC)],
        )
        con.commit()
    finally:
        con.close()


def inputs_reading(config: Config, files: list[Path]) -> list[str]:
    """Problems with the config's slurm inputs for the pulled files (none when one reads them
    as sacct text in UTC)."""
    wanted = {f.resolve() for f in files}
    for spec in config.inputs:
        if spec.source == "slurm" and spec.format == "sacct" and wanted <= set(spec.resolve()):
            if spec.timezone != "UTC":
                return [
                    'the slurm input that reads the pulled files needs timezone = "UTC" '
                    "(sacct ran with TZ=UTC)"
                ]
            return []
    return [
        "no slurm input of format sacct matches the pulled files: add one with "
        f'paths = ["{DEFAULT_OUT.as_posix()}/*.txt"] and timezone = "UTC"'
    ]
