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
from loaders.warehouse import connect, create_raw_schema

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


def folder_prefix(base: Path | None) -> str:
    """The config folder as the start of the stored paths of the files inside it ('' for
    none)."""
    return "" if base is None else stored(str(base)).rstrip("/") + "/"


def absolute(key: str, prefix: str) -> str:
    """A ledger key as a path: keys of files in the config's folder are relative to it."""
    return key if not prefix or key.startswith("/") else prefix + key


def relative(path: str, prefix: str) -> str:
    """A file's key in the warehouse: its path relative to the config's folder when inside
    it (a project copied or moved keeps its ledger), else absolute."""
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path


def relative_sql(column: str, prefix: str) -> str:
    """`relative` in SQL, for rows the writer inserts from a frame or JSON files."""
    if not prefix:
        return column
    quoted = "'" + prefix.replace("'", "''") + "'"
    return (
        f"(case when starts_with({column}, {quoted}) "
        f"then substr({column}, {len(prefix) + 1}) else {column} end)"
    )


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


class RawWriter:
    """Buffers the rows, ledger entries and rejects of one source and writes them in bulk.

    Per-file inserts cost milliseconds each (thousands of small status files a day), so rows are
    gathered into one frame per flush; a changed file's earlier rows are deleted first.
    """

    # small enough that the last write, after the workers are done, is short
    FLUSH_ROWS = 50_000

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        load_id: int,
        time_zone: str | None,
        spool_root: Path,
        base: Path | None = None,
    ) -> None:
        self.con = con
        #: the config's folder: files inside it are named relative to it
        self.prefix = folder_prefix(base)
        self.spool_root = spool_root
        self.source = source
        self.load_id = load_id
        self.time_zone = time_zone
        self.columns = KINDS[source].columns
        self.queued = Batch()
        self.spool: str | None = None

    def add(self, batch: Batch) -> None:
        """Queue a batch of rows, ledger entries and rejects."""
        self.queued.merge(batch)
        if len(self.queued.rows) + self.queued.spooled_rows >= self.FLUSH_ROWS:
            self.flush()

    def spool_folder(self) -> str:
        """A folder for the workers' JSON files, removed by `close`."""
        if self.spool is None:
            self.spool_root.mkdir(exist_ok=True)
            self.spool = tempfile.mkdtemp(prefix=f"{self.source}-", dir=self.spool_root)
        return self.spool

    def close(self) -> None:
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)
            self.spool = None

    def delete_file(self, path: str) -> None:
        """Delete a changed file's earlier rows and rejects now (before rows written directly,
        by loaders.bulk, take their place)."""
        self.flush()
        path = self.key(path)
        self.con.execute(f"delete from raw.{self.source} where _source_file = ?", [path])
        self.con.execute(
            "delete from raw.rejected_records where source = ? and file_path = ?",
            [self.source, path],
        )

    def key(self, path: str) -> str:
        """A file's name in the warehouse (see `relative`)."""
        return relative(path, self.prefix)

    def flush(self) -> None:
        """Write what is queued."""
        q, self.queued = self.queued, Batch()
        replaced = [self.key(path) for path in q.replaced]
        if replaced:
            self.con.execute(
                f"delete from raw.{self.source} where _source_file in (select unnest(?))",
                [replaced],
            )
            self.con.execute(
                "delete from raw.rejected_records where source = ? "
                "and file_path in (select unnest(?))",
                [self.source, replaced],
            )
        ledger = [(*e[:3], self.key(e[3]), *e[4:]) for e in q.ledger]  # type: ignore[arg-type]
        rejects = [(*r[:2], self.key(r[2]), *r[3:]) for r in q.rejects]  # type: ignore[arg-type]
        touched = [(self.key(t[0]), *t[1:]) for t in q.touched]  # type: ignore[arg-type]
        unreadable = [(entry[3], entry[11]) for entry in ledger if entry[10] == "unreadable"]
        if unreadable:
            # a file still unreadable: its reject of the last load gives way to this one's
            self.con.executemany(
                "delete from raw.rejected_records where source = ? and file_path = ? "
                "and reason = ? and raw_text = ''",
                [(self.source, path, message) for path, message in unreadable],
            )
        if q.rows:
            names = ["_source_file", "_record_number", *self.columns]
            frame = _frame(q.rows, names)
            self.con.register("incoming_rows", frame)
            try:
                self.con.execute(
                    f"""
                    insert into raw.{self.source} ({", ".join(self.columns)},
                        _source_file, _record_number, _load_id, _loaded_at, _time_zone)
                    select {", ".join(f"cast({c} as varchar)" for c in self.columns)},
                        {relative_sql("_source_file", self.prefix)},
                        cast(_record_number as bigint), ?, ?, ?
                    from incoming_rows
                    """,
                    [self.load_id, datetime.now(UTC), self.time_zone],
                )
            finally:
                self.con.unregister("incoming_rows")
        if q.row_files:
            # [path, record, value, ...] arrays, as reading.spool wrote them
            values = ", ".join(f"r[{i + 3}]" for i in range(len(self.columns)))
            self.con.execute(
                f"""
                insert into raw.{self.source} ({", ".join(self.columns)},
                    _source_file, _record_number, _load_id, _loaded_at, _time_zone)
                select {values}, {relative_sql("r[1]", self.prefix)}, cast(r[2] as bigint), ?, ?, ?
                from {_json_arrays(q.row_files)}
                """,
                [self.load_id, datetime.now(UTC), self.time_zone],
            )
        if q.ledger_files:
            picked = ", ".join(
                f"to_timestamp(cast(r[{i}] as double))"
                if name in EPOCH_COLUMNS
                else f"cast(r[{i}] as bigint)"
                if name in LEDGER_NUMBERS
                else relative_sql(f"r[{i}]", self.prefix)
                if name == "path"
                else f"r[{i}]"
                for i, name in enumerate(LEDGER_COLUMNS, 1)
            )
            self.con.execute(
                f"insert into raw.loads ({', '.join(LEDGER_COLUMNS)}) "
                f"select {picked} from {_json_arrays(q.ledger_files)}"
            )
        insert_frame(self.con, "raw.loads", LEDGER_COLUMNS, ledger)
        insert_frame(self.con, "raw.rejected_records", REJECT_COLUMNS, rejects)
        _record_touched(self.con, self.source, touched)
        for name in (*q.row_files, *q.ledger_files):  # written: the spool need not keep them
            with contextlib.suppress(OSError):
                os.unlink(name)


LEDGER_COLUMNS = (
    "load_id",
    "source",
    "format",
    "path",
    "size_bytes",
    "sha256",
    "rows",
    "skipped",
    "started_at",
    "finished_at",
    "status",
    "error",
    "rejected",
    "mtime_ns",
)
EPOCH_COLUMNS = frozenset({"started_at", "finished_at", "loaded_at"})
LEDGER_NUMBERS = frozenset({"load_id", "size_bytes", "rows", "skipped", "rejected", "mtime_ns"})


def _json_arrays(files: list[str]) -> str:
    """A FROM item over JSON files holding arrays of rows: one row `r` (text list) each."""
    names = ", ".join("'" + name.replace("'", "''") + "'" for name in files)
    return (
        f"read_json([{names}], format = 'array', records = false, columns = {{'r': 'VARCHAR[]'}})"
    )


REJECT_COLUMNS = (
    "source",
    "format",
    "file_path",
    "line_number",
    "reason_kind",
    "reason",
    "raw_text",
    "load_id",
    "loaded_at",
)


def _frame(rows: list[tuple[object, ...]], columns: list[str]) -> object:
    """Rows as a DataFrame DuckDB can insert from in one statement (pandas is imported by
    `load`, not at the top, so the commands that never load start without it)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=columns, dtype=object)


def insert_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
) -> None:
    """Insert rows in one statement (executemany costs about a millisecond a row)."""
    if not rows:
        return
    frame = _frame(rows, list(columns))
    con.register("incoming_frame", frame)
    try:
        names = ", ".join(columns)
        # times come as epoch seconds (see reading.Later)
        values = ", ".join(
            f"to_timestamp(cast({c} as double))" if c in EPOCH_COLUMNS else c for c in columns
        )
        con.execute(f"insert into {table} ({names}) select {values} from incoming_frame")
    finally:
        con.unregister("incoming_frame")


def _record_touched(
    con: duckdb.DuckDBPyConnection, source: str, touched: list[tuple[object, ...]]
) -> None:
    """Files read again because their mtime moved, but unchanged: the ledger takes their new
    stat, so the next load skips them without reading."""
    if not touched:
        return
    frame = _frame(touched, ["path", "load_id", "size", "mtime_ns"])
    con.register("touched_files", frame)
    try:
        con.execute(
            """
            update raw.loads set mtime_ns = cast(t.mtime_ns as bigint)
            from touched_files as t
            where raw.loads.source = ? and raw.loads.path = t.path
                and raw.loads.load_id = cast(t.load_id as bigint)
                and raw.loads.size_bytes = cast(t.size as bigint)
            """,
            [source],
        )
    finally:
        con.unregister("touched_files")


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
    from loaders.sources import distiller_pg  # psycopg is imported only to pull

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
        result = distiller_pg.pull(dsn, spec.timeout_s, last_digest)
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
            [distiller_pg.legacy_name(dsn) + "#jobs>"],
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
