"""`load`: find input files, parse the new or changed ones, write raw rows and the ledger.

The whole load is one transaction: a file that cannot be parsed rolls everything back, so the
warehouse's data stays as it was, and the error names the file and line.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from loaders import bulk
from loaders.config import Config, InputSpec
from loaders.errors import LoadError
from loaders.progress import progress
from loaders.raw_schema import create_raw_schema
from loaders.reading import (
    Batch,
    Job,
    Known,
    Later,
    read_batch,
    read_batches,
    settle,
    stored,
    unreadable,
)
from loaders.sources import KINDS
from loaders.writer import (
    RawWriter,
    absolute,
    folder_prefix,
)
from warehouse import connect

LOADER_MEMORY = "1GB"


@dataclass(frozen=True)
class LoadOptions:
    """How a load treats its inputs."""

    #: the first malformed record fails the whole load
    strict: bool = False
    #: read and hash every file, even those whose size and mtime the ledger already has
    rehash: bool = False
    #: where the worker processes leave their rows (`spool_root` of the warehouse)
    spool_root: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


def spool_root(warehouse: Path) -> Path:
    """The folder beside the warehouse where a load's workers spool their rows. Only the load
    holding the warehouse writes there, so a folder found at the start of a load is what a
    killed one left: the load removes it then, and its own at the end."""
    return warehouse.with_name(f".{warehouse.name}.spool")


@dataclass
class SourceTally:
    """What one load did for one source."""

    files_new: int = 0
    files_replaced: int = 0
    files_unchanged: int = 0
    rows: int = 0
    skipped: int = 0
    rejected: int = 0
    #: wall seconds spent on this source (finding, reading, parsing, writing its files)
    seconds: float = field(default=0.0, compare=False)


@dataclass
class LoadSummary:
    """What one `load` did, per source."""

    load_id: int
    sources: dict[str, SourceTally] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    reject_kinds: Counter[tuple[str, str]] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """A short human-readable report, one line per source."""
        out = []
        for source, t in sorted(self.sources.items()):
            out.append(
                f"{source:<20} {t.files_new} new, {t.files_replaced} changed, "
                f"{t.files_unchanged} unchanged files; {t.rows} rows"
                + (f"; {t.skipped} unrelated entries skipped" if t.skipped else "")
                + (f"; {t.rejected} records rejected" if t.rejected else "")
                + f"; {t.seconds:.2f} s"
            )
        for (source, kind), count in sorted(self.reject_kinds.items()):
            out.append(f"rejected {count:>6}  {source}: {kind}")
        out += [f"warning: no file matches {glob}" for glob in self.unmatched]
        return out


def _known_files(
    con: duckdb.DuckDBPyConnection, source: str, base: Path | None = None
) -> dict[str, Known]:
    """What the ledger holds of each path's latest load of a source, by absolute path (a key
    relative to the config's folder `base` made absolute; without `base`, as stored)."""
    rows = con.execute(
        """
        select path, arg_max(sha256, load_id), arg_max(size_bytes, load_id),
            arg_max(mtime_ns, load_id), max(load_id)
        from raw.loads
        where source = ? and status in ('loaded', 'replaced')
        group by path
        """,
        [source],
    ).fetchall()
    prefix = folder_prefix(base)
    return {absolute(row[0], prefix): Known._make(row[1:]) for row in rows}


def _keys_made_relative(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    """Ledger keys and row sources stored absolute (before keys were relative) under the
    config's folder become relative, so the next load finds them."""
    (found,) = con.execute(
        "select count(*) from raw.loads where starts_with(path, ?)", [prefix]
    ).fetchone() or (0,)
    if not found:
        return
    cut = len(prefix) + 1
    con.execute(
        f"update raw.loads set path = substr(path, {cut}) where starts_with(path, ?)", [prefix]
    )
    con.execute(
        f"update raw.rejected_records set file_path = substr(file_path, {cut}) "
        "where starts_with(file_path, ?)",
        [prefix],
    )
    for source in KINDS:
        con.execute(
            f"update raw.{source} set _source_file = substr(_source_file, {cut}) "
            "where starts_with(_source_file, ?)",
            [prefix],
        )


def _known_as_read(
    con: duckdb.DuckDBPyConnection, spec: InputSpec, known: dict[str, Known]
) -> dict[str, Known]:
    """The ledger's entries, those of files last read another way than `spec` reads them now
    (another zone, other sacct fields) made unknown-but-loaded: read again, and replacing
    their rows."""
    stale = con.execute(
        """
        select path from raw.loads
        where source = ? and status in ('loaded', 'replaced')
        group by path
        having arg_max(reading, load_id) is not null and arg_max(reading, load_id) <> ?
        """,
        [spec.source, spec.reading()],
    ).fetchall()
    prefix = folder_prefix(spec.base_dir)
    for (key,) in stale:
        path = absolute(key, prefix)
        if path in known:
            known[path] = Known("", None, None, known[path].load_id)
    return known


def _tally(summary: LoadSummary, source: str, batch: Batch) -> None:
    """Count a batch into the load's summary."""
    tally = summary.sources.setdefault(source, SourceTally())
    tally.files_new += batch.new
    tally.files_replaced += batch.changed
    tally.files_unchanged += batch.unchanged
    tally.rows += batch.row_count
    tally.skipped += batch.skipped
    tally.rejected += batch.rejected
    for kind, count in batch.reject_kinds.items():
        summary.reject_kinds[(source, kind)] += count


def _finish_later(
    writer: RawWriter,
    job: Job,
    later: Later,
    known: dict[str, Known],
    seen: set[str],
) -> Batch:
    """A file the workers handed back: a symbolic link (read its target, once) or bytes for
    DuckDB's line reader."""
    spec = job.spec
    if later.data is None:
        real = os.path.realpath(later.key)
        if real in seen:
            return Batch()
        seen.add(real)
        batch = read_batch(job, [real], known, {real: ""})
        if real in batch.not_files:  # a dangling link, or one to a folder
            batch.not_files.append(later.key)
        done = Batch()
        for item in batch.later:
            done.merge(_finish_later(writer, job, item, known, seen))
        batch.later = []
        batch.merge(done)
        return batch
    replaced = stored(later.key) in known
    parsed, error = bulk.parse(writer, spec, Path(later.key), later.data, replaced, job.strict)
    batch = Batch()
    settle(
        job,
        batch,
        later.key,
        later.started,
        later.size,
        later.mtime_ns,
        later.digest,
        parsed,
        error,
        replaced,
        delete_earlier=False,
    )
    return batch


def _load_input(
    con: duckdb.DuckDBPyConnection,
    spec: InputSpec,
    load_id: int,
    summary: LoadSummary,
    seen: dict[str, set[str]],
    options: LoadOptions,
) -> None:
    """Load the new and changed files of one `[[inputs]]` entry (a file several entries match
    is loaded once, by the first)."""
    if spec.format == "postgres":
        _pull_distiller(con, spec, load_id, summary, options)
        return
    summary.sources.setdefault(spec.source, SourceTally())
    hits = spec.resolve_hits()
    known = _known_as_read(con, spec, _known_files(con, spec.source, spec.base_dir))
    taken = seen.setdefault(spec.source, set())
    keys = [key for key in hits.paths if key not in taken] if taken else hits.paths
    taken.update(keys)
    _forget_unreadable(con, spec, keys)
    job = Job(spec, load_id, options.strict, options.rehash)
    writer = RawWriter(con, spec.source, load_id, spec.timezone, options.spool_root, spec.base_dir)
    not_files: set[str] = set()
    label = f"{spec.source} ({spec.format})"
    try:
        batches = read_batches(job, keys, known, hits.unchecked, writer.spool_folder())
        for batch in progress(batches, label, total=len(keys), weight=_files):
            if batch.failure:
                raise LoadError(*batch.failure)
            for later in batch.later:
                batch.merge(_finish_later(writer, job, later, known, taken))
            batch.later = []
            if batch.failure:  # strict: a linked file the main process read
                raise LoadError(*batch.failure)
            not_files.update(batch.not_files)
            _tally(summary, spec.source, batch)
            writer.add(batch)
        writer.flush()
        con.execute(
            "update raw.loads set reading = ? where load_id = ? and source = ? and reading is null",
            [spec.reading(), load_id, spec.source],
        )
    finally:
        writer.close()
    unmatched = hits.unmatched
    if not_files:  # a glob that matched only folders (or files gone since) matched no file
        by_glob: dict[str, set[str]] = {}
        for path, pattern in hits.unchecked.items():
            by_glob.setdefault(pattern, set()).add(path)
        unmatched += [pattern for pattern, found in by_glob.items() if found <= not_files]
    summary.unmatched.extend(f"{spec.source}: {pattern}" for pattern in unmatched)


def _forget_unreadable(con: duckdb.DuckDBPyConnection, spec: InputSpec, keys: list[str]) -> None:
    """`cannot read: …` is the verdict of one attempt: the reject an unreadable file left goes
    when a load finds the file again, which then gives its own (another reject if it is still
    unreadable; none if it reads, or is as it was when it last loaded and is not read)."""
    failed = con.execute(
        "select path, load_id from raw.loads where source = ? and status = 'unreadable'",
        [spec.source],
    ).fetchall()
    if not failed:
        return
    prefix = folder_prefix(spec.base_dir)
    listed = {stored(key) for key in keys}
    found = [
        (spec.source, path, load_id) for path, load_id in failed if absolute(path, prefix) in listed
    ]
    if found:
        con.executemany(
            "delete from raw.rejected_records where source = ? and file_path = ? "
            "and load_id = ? and raw_text = ''",
            found,
        )


def _files(batch: Batch) -> int:
    return batch.files


def _pull_distiller(
    con: duckdb.DuckDBPyConnection,
    spec: InputSpec,
    load_id: int,
    summary: LoadSummary,
    options: LoadOptions,
) -> None:
    """Read a snapshot of the Distiller database's (scan, job) pairs; when it differs from the
    last pull's, it replaces that pull's rows (a job whose slurm_id was set since, a scan linked
    to an old job: every pair as it is now)."""
    from loaders.pulls import distiller  # psycopg is imported only to pull

    tally = summary.sources.setdefault(spec.source, SourceTally())
    dsn = spec.connection_string()
    started = time.time()
    job = Job(spec, load_id, options.strict, False)
    writer = RawWriter(con, spec.source, load_id, spec.timezone, options.spool_root)
    batch = Batch()
    known = _known_files(con, spec.source)

    def last_digest(database: str) -> str | None:
        before = known.get(database)
        return None if before is None or options.rehash else before.sha256

    try:
        result = distiller.pull(dsn, spec.timeout_s, last_digest)
    except LoadError as exc:
        if options.strict:
            raise
        unreadable(job, batch, exc.path, exc, started)
        _tally(summary, spec.source, batch)
        writer.add(batch)
        writer.flush()
        return
    parsed = result.parsed
    if parsed is not None and options.strict and parsed.rejects:
        first = parsed.rejects[0]
        raise LoadError(result.database, first.line, first.reason)
    before = known.get(result.database)
    changed = parsed is not None and (before is None or before.sha256 != result.digest)
    if parsed is not None and changed:
        # the rows of pulls from before snapshots (named by the DSN, one per job-id range)
        con.execute(
            "delete from raw.distiller_db where starts_with(_source_file, ?)",
            [distiller.legacy_name(dsn) + "#jobs>"],
        )
        replaced = before is not None
        settle(
            job, batch, result.database, started, None, None, result.digest, parsed, None, replaced
        )
        _tally(summary, spec.source, batch)
        writer.add(batch)
        writer.flush()
    else:
        tally.files_unchanged += 1
    con.execute(
        "insert into raw.distiller_pulls (dsn, after_job_id, max_job_id, rows, load_id, "
        "pulled_at, schema_era, pairs, changed) values (?, 0, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.database,
            max((int(row[0]) for row in parsed.rows), default=0) if parsed else 0,  # type: ignore[call-overload]
            len(parsed.rows) if parsed else 0,
            load_id,
            datetime.now(UTC),
            result.era,
            result.pairs,
            changed,
        ],
    )


def load(
    config: Config,
    sources: list[str] | None = None,
    strict: bool = False,
    rehash: bool = False,
) -> LoadSummary:
    """Load every input of `config` (or of the named sources) in one transaction. Malformed
    records go to raw.rejected_records; with `strict` the first one fails the whole load.
    With `rehash` every file is read and hashed, whatever its stat says."""
    # DuckDB imports pandas at the first statement with parameters and the writer needs it:
    # import it before the sources' clocks start (0.3 s of start-up, like the interpreter's)
    importlib.import_module("pandas")
    options = LoadOptions(strict=strict, rehash=rehash, spool_root=spool_root(config.warehouse))
    specs = config.inputs_for(sources)
    created = not config.warehouse.exists()
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = connect(config.warehouse)
    failed = False
    try:
        # the spool folder is only ever this warehouse's loader's: one found now is what a
        # killed load left, and this load's goes before the warehouse is released
        shutil.rmtree(options.spool_root, ignore_errors=True)
        # a bounded loader: DuckDB spills to disk beyond this (a x100 refresh stays under 2 GB)
        con.execute(f"set memory_limit = '{LOADER_MEMORY}'")
        con.begin()
        try:
            create_raw_schema(con)
            for base in {spec.base_dir for spec in specs if spec.format != "postgres"}:
                _keys_made_relative(con, folder_prefix(base))
            (load_id,) = con.execute("select nextval('raw.load_ids')").fetchone() or (1,)
            summary = LoadSummary(load_id=load_id)
            seen: dict[str, set[str]] = {}
            for spec in specs:
                started = time.perf_counter()
                _load_input(con, spec, load_id, summary, seen, options)
                tally = summary.sources.setdefault(spec.source, SourceTally())
                tally.seconds += time.perf_counter() - started
            con.commit()  # in the try: a commit that fails (a full disk) is a failed load
        except BaseException:
            failed = True
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            raise
        return summary
    finally:
        shutil.rmtree(options.spool_root, ignore_errors=True)
        con.close()
        if failed and created:  # a failed first load leaves no warehouse behind
            for leftover in (
                config.warehouse,
                config.warehouse.with_name(config.warehouse.name + ".wal"),
            ):
                leftover.unlink(missing_ok=True)
