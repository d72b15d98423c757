"""Reading an input's files: stat'ed against the ledger (loaders.changes), read, hashed and
parsed into a `Batch` (in a worker process or in this one: loaders.workers).

Line-oriented files come back as bytes for DuckDB's reader (loaders.bulk), which needs the
warehouse; symbolic links a glob left unchecked come back for the main process to resolve.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from loaders.batch import Batch, Job, LeftForMain, ParsedFile, TouchedFile, add_file, add_unreadable
from loaders.changes import LedgerState, same_stat
from loaders.config import InputSpec
from loaders.errors import LoadError
from loaders.sources import KINDS, Parsed
from loaders.sources.common import TOO_DEEP, Reject, decode, escaped, printable, text_of_line
from loaders.walks import walk_tree

#: formats whose files are parsed by DuckDB's CSV reader in the main process (loaders.bulk)
BULK_FORMATS = frozenset({"sacct", "stat", "dir"})


class NotAFile(Exception):
    """A path to read is no regular file: gone since it was listed (deleted, renamed), or a
    FIFO, socket, device or folder now. It is skipped, like a glob's hit that is a folder: not
    a malformed input, so no reject, and nothing the next load has to undo."""


def read_bytes(path: str) -> tuple[bytes, int]:
    """A file's bytes and mtime, with the fewest calls (os.open/os.read: half the time of
    open().read()). Opened without blocking (a FIFO put in a file's place would wait for a
    writer forever, with the warehouse locked), and read only when fstat says it is a regular
    file. NotAFile when it is gone or not a regular file; LoadError when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except (FileNotFoundError, NotADirectoryError):
        raise NotAFile(path) from None
    except OSError as exc:
        raise LoadError(path, None, f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFile(path)
        data = os.read(fd, info.st_size + 1)
        if len(data) != info.st_size:  # it changed while read: read on to its end
            chunks = [data]
            while chunks[-1]:
                chunks.append(os.read(fd, 1 << 20))
            data = b"".join(chunks)
        return data, info.st_mtime_ns
    except OSError as exc:
        raise LoadError(path, None, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def snapshot(spec: InputSpec, path: Path) -> bytes:
    """The bytes that stand for one input: the file, or the stat listing of a walked folder.
    NotAFile when it is gone or not a regular file (a folder for `dir`)."""
    if spec.format != "dir":
        return read_bytes(str(path))[0]
    try:
        return walk_tree(path)
    except (FileNotFoundError, NotADirectoryError):
        raise NotAFile(path) from None


def parse_file(
    spec: InputSpec, path: Path | str, data: bytes, strict: bool
) -> tuple[Parsed, str | None]:
    """Parse one input. A malformed record is rejected and the rest loads; a file that cannot be
    read at all (bad name, header, JSON) is one rejected record. `strict` turns the first
    reject into a LoadError instead."""
    try:
        parsed = _read(spec, path, data)
    except LoadError as exc:
        if strict:
            raise
        text = printable(text_of_line(decode(path, data), exc.line))
        return Parsed(rejects=[Reject(exc.line, exc.message, text)]), exc.message
    if strict and parsed.rejects:
        first = parsed.rejects[0]
        raise LoadError(path, first.line, first.reason)
    return parsed, None


def _read(spec: InputSpec, path: Path | str, data: bytes) -> Parsed:
    """The input's reader on its bytes; a document nested deeper than Python's parsers descend
    (JSON 100,000 arrays deep: a RecursionError) is malformed like any other."""
    try:
        return _reader(spec)(path, data)
    except RecursionError:
        raise LoadError(path, 1, TOO_DEEP) from None


@functools.lru_cache(maxsize=64)
def _reader(spec: InputSpec) -> Callable[[Path | str, bytes], Parsed]:
    """The input's reader with its options (looked up once per input, not once per file)."""
    reader = KINDS[spec.source].readers[spec.format]
    options = spec.reader_options()
    return functools.partial(reader, **options) if options else reader


def _kind_checked(batch: Batch, key: str, started: float) -> bool:
    """A path a glob did not tell apart: True for a regular file, else it is left for the
    main process (a symbolic link) or skipped (no regular file)."""
    info = os.lstat(key)
    if stat.S_ISLNK(info.st_mode):
        batch.left.append(LeftForMain(key, started))
        return False
    if not stat.S_ISREG(info.st_mode):
        batch.not_files.append(key)
        return False
    return True


def _bytes_of(
    job: Job, batch: Batch, key: str, before: LedgerState | None, check_kind: bool
) -> tuple[bytes, int | None] | None:
    """A file's bytes and mtime when it has to be read (None: skipped, unchanged by its stat,
    or unreadable, as the batch now records)."""
    started = time.time()
    try:
        if check_kind and not _kind_checked(batch, key, started):
            return None
        walked = job.spec.format == "dir"
        if before is not None and not job.rehash and not walked and same_stat(before, key):
            batch.unchanged += 1
            return None
        if walked:
            return snapshot(job.spec, Path(key)), None
        return read_bytes(key)
    except (OSError, LoadError, NotAFile) as exc:
        record_unread(job, batch, key, exc, started)
    return None


def record_unread(
    job: Job, batch: Batch, key: str, exc: OSError | LoadError | NotAFile, started: float
) -> None:
    """A file that could not be read, as the batch keeps it: vanished since the glob saw it or
    no regular file now (skipped, `not_files`), else unreadable, with why (a reject)."""
    if isinstance(exc, FileNotFoundError | NotADirectoryError | NotAFile):
        batch.not_files.append(key)
    elif isinstance(exc, LoadError):
        add_unreadable(job, batch, key, exc, started)
    else:
        error = LoadError(key, None, f"cannot read: {exc.strerror}")
        add_unreadable(job, batch, key, error, started)


def read_batch(
    job: Job, keys: list[str], known: dict[str, LedgerState], unchecked: dict[str, str]
) -> Batch:
    """Stat, read, hash and parse some files of one input (in a worker or in this process).
    A path in `unchecked` may not be a regular file: it is lstat'ed first."""
    batch = Batch(files=len(keys))
    for key in keys:
        read_one(job, batch, key, known, unchecked)
        if batch.failure:
            break
    return batch


def read_one(
    job: Job, batch: Batch, key: str, known: dict[str, LedgerState], unchecked: dict[str, str]
) -> None:
    """Stat, read, hash and parse one file into the batch (with `strict`, a bad file sets
    the batch's failure)."""
    started = time.time()
    before = known.get(escaped(key)) if known else None
    read = _bytes_of(job, batch, key, before, key in unchecked)
    if read is not None and not batch.failure:
        add_read(job, batch, key, started, read, before)


def add_read(
    job: Job,
    batch: Batch,
    key: str,
    started: float,
    read: tuple[bytes, int | None],
    before: LedgerState | None,
) -> None:
    """One file read (its bytes and mtime): hashed, and parsed unless unchanged."""
    data, mtime_ns = read
    digest = hashlib.sha256(data).hexdigest()
    if before is not None and digest == before.sha256:
        batch.unchanged += 1
        if mtime_ns is not None and mtime_ns != before.mtime_ns:
            touched = TouchedFile(escaped(key), before.load_id, len(data), mtime_ns)
            batch.touched.append(touched)
        return
    if job.spec.format in BULK_FORMATS:
        batch.left.append(LeftForMain(key, started, len(data), mtime_ns, digest, data))
        return
    try:
        parsed, error = parse_file(job.spec, key, data, job.strict)
    except LoadError as exc:
        batch.failure = (escaped(key), exc.line, exc.message)
        return
    replaced = before is not None
    done = ParsedFile(key, started, len(data), mtime_ns, digest, parsed, error, replaced)
    add_file(batch, done)
