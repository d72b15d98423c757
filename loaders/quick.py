"""Many small files of one form (receiver status files: 100k+ a load) read the quick way.

A source's quick reader (SourceKind.quick) gives the row of a file in its usual form as CSV
fields; here each such file costs the fewest calls (open, fstat, read, close), a hash and one
line of CSV holding its row and its ledger entry, written to the load's spool for DuckDB's CSV
reader to take in bulk (loaders.writer). A file the ledger knows, one a glob left unchecked,
one that cannot be read as it is, and one the quick reader does not vouch for go through
loaders.reading like every other file: what it records of them is the contract, and a file
read the quick way gets the same row and ledger entry from it.
"""

from __future__ import annotations

import hashlib
import time

from loaders import reading
from loaders.batch import Batch, Job
from loaders.changes import LedgerState
from loaders.errors import LoadError
from loaders.sources import KINDS
from loaders.sources.common import QuickReader, escaped

#: the columns of a quick CSV line: the file's path, its row's values (the source's columns),
#: then its ledger entry (the writer adds the rest: status `loaded`, 1 row, no reject)
HEAD = ("path",)
TAIL = (
    ("size_bytes", "BIGINT"),
    ("sha256", "VARCHAR"),
    ("mtime_ns", "BIGINT"),
    #: epoch nanoseconds (an integer writes in a fraction of a float's time)
    ("started_at", "BIGINT"),
    ("finished_at", "BIGINT"),
)


def quick_reader(job: Job) -> QuickReader | None:
    """The quick reader of the job's input, if its source has one for its format."""
    spec = job.spec
    if spec.format in reading.BULK_FORMATS or spec.reader_options():
        return None
    return KINDS[spec.source].quick.get(spec.format)


def _quoted(key: str) -> str:
    """A path as one CSV field: escaped as the warehouse keeps it, in double quotes."""
    key = escaped(key)
    return '"' + (key.replace('"', '""') if '"' in key else key) + '"'


def _plain(keys: list[str]) -> bool:
    """True when no path has a character to escape (`escaped`) or to quote in CSV, which
    one look at them all tells."""
    joined = "".join(keys)
    return "\\" not in joined and '"' not in joined and joined.isprintable()


def _line(job: Job, batch: Batch, key: str, field: str, reader: QuickReader) -> str | None:
    """A new file's CSV line; None when it is not one (the batch then records it as
    loaders.reading does: no file, unreadable, or read and parsed by its reader)."""
    started = time.time_ns()
    try:
        data, mtime_ns = reading.read_bytes(key)
    except (OSError, LoadError, reading.NotAFile) as exc:
        reading.record_unread(job, batch, key, exc, started / 1e9)
        return None
    row = reader(key.rpartition("/")[2], data)
    if row is None:
        reading.add_read(job, batch, key, started / 1e9, (data, mtime_ns), None)
        return None
    digest = hashlib.sha256(data).hexdigest()
    return f"{field},{row},{len(data)},{digest},{mtime_ns},{started},{time.time_ns()}\n"


def read_quick(
    job: Job,
    keys: list[str],
    known: dict[str, LedgerState],
    unchecked: dict[str, str],
    reader: QuickReader,
    spool: str,
) -> Batch:
    """A batch of the given files: the new ones the quick reader takes as CSV lines in the
    file `spool` (Batch.quick_files), the others as loaders.reading reads them."""
    batch = Batch(files=len(keys))
    lines: list[str] = []
    plain = _plain(keys)
    for key in keys:
        if key in unchecked or (known and escaped(key) in known):
            reading.read_one(job, batch, key, known, unchecked)
        else:
            line = _line(job, batch, key, f'"{key}"' if plain else _quoted(key), reader)
            if line is not None:
                lines.append(line)
        if batch.failure:
            return batch
    if lines:
        with open(spool, "w", encoding="utf-8", newline="") as out:
            out.write("".join(lines))
        batch.quick_files.append(spool)
        batch.spooled_rows += len(lines)
        batch.new += len(lines)
        batch.row_count += len(lines)
    return batch
