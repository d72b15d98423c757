"""Hold back the newest day of a demo dataset, and put it back byte for byte.

`hold_back_day(data, stash)` takes out of the tree `turnaround demo` wrote:

- the newest `ncem/rec_status/<date>/` folder (that date is "the day"; local to the facility);
- every `slurm/sacct_<from>_<to>.txt` whose window covers the day (`from <= day < to`), whole;
- the lines of `distiller_db/<W>_<W>.csv` whose `slurm_id` is a job sacct shows as submitted on
  the day (a row without a job, or naming a job sacct does not know, has no date: it stays);
- the lines of the stat listings `ncem/data_files_*.txt` and `nersc/counted_files_*.txt` whose
  mtime falls on the day (facility-local).

Folders and files are moved to `stash`; lines are kept in memory with their line numbers.
`restore(held)` moves and inserts them back. `manifest(data)` (a sha256 per file) before and
after proves nothing was lost or invented; the split also checks each file it rewrites: the
kept lines and the held lines, merged, are the original bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

SACCT_NAME = re.compile(r"sacct_(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})\.txt")
SACCT_FIELDS = "JobName|JobID|Timelimit|Elapsed|Submit|Start|End|ReqNodes|QOS|User|ExitCode"
LISTINGS = ("ncem/data_files_*.txt", "nersc/counted_files_*.txt")


@dataclass
class HeldLines:
    """Lines taken out of one file: (0-based line number in the original, line with its end)."""

    path: Path
    lines: list[tuple[int, bytes]]
    total: int  # lines in the original file


@dataclass
class HeldBack:
    """What `hold_back_day` took out of the tree, and where it went."""

    data: Path
    stash: Path
    day: date
    moved: list[Path] = field(default_factory=list)  # relative to data (and to stash)
    lines: list[HeldLines] = field(default_factory=list)

    def describe(self) -> str:
        """One line: what was held back."""
        parts = [
            f"{path.as_posix()}{'/' if (self.stash / path).is_dir() else ''}" for path in self.moved
        ]
        parts += [
            f"{len(held.lines)} of {held.total} lines of {held.path.relative_to(self.data)}"
            for held in self.lines
            if held.lines
        ]
        return "; ".join(parts)

    def files_moved(self) -> int:
        """Files in the moved folders and files."""
        count = 0
        for path in self.moved:
            full = self.stash / path
            count += sum(len(files) for _, _, files in os.walk(full)) if full.is_dir() else 1
        return count


def manifest(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    digests: dict[str, str] = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            digests[path.relative_to(root).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return digests


def newest_day(data: Path) -> date:
    """The newest date-named folder of ncem/rec_status."""
    days = [
        date.fromisoformat(p.name)
        for p in (data / "ncem" / "rec_status").iterdir()
        if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.name)
    ]
    if not days:
        raise ValueError(f"{data}: no ncem/rec_status/<date>/ folder")
    return max(days)


def mtime_day(mtime: str, zone: ZoneInfo) -> date:
    """The local day of a listing's mtime: `%Y` / `%T@` epoch seconds or `%y` local text."""
    if re.fullmatch(r"\d+(\.\d+)?", mtime):
        return datetime.fromtimestamp(int(mtime.split(".")[0]), zone).date()
    return date.fromisoformat(mtime[:10])  # `%y` is already in the facility's zone


def jobs_submitted_on(day: date, sacct_files: list[Path]) -> set[str]:
    """Ids of the jobs (not steps) any sacct file shows as submitted on `day` (local)."""
    jobs: set[str] = set()
    for path in sacct_files:
        fields = SACCT_FIELDS.split("|")
        for line in path.read_text(encoding="utf-8").splitlines():
            values = line.split("|")
            if values[:2] == ["JobName", "JobID"]:
                fields = values
                continue
            record = dict(zip(fields, values, strict=False))
            job, submit = record.get("JobID", ""), record.get("Submit", "")
            if "." not in job and submit[:10] == day.isoformat():
                jobs.add(job)
    return jobs


def take_lines(path: Path, belongs: Callable[[str], bool]) -> HeldLines:
    """Rewrite `path` without the lines that `belongs` to the day; return what was taken out."""
    original = path.read_bytes()
    lines = original.splitlines(keepends=True)
    held: list[tuple[int, bytes]] = []
    kept: list[bytes] = []
    for number, line in enumerate(lines):
        if belongs(line.rstrip(b"\r\n").decode("utf-8")):
            held.append((number, line))
        else:
            kept.append(line)
    if merge(kept, held) != original:  # never lose or invent a byte
        raise AssertionError(f"{path}: splitting off the day does not round-trip")
    if held:
        path.write_bytes(b"".join(kept))
    return HeldLines(path, held, len(lines))


def merge(kept: list[bytes], held: list[tuple[int, bytes]]) -> bytes:
    """The original file: the held lines put back at their line numbers among the kept ones."""
    lines = list(kept)
    for number, line in held:  # ascending, so each lands where it was
        lines.insert(number, line)
    return b"".join(lines)


def distiller_row_of(jobs: set[str]) -> Callable[[str], bool]:
    """A Distiller export row (`id,slurm_id,elapsed`) of one of `jobs` (never the header)."""

    def belongs(line: str) -> bool:
        values = line.split(",")
        return len(values) > 1 and values[1] in jobs

    return belongs


def listing_line_of(day: date, zone: ZoneInfo) -> Callable[[str], bool]:
    """A stat listing line (`<path>|<mtime>`) whose mtime is on `day`."""

    def belongs(line: str) -> bool:
        _, bar, mtime = line.rpartition("|")
        return bool(bar) and mtime_day(mtime, zone) == day

    return belongs


def hold_back_day(data: Path, stash: Path, timezone: str) -> HeldBack:
    """Take the newest day out of the demo tree `data` (see the module docstring)."""
    zone = ZoneInfo(timezone)
    day = newest_day(data)
    held = HeldBack(data, stash, day)
    sacct = sorted(p for p in (data / "slurm").iterdir() if SACCT_NAME.fullmatch(p.name))
    jobs = jobs_submitted_on(day, sacct)
    covering = []
    for path in sacct:
        match = SACCT_NAME.fullmatch(path.name)
        assert match is not None
        if date.fromisoformat(match[1]) <= day < date.fromisoformat(match[2]):
            covering.append(path)
    for path in [*covering, data / "ncem" / "rec_status" / day.isoformat()]:
        relative = path.relative_to(data)
        (stash / relative).parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, stash / relative)
        held.moved.append(relative)
    for path in sorted((data / "distiller_db").glob("*.csv")):
        held.lines.append(take_lines(path, distiller_row_of(jobs)))
    for pattern in LISTINGS:
        for path in sorted(data.glob(pattern)):
            held.lines.append(take_lines(path, listing_line_of(day, zone)))
    return held


def restore(held: HeldBack) -> None:
    """Put back what `hold_back_day` took out."""
    for relative in held.moved:
        os.replace(held.stash / relative, held.data / relative)
    for lines in held.lines:
        if lines.lines:
            kept = lines.path.read_bytes().splitlines(keepends=True)
            lines.path.write_bytes(merge(kept, lines.lines))
