"""Reading an input's files: which ones changed, and their bytes parsed, on every core.

The ledger's size and mtime of a file decide first: a file whose stat is what the ledger
recorded is not read again (a daily refresh of a tree of 100k+ status files stats them; it
does not open them). Any other file is read and hashed; an unchanged hash is still unchanged.

Many small files (receiver statuses) are stat'ed, read and parsed by worker processes, one per
core, a chunk at a time; each chunk comes back as a `Batch` of finished raw rows, ledger
entries and rejects, so the main process only appends lists and writes them. Line-oriented
files come back as bytes for DuckDB's reader (loaders.bulk), which needs the warehouse.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import re
import signal
import stat
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from loaders.config import InputSpec
from loaders.errors import LoadError
from loaders.sources import KINDS, Parsed
from loaders.sources.common import TOO_DEEP, Reject, decode, escaped, printable, text_of_line
from loaders.sources.files import stat_line, walk_listing

#: formats whose files are parsed by DuckDB's CSV reader in the main process (loaders.bulk)
BULK_FORMATS = frozenset({"sacct", "stat", "dir"})
#: below this many files, worker processes cost more than they save
PARALLEL_MIN_FILES = 2_000
CHUNK_FILES = 1_000


class Known(NamedTuple):
    """What the ledger holds of a path's latest load (a tuple: 100k+ of them per load)."""

    sha256: str
    size: int | None
    mtime_ns: int | None
    load_id: int


@dataclass(frozen=True)
class Job:
    """What a worker needs to know of the load it reads for."""

    spec: InputSpec
    load_id: int
    strict: bool
    rehash: bool


@dataclass
class Later:
    """A file the main process finishes: bytes for the bulk reader, or a symbolic link to
    resolve (`data` None)."""

    key: str
    #: epoch seconds (floats cross from the workers ten times cheaper than datetimes)
    started: float
    size: int = 0
    mtime_ns: int | None = None
    digest: str | None = None
    data: bytes | None = None


@dataclass
class Batch:
    """What reading some files of one input gives the writer: raw rows `(path, record, ...)`,
    ledger entries, rejects, counts, and the files the main process has to finish."""

    rows: list[tuple[object, ...]] = field(default_factory=list)
    ledger: list[tuple[object, ...]] = field(default_factory=list)
    rejects: list[tuple[object, ...]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    #: (path, ledger load_id, size, mtime_ns) of unchanged files whose mtime moved
    touched: list[tuple[object, ...]] = field(default_factory=list)
    later: list[Later] = field(default_factory=list)
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
    #: `ledger`: DuckDB reads them in a fraction of what unpickling and a frame cost
    row_files: list[str] = field(default_factory=list)
    ledger_files: list[str] = field(default_factory=list)
    spooled_rows: int = 0

    def merge(self, other: Batch) -> None:
        """Add another batch (of the same input) to this one."""
        for name in (
            "rows",
            "ledger",
            "rejects",
            "replaced",
            "touched",
            "later",
            "not_files",
            "row_files",
            "ledger_files",
        ):
            getattr(self, name).extend(getattr(other, name))
        self.spooled_rows += other.spooled_rows
        for name in ("new", "changed", "unchanged", "row_count", "skipped", "rejected", "files"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.reject_kinds.update(other.reject_kinds)
        self.failure = self.failure or other.failure


def stored(path: str) -> str:
    """A path as the warehouse keeps it (`escaped`): bytes of a file name that are not UTF-8
    (lone surrogates in Python's str) and control characters written as \\xNN, which DuckDB can
    hold and a terminal print, and a backslash that would read as such an escape doubled, so
    two files never share a spelling (they would replace each other's rows)."""
    return escaped(path)


def reason_kind(reason: str) -> str:
    """A reason without its values, to count rejects by kind: `time … is not …`."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'", "…", reason))


def snapshot(spec: InputSpec, path: Path) -> bytes:
    """The bytes that stand for one input: the file, or the stat listing of a walked folder.
    NotAFile when it is gone or not a regular file (a folder for `dir`)."""
    if spec.format != "dir":
        return _read_bytes(str(path))[0]
    try:
        return walk_tree(path)
    except (FileNotFoundError, NotADirectoryError):
        raise NotAFile(path) from None


def _walk_part(folder: str) -> bytes | tuple[str, int | None, str]:
    """A worker's part of `walk_tree`: one folder walked in full (nothing if it is gone)."""
    try:
        return walk_listing(Path(folder))
    except (FileNotFoundError, NotADirectoryError):
        return b""
    except LoadError as exc:
        return (exc.path, exc.line, exc.message)


def _walk_folder(folder: Path) -> bytes:
    """`walk_tree` of a folder found in a walk: nothing when it is gone since."""
    try:
        return walk_tree(folder)
    except (FileNotFoundError, NotADirectoryError):
        return b""


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """As os.walk tells: a folder or a link to one; an entry that cannot be typed (a link to
    itself) is a file, which `stat_line` then refuses, naming it."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def walk_tree(root: Path) -> bytes:
    """`walk_listing(root)`, its folders walked by one worker process per core (from the first
    level with several): the same bytes (a folder's own files, then each folder's listing in
    name order), in about half the time on a tree of 100k+ files (a walk is a stat per file,
    and stats run in parallel). FileNotFoundError when `root` is gone."""
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        raise
    except OSError as exc:
        raise LoadError(exc.filename or root, None, f"cannot read: {exc.strerror}") from None
    kinds = [(entry, _is_folder(entry)) for entry in entries]
    folders = [entry.path for entry, folder in kinds if folder and not entry.is_symlink()]
    if not folders or workers() < 2:
        return walk_listing(root)
    own = (stat_line(entry.path) for entry, folder in kinds if not folder)
    lines = ["".join(line for line in own if line is not None).encode("utf-8", "surrogateescape")]
    if len(folders) == 1:  # one folder: split further down
        return b"".join([*lines, _walk_folder(Path(folders[0]))])
    with _pool(workers()) as pool:
        for part in pool.map(_walk_part, folders):
            if isinstance(part, tuple):
                raise LoadError(*part)
            lines.append(part)
    return b"".join(lines)


class NotAFile(Exception):
    """A path to read is no regular file: gone since it was listed (deleted, renamed), or a
    FIFO, socket, device or folder now. It is skipped, like a glob's hit that is a folder: not
    a malformed input, so no reject, and nothing the next load has to undo."""


def _read_bytes(path: str) -> tuple[bytes, int]:
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
        return KINDS[spec.source].readers[spec.format](path, data, **spec.reader_options())
    except RecursionError:
        raise LoadError(path, 1, TOO_DEEP) from None


def settle(
    job: Job,
    batch: Batch,
    key: str,
    started: float,
    size: int,
    mtime_ns: int | None,
    digest: str | None,
    parsed: Parsed,
    error: str | None,
    replaced: bool,
    delete_earlier: bool = True,
) -> None:
    """Add one parsed file to a batch: its rows, its ledger entry, its rejects."""
    spec = job.spec
    finished = time.time()
    key = stored(key)
    rows = len(parsed.rows) + parsed.bulk_rows
    batch.rows.extend((key, *row) for row in parsed.rows)
    batch.ledger.append(
        (
            job.load_id,
            spec.source,
            spec.format,
            key,
            size,
            digest,
            rows,
            parsed.skipped,
            started,
            finished,
            "replaced" if replaced else "loaded",
            error,
            len(parsed.rejects),
            mtime_ns,
        )
    )
    for r in parsed.rejects:
        kind = reason_kind(r.reason)
        batch.rejects.append(
            (spec.source, spec.format, key, r.line, kind, r.reason, r.text, job.load_id, finished)
        )
        batch.reject_kinds[kind] += 1
    if replaced and delete_earlier:
        batch.replaced.append(key)
    batch.changed += replaced
    batch.new += not replaced
    batch.row_count += rows
    batch.skipped += parsed.skipped
    batch.rejected += len(parsed.rejects)


def unreadable(job: Job, batch: Batch, key: str, error: LoadError, started: float) -> None:
    """A file that cannot be read: one reject and a ledger entry; its earlier rows stay."""
    if job.strict:
        batch.failure = batch.failure or (stored(error.path), error.line, error.message)
        return
    spec = job.spec
    key = stored(key)
    kind = reason_kind(error.message)
    batch.ledger.append(
        (
            job.load_id,
            spec.source,
            spec.format,
            key,
            None,
            None,
            0,
            0,
            started,
            time.time(),
            "unreadable",
            error.message,
            1,
            None,
        )
    )
    batch.rejects.append(
        (spec.source, spec.format, key, error.line, kind, error.message, "", job.load_id, started)
    )
    batch.reject_kinds[kind] += 1
    batch.rejected += 1


def read_batch(
    job: Job, keys: list[str], known: dict[str, Known], unchecked: dict[str, str]
) -> Batch:
    """Stat, read, hash and parse some files of one input (in a worker or in this process).
    A path in `unchecked` may not be a regular file: it is lstat'ed first."""
    batch = Batch(files=len(keys))
    spec = job.spec
    walked = spec.format == "dir"
    for key in keys:
        if batch.failure:
            break
        started = time.time()
        before = known.get(stored(key))
        mtime_ns: int | None = None
        try:
            if key in unchecked:
                info = os.lstat(key)
                if stat.S_ISLNK(info.st_mode):
                    batch.later.append(Later(key, started))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    batch.not_files.append(key)
                    continue
            if before is not None and not job.rehash and not walked:
                info = os.stat(key)
                if (before.size, before.mtime_ns) == (info.st_size, info.st_mtime_ns):
                    batch.unchanged += 1
                    continue
            if walked:
                data = snapshot(spec, Path(key))
            else:
                data, mtime_ns = _read_bytes(key)
        except (FileNotFoundError, NotADirectoryError, NotAFile):
            batch.not_files.append(key)  # vanished since the glob saw it, or no file now
            continue
        except OSError as exc:
            error = LoadError(key, None, f"cannot read: {exc.strerror}")
            unreadable(job, batch, key, error, started)
            continue
        except LoadError as exc:
            unreadable(job, batch, key, exc, started)
            continue
        digest = hashlib.sha256(data).hexdigest()
        if before is not None and digest == before.sha256:
            batch.unchanged += 1
            if mtime_ns is not None and mtime_ns != before.mtime_ns:
                batch.touched.append((stored(key), before.load_id, len(data), mtime_ns))
            continue
        if spec.format in BULK_FORMATS:
            batch.later.append(Later(key, started, len(data), mtime_ns, digest, data))
            continue
        try:
            parsed, error_text = parse_file(spec, key, data, job.strict)
        except LoadError as exc:
            batch.failure = (stored(key), exc.line, exc.message)
            break
        replaced = before is not None
        settle(job, batch, key, started, len(data), mtime_ns, digest, parsed, error_text, replaced)
    return batch


#: prctl(2)'s option: the signal a process gets when its parent dies
PR_SET_PDEATHSIG = 1


def _pool(cores: int) -> ProcessPoolExecutor:
    """Forked worker processes that end with this one (`_end_with_parent`)."""
    return ProcessPoolExecutor(
        max_workers=cores,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    )


def _end_with_parent(parent: int) -> None:
    """A worker's initializer: the worker dies with the load that forked it. A load killed
    (SIGKILL, the OOM killer) runs no clean-up, and its workers would wait on a queue nobody
    writes to again, for good (~100 MB each). Linux sends them SIGKILL when their parent dies
    (prctl PR_SET_PDEATHSIG); elsewhere a thread watches the parent."""
    import ctypes  # only in workers: the commands that never fork one do not load it

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        done = prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL)) == 0
    except (OSError, AttributeError):
        done = False
    if not done:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    elif os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)


def _watch_parent(parent: int) -> None:
    """End this worker once its parent is gone (it is then another process's child)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


#: what the forked workers read (inherited, not pickled: 100k+ paths and ledger entries)
_SHARED: dict[str, object] = {}


def spool(batch: Batch, folder: str, name: str) -> None:
    """Move a batch's rows and ledger entries into JSON files in `folder` (left as they are
    when a value cannot be written as UTF-8: a file name with bytes that are not)."""
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


def _read_range(start: int, stop: int) -> Batch:
    job, keys, known, unchecked, folder = (
        _SHARED["job"],
        _SHARED["keys"],
        _SHARED["known"],
        _SHARED["unchecked"],
        _SHARED["spool"],
    )
    batch = read_batch(job, keys[start:stop], known, unchecked)  # type: ignore[arg-type,index]
    spool(batch, folder, f"{start:09d}")  # type: ignore[arg-type]
    return batch


def read_batches(
    job: Job,
    keys: list[str],
    known: dict[str, Known],
    unchecked: dict[str, str],
    spool_folder: str,
) -> Iterator[Batch]:
    """Batches of the given files, in their order: in this process for a few files or
    line-oriented ones, else in one worker process per core (which hand their rows and ledger
    entries over as JSON files in `spool_folder`)."""
    cores = workers()
    if job.spec.format in BULK_FORMATS:  # a few long files: one batch each, for the progress
        for key in keys:
            yield read_batch(job, [key], known, unchecked)
        return
    bounds = [(i, min(i + CHUNK_FILES, len(keys))) for i in range(0, len(keys), CHUNK_FILES)]
    if len(keys) < PARALLEL_MIN_FILES or cores < 2:
        for start, stop in bounds:
            yield read_batch(job, keys[start:stop], known, unchecked)
        return
    _SHARED.update(job=job, keys=keys, known=known, unchecked=unchecked, spool=spool_folder)
    # fork: the workers inherit the paths and the ledger, only read and parse bytes (no
    # DuckDB, no threads of their own) and start in milliseconds. gc.freeze keeps the
    # workers' collections off the inherited objects (100k+ paths): without it each full
    # collection walks them all, and the workers ran at half speed
    gc.freeze()
    pool = _pool(cores)
    try:
        starts, stops = zip(*bounds, strict=True)
        yield from pool.map(_read_range, starts, stops)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
        _SHARED.clear()
