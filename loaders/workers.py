"""Worker processes: many small files (receiver statuses) are stat'ed, read, hashed and
parsed by one forked worker per core, a chunk at a time, and a walked folder's subfolders are
walked by them too.

Each chunk comes back as a `Batch` whose rows and ledger entries a worker wrote to files in the
load's spool folder (DuckDB reads them faster than the main process could unpickle them): a CSV
line a file read the quick way (loaders.quick), JSON for the others; the main process only
writes them. The workers inherit the paths and the ledger by fork (no pickling of 100k+ paths)
and die with the load that forked them (loaders.pool).
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from typing import NamedTuple

from loaders.batch import Batch, Job
from loaders.changes import LedgerState
from loaders.pool import fork_pool, workers
from loaders.quick import quick_reader, read_quick
from loaders.reading import BULK_FORMATS, read_batch

__all__ = ["CHUNK_FILES", "PARALLEL_MIN_FILES", "in_workers", "read_batches", "spool", "workers"]

#: below this many files, worker processes cost more than they save
PARALLEL_MIN_FILES = 2_000
CHUNK_FILES = 1_000


class _Shared(NamedTuple):
    """What the forked workers read (inherited, not pickled: 100k+ paths and ledger entries)."""

    job: Job
    keys: list[str]
    known: dict[str, LedgerState]
    unchecked: dict[str, str]
    spool: str


_SHARED: list[_Shared] = []


def spool(batch: Batch, folder: str, name: str) -> None:
    """Move a batch's rows and ledger entries into JSON files in `folder` (left as they are
    when a value cannot be written as UTF-8: a lone surrogate a JSON escape made)."""
    for attribute, files in (("rows", batch.row_files), ("ledger", batch.ledger_files)):
        entries = getattr(batch, attribute)
        if not entries:
            continue
        try:
            data = json.dumps(entries, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            continue
        path = os.path.join(folder, f"{name}-{attribute}.json")
        with open(path, "wb") as out:
            out.write(data)
        files.append(path)
        if attribute == "rows":
            batch.spooled_rows += len(entries)
        setattr(batch, attribute, [])


def _read_chunk(shared: _Shared, start: int, stop: int) -> Batch:
    """Some files of the input: the quick way (loaders.quick) when its source has a quick
    reader for the format, else by loaders.reading."""
    keys = shared.keys[start:stop]
    reader = quick_reader(shared.job)
    if reader is None:
        return read_batch(shared.job, keys, shared.known, shared.unchecked)
    path = os.path.join(shared.spool, f"{start:09d}-quick.csv")
    return read_quick(shared.job, keys, shared.known, shared.unchecked, reader, path)


def _read_range(start: int, stop: int) -> Batch:
    shared = _SHARED[0]
    batch = _read_chunk(shared, start, stop)
    spool(batch, shared.spool, f"{start:09d}")
    return batch


def in_workers(job: Job, keys: list[str]) -> bool:
    """Whether `read_batches` reads these files in worker processes."""
    return job.spec.format not in BULK_FORMATS and len(keys) >= PARALLEL_MIN_FILES and workers() > 1


def read_batches(
    job: Job,
    keys: list[str],
    known: dict[str, LedgerState],
    unchecked: dict[str, str],
    spool_folder: str,
) -> Iterator[Batch]:
    """Batches of the given files, in their order: in this process for a few files or
    line-oriented ones, else in one worker process per core (which hand their rows and ledger
    entries over as files in `spool_folder`; files read the quick way go there from either)."""
    if job.spec.format in BULK_FORMATS:  # a few long files: one batch each, for the progress
        for key in keys:
            yield read_batch(job, [key], known, unchecked)
        return
    bounds = [(i, min(i + CHUNK_FILES, len(keys))) for i in range(0, len(keys), CHUNK_FILES)]
    shared = _Shared(job, keys, known, unchecked, spool_folder)
    if not in_workers(job, keys):
        for start, stop in bounds:
            yield _read_chunk(shared, start, stop)
        return
    _SHARED[:] = [shared]
    # fork: the workers inherit the paths and the ledger, only read and parse bytes (no
    # DuckDB, no threads of their own) and start in milliseconds. gc.freeze keeps the
    # workers' collections off the inherited objects (100k+ paths): without it each full
    # collection walks them all, and the workers ran at half speed
    gc.freeze()
    pool = fork_pool(workers())
    try:
        starts, stops = zip(*bounds, strict=True)
        yield from pool.map(_read_range, starts, stops)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
        _SHARED.clear()
