"""What reading files gives the writer, as named records: a `Batch` of raw rows, ledger
entries, rejects and counts, and the functions that add one file's outcome to it.

The records are NamedTuples: 100k+ of them cross from the worker processes per load, and a
tuple pickles (and dumps as a JSON array) at a fraction of a dataclass's cost.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from loaders.config import InputSpec
from loaders.errors import LoadError
from loaders.sources import Parsed
from loaders.sources.common import escaped


class LedgerEntry(NamedTuple):
    """One row of raw.loads, less what the writer knows (load id, source, format, reading)."""

    path: str
    size_bytes: int | None
    sha256: str | None
    rows: int
    skipped: int
    #: epoch seconds (floats cross from the workers ten times cheaper than datetimes)
    started_at: float
    finished_at: float
    status: str
    error: str | None
    rejected: int
    mtime_ns: int | None


#: raw.loads' columns in LedgerEntry's order
LEDGER_FIELDS = LedgerEntry._fields


class RejectRow(NamedTuple):
    """One row of raw.rejected_records, less the source and format (the writer's)."""

    file_path: str
    line_number: int | None
    reason_kind: str
    reason: str
    raw_text: str
    #: epoch seconds
    loaded_at: float


REJECT_FIELDS = RejectRow._fields


class TouchedFile(NamedTuple):
    """A file read again because its mtime moved, found unchanged: the ledger entry of its
    load `load_id` takes the new mtime."""

    path: str
    load_id: int
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Job:
    """What a worker needs to know of the load it reads for."""

    spec: InputSpec
    load_id: int
    strict: bool
    rehash: bool


class LeftForMain(NamedTuple):
    """A file the main process finishes: bytes for DuckDB's line reader, or a symbolic link
    to resolve (`data` None)."""

    key: str
    started: float
    size: int = 0
    mtime_ns: int | None = None
    digest: str | None = None
    data: bytes | None = None


class ParsedFile(NamedTuple):
    """One file read and parsed: what its ledger entry, rows and rejects are made of."""

    key: str
    started: float
    size: int | None
    mtime_ns: int | None
    digest: str | None
    parsed: Parsed
    #: the message when the whole file was one rejected record
    error: str | None
    #: a new version of a file loaded before
    replaced: bool
    #: its earlier rows are to be deleted with the batch (not already, by loaders.bulk)
    delete_earlier: bool = True


_LISTS = (
    "rows",
    "ledger",
    "rejects",
    "replaced",
    "touched",
    "left",
    "not_files",
    "row_files",
    "ledger_files",
    "quick_files",
)
_COUNTS = ("new", "changed", "unchanged", "row_count", "skipped", "rejected", "files")


@dataclass
class Batch:
    """What reading some files of one input gives the writer: raw rows `(path, record, ...)`,
    ledger entries, rejects, counts, and the files the main process has to finish."""

    rows: list[tuple[object, ...]] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    rejects: list[RejectRow] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    touched: list[TouchedFile] = field(default_factory=list)
    left: list[LeftForMain] = field(default_factory=list)
    #: paths that are not regular files (a folder the glob matched)
    not_files: list[str] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    row_count: int = 0
    skipped: int = 0
    rejected: int = 0
    reject_kinds: Counter[str] = field(default_factory=Counter)
    #: with `strict`: the first file that failed, (path, line, message)
    failure: tuple[str, int | None, str] | None = None
    files: int = 0
    #: JSON files (arrays of rows, of ledger entries) a worker wrote instead of `rows` and
    #: `ledger`: DuckDB reads them in a fraction of what unpickling them costs
    row_files: list[str] = field(default_factory=list)
    ledger_files: list[str] = field(default_factory=list)
    #: CSV files of files read the quick way (loaders.quick): a line each, its row and its
    #: ledger entry
    quick_files: list[str] = field(default_factory=list)
    #: the rows in the spooled files
    spooled_rows: int = 0

    def merge(self, other: Batch) -> None:
        """Add another batch (of the same input) to this one."""
        for name in _LISTS:
            getattr(self, name).extend(getattr(other, name))
        self.spooled_rows += other.spooled_rows
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.reject_kinds.update(other.reject_kinds)
        self.failure = self.failure or other.failure


_QUOTED = re.compile(r"'[^']*'")
_DIGITS = re.compile(r"\d+")


def reason_kind(reason: str) -> str:
    """A reason without its values, to count rejects by kind: `time … is not …`."""
    return _DIGITS.sub("N", _QUOTED.sub("…", reason))


def add_file(batch: Batch, done: ParsedFile) -> None:
    """Add one parsed file to a batch: its rows, its ledger entry, its rejects."""
    finished = time.time()
    key = escaped(done.key)
    parsed = done.parsed
    rows = len(parsed.rows) + parsed.bulk_rows
    batch.rows.extend([(key, *row) for row in parsed.rows])
    rejected = len(parsed.rejects)
    batch.ledger.append(
        LedgerEntry(
            key,
            done.size,
            done.digest,
            rows,
            parsed.skipped,
            done.started,
            finished,
            "replaced" if done.replaced else "loaded",
            done.error,
            rejected,
            done.mtime_ns,
        )
    )
    for r in parsed.rejects:
        kind = reason_kind(r.reason)
        batch.rejects.append(RejectRow(key, r.line, kind, r.reason, r.text, finished))
        batch.reject_kinds[kind] += 1
    if done.replaced:
        batch.changed += 1
        if done.delete_earlier:
            batch.replaced.append(key)
    else:
        batch.new += 1
    batch.row_count += rows
    batch.skipped += parsed.skipped
    batch.rejected += rejected


def add_unreadable(job: Job, batch: Batch, key: str, error: LoadError, started: float) -> None:
    """A file that cannot be read: one reject and a ledger entry; its earlier rows stay."""
    if job.strict:
        batch.failure = batch.failure or (escaped(error.path), error.line, error.message)
        return
    key = escaped(key)
    kind = reason_kind(error.message)
    entry = LedgerEntry(
        key, None, None, 0, 0, started, time.time(), "unreadable", error.message, 1, None
    )
    batch.ledger.append(entry)
    batch.rejects.append(RejectRow(key, error.line, kind, error.message, "", started))
    batch.reject_kinds[kind] += 1
    batch.rejected += 1
