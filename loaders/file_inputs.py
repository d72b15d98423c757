"""Loading one `[[inputs]]` entry of files: find them, read the new and changed ones (in
worker processes for many), and write their rows, ledger entries and rejects."""

from __future__ import annotations

import bisect
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loaders import bulk
from loaders.batch import Batch, Job, LeftForMain, ParsedFile, add_file
from loaders.changes import LedgerState, forget_unreadable, ledger_states, states_as_read
from loaders.config import InputSpec
from loaders.errors import LoadError
from loaders.globs import Hits
from loaders.progress import progress
from loaders.reading import read_batch
from loaders.sources.common import escaped
from loaders.summary import LoadSummary, SourceTally
from loaders.workers import in_workers, read_batches
from loaders.writer import RawWriter


class Taken:
    """The real paths a load has taken for a source (a file two inputs match loads once): the
    sorted lists of its inputs' files as they are (a set of 100k+ paths costs a tenth of a
    second to build, and most loads never ask), and the targets of links read."""

    def __init__(self) -> None:
        self._lists: list[list[str]] = []
        self._more: set[str] = set()

    def __contains__(self, path: str) -> bool:
        if path in self._more:
            return True
        for listed in self._lists:
            at = bisect.bisect_left(listed, path)
            if at < len(listed) and listed[at] == path:
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self._more) or any(self._lists)

    def add(self, path: str) -> None:
        self._more.add(path)

    def add_sorted(self, paths: list[str]) -> None:
        """Take a sorted list of paths (kept as it is: not to be changed)."""
        self._lists.append(paths)


@dataclass
class InputRun:
    """One input's load under way: what it reads for, what it found, where it writes."""

    job: Job
    writer: RawWriter
    known: dict[str, LedgerState]
    #: real paths loaded by this load for the source (a file two inputs match loads once)
    taken: Taken
    not_files: set[str] = field(default_factory=set)


def _finish_left(run: InputRun, left: LeftForMain) -> Batch:
    """A file the workers left for this process: a symbolic link (read its target, once) or
    bytes for DuckDB's line reader."""
    if left.data is None:
        return _follow_link(run, left.key)
    replaced = escaped(left.key) in run.known
    spec = run.job.spec
    parsed, error = bulk.insert_lines(
        run.writer, spec, Path(left.key), left.data, replaced, run.job.strict
    )
    batch = Batch()
    done = ParsedFile(
        left.key, left.started, left.size, left.mtime_ns, left.digest, parsed, error, replaced
    )
    add_file(batch, done._replace(delete_earlier=False))
    return batch


def _follow_link(run: InputRun, key: str) -> Batch:
    """The target of a symbolic link a glob matched, read once whatever links to it."""
    real = os.path.realpath(key)
    if real in run.taken:
        return Batch()
    run.taken.add(real)
    batch = read_batch(run.job, [real], run.known, {real: ""})
    if real in batch.not_files:  # a dangling link, or one to a folder
        batch.not_files.append(key)
    done = Batch()
    for item in batch.left:
        done.merge(_finish_left(run, item))
    batch.left = []
    batch.merge(done)
    return batch


@contextlib.contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection, alone: bool) -> Iterator[None]:
    """DuckDB on one thread while worker processes take every core (`alone`): its writes
    then cost less CPU than on several (and the workers' time is what it would take)."""
    if not alone:
        yield
        return
    (threads,) = con.execute("select current_setting('threads')").fetchone() or (1,)
    con.execute("set threads = 1")
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):  # a failed transaction takes no statement
            con.execute(f"set threads = {int(threads)}")


def _write_batches(run: InputRun, keys: list[str], hits: Hits, summary: LoadSummary) -> None:
    """Read the files in batches and write each."""
    with _one_thread(run.writer.con, in_workers(run.job, keys)):
        _read_and_write(run, keys, hits, summary)


def _read_and_write(run: InputRun, keys: list[str], hits: Hits, summary: LoadSummary) -> None:
    spec = run.job.spec
    batches = read_batches(run.job, keys, run.known, hits.unchecked, run.writer.spool_folder())
    label = f"{spec.source} ({spec.format})"
    for batch in progress(batches, label, total=len(keys), weight=_files):
        if batch.failure:
            raise LoadError(*batch.failure)
        for left in batch.left:
            batch.merge(_finish_left(run, left))
        batch.left = []
        if batch.failure:  # strict: a linked file the main process read
            raise LoadError(*batch.failure)
        run.not_files.update(batch.not_files)
        summary.count(spec.source, batch)
        run.writer.add(batch)
    run.writer.flush()


def _files(batch: Batch) -> int:
    return batch.files


def load_files(
    con: duckdb.DuckDBPyConnection,
    job: Job,
    summary: LoadSummary,
    taken: Taken,
    spool_root: Path,
) -> None:
    """Load the new and changed files of one `[[inputs]]` entry (a file several entries match
    is loaded once, by the first: `taken` holds the paths loaded before)."""
    spec = job.spec
    summary.sources.setdefault(spec.source, SourceTally())
    hits = spec.resolve_hits()
    known = states_as_read(con, spec, ledger_states(con, spec.source, spec.base_dir))
    keys = [key for key in hits.paths if key not in taken] if taken else hits.paths
    taken.add_sorted(keys)
    forget_unreadable(con, spec, keys)
    writer = RawWriter(
        con,
        spec.source,
        job.load_id,
        spec.timezone,
        spool_root,
        spec.base_dir,
        format=spec.format,
        reading=spec.reading(),
    )
    run = InputRun(job, writer, known, taken)
    try:
        _write_batches(run, keys, hits, summary)
    finally:
        writer.close()
    summary.unmatched.extend(f"{spec.source}: {glob}" for glob in _unmatched(spec, hits, run))


def _unmatched(spec: InputSpec, hits: Hits, run: InputRun) -> list[str]:
    """The globs that matched no file: none at all, or only folders (or files gone since)."""
    unmatched = list(hits.unmatched)
    if run.not_files:
        by_glob: dict[str, set[str]] = {}
        for path, pattern in hits.unchecked.items():
            by_glob.setdefault(pattern, set()).add(path)
        unmatched += [pattern for pattern, found in by_glob.items() if found <= run.not_files]
    return unmatched
