"""`load`: find input files, parse the new or changed ones, write raw rows and the ledger.

The whole load is one transaction: a file that cannot be parsed rolls everything back, so the
warehouse's data stays as it was, and the error names the file and line.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from loaders.config import Config, InputSpec
from loaders.errors import LoadError
from loaders.progress import progress
from loaders.sources import KINDS, Parsed, distiller_pg
from loaders.sources.common import Reject, decode, printable, text_of_line
from loaders.sources.files import walk_listing
from loaders.warehouse import connect, create_raw_schema


@dataclass
class SourceTally:
    """What one load did for one source."""

    files_new: int = 0
    files_replaced: int = 0
    files_unchanged: int = 0
    rows: int = 0
    skipped: int = 0
    rejected: int = 0


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
            )
        for (source, kind), count in sorted(self.reject_kinds.items()):
            out.append(f"rejected {count:>6}  {source}: {kind}")
        out += [f"warning: no file matches {glob}" for glob in self.unmatched]
        return out


def snapshot(spec: InputSpec, path: Path) -> bytes:
    """The bytes that stand for one input: the file, or the stat listing of a walked folder."""
    try:
        return walk_listing(path) if spec.format == "dir" else path.read_bytes()
    except OSError as exc:
        raise LoadError(path, None, f"cannot read: {exc.strerror}") from None


def _known_hashes(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """Latest sha256 the ledger holds for each path of a source."""
    rows = con.execute(
        """
        select path, arg_max(sha256, load_id)
        from raw.loads
        where source = ? and status in ('loaded', 'replaced')
        group by path
        """,
        [source],
    ).fetchall()
    return dict(rows)


class RawWriter:
    """Buffers the rows and ledger entries of one source and writes them in bulk.

    Per-file inserts cost milliseconds each (thousands of small status files a day), so rows are
    gathered into one frame per flush; a changed file's earlier rows are deleted first.
    """

    FLUSH_ROWS = 200_000

    def __init__(
        self, con: duckdb.DuckDBPyConnection, source: str, load_id: int, time_zone: str | None
    ) -> None:
        self.con = con
        self.source = source
        self.load_id = load_id
        self.time_zone = time_zone
        self.columns = KINDS[source].columns
        self.rows: list[tuple[object, ...]] = []
        self.replaced: list[str] = []
        self.ledger: list[tuple[object, ...]] = []
        self.rejects: list[tuple[object, ...]] = []

    def add(
        self, path: str, parsed: Parsed, ledger_entry: tuple[object, ...], replaced: bool
    ) -> None:
        """Queue one file's rows (each prefixed with its path) and its ledger entry."""
        if replaced:
            self.replaced.append(path)
        self.rows.extend((path, *row) for row in parsed.rows)
        self.ledger.append(ledger_entry)
        fmt, loaded_at = ledger_entry[2], ledger_entry[9]
        self.rejects.extend(
            (
                self.source,
                fmt,
                path,
                r.line,
                reason_kind(r.reason),
                r.reason,
                r.text,
                self.load_id,
                loaded_at,
            )
            for r in parsed.rejects
        )
        if len(self.rows) >= self.FLUSH_ROWS:
            self.flush()

    def add_unreadable(self, path: str, fmt: str, error: LoadError, started: datetime) -> None:
        """Queue a file that cannot be read: one reject, a ledger entry; its earlier rows stay
        (nothing already loaded is lost), and its earlier unreadable-rejects are replaced."""
        self.con.execute(
            "delete from raw.rejected_records where source = ? and file_path = ? "
            "and line_number is not distinct from ? and reason = ?",
            [self.source, path, error.line, error.message],
        )
        self.ledger.append(
            (
                self.load_id,
                self.source,
                fmt,
                path,
                None,
                None,
                0,
                0,
                started,
                datetime.now(UTC),
                "unreadable",
                error.message,
                1,
            )
        )
        self.rejects.append(
            (
                self.source,
                fmt,
                path,
                error.line,
                reason_kind(error.message),
                error.message,
                "",
                self.load_id,
                started,
            )
        )

    def flush(self) -> None:
        """Write what is queued."""
        if self.replaced:
            self.con.execute(
                f"delete from raw.{self.source} where _source_file in (select unnest(?))",
                [self.replaced],
            )
            self.con.execute(
                "delete from raw.rejected_records where source = ? "
                "and file_path in (select unnest(?))",
                [self.source, self.replaced],
            )
        if self.rows:
            names = ["_source_file", "_record_number", *self.columns]
            frame = pd.DataFrame(self.rows, columns=names, dtype=object)
            self.con.register("incoming_rows", frame)
            try:
                self.con.execute(
                    f"""
                    insert into raw.{self.source} ({", ".join(self.columns)},
                        _source_file, _record_number, _load_id, _loaded_at, _time_zone)
                    select {", ".join(f"cast({c} as varchar)" for c in self.columns)},
                        _source_file, cast(_record_number as bigint), ?, ?, ?
                    from incoming_rows
                    """,
                    [self.load_id, datetime.now(UTC), self.time_zone],
                )
            finally:
                self.con.unregister("incoming_rows")
        insert_frame(self.con, "raw.loads", LEDGER_COLUMNS, self.ledger)
        insert_frame(self.con, "raw.rejected_records", REJECT_COLUMNS, self.rejects)
        self.rows, self.replaced, self.ledger, self.rejects = [], [], [], []


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


def insert_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
) -> None:
    """Insert rows in one statement (executemany costs about a millisecond a row)."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=list(columns), dtype=object)
    con.register("incoming_frame", frame)
    try:
        names = ", ".join(columns)
        con.execute(f"insert into {table} ({names}) select {names} from incoming_frame")
    finally:
        con.unregister("incoming_frame")


def reason_kind(reason: str) -> str:
    """A reason without its values, to count rejects by kind: `time … is not …`."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'", "…", reason))


def parse_file(spec: InputSpec, path: Path, data: bytes, strict: bool) -> tuple[Parsed, str | None]:
    """Parse one input. A malformed record is rejected and the rest loads; a file that cannot be
    read at all (bad name, header, JSON) is one rejected record. `strict` turns the first
    reject into a LoadError instead."""
    try:
        parsed = KINDS[spec.source].readers[spec.format](path, data)
    except LoadError as exc:
        if strict:
            raise
        text = printable(text_of_line(decode(path, data), exc.line))
        return Parsed(rejects=[Reject(exc.line, exc.message, text)]), exc.message
    if strict and parsed.rejects:
        first = parsed.rejects[0]
        raise LoadError(path, first.line, first.reason)
    return parsed, None


def _load_input(
    con: duckdb.DuckDBPyConnection,
    spec: InputSpec,
    load_id: int,
    summary: LoadSummary,
    seen: set[tuple[str, str]],
    strict: bool,
) -> None:
    """Load the new and changed files of one `[[inputs]]` entry."""
    if spec.format == "postgres":
        _pull_distiller(con, spec, load_id, summary, strict)
        return
    tally = summary.sources.setdefault(spec.source, SourceTally())
    paths, unmatched = spec.resolve_each()
    summary.unmatched.extend(f"{spec.source}: {pattern}" for pattern in unmatched)
    known = _known_hashes(con, spec.source)
    writer = RawWriter(con, spec.source, load_id, spec.timezone)
    for path in progress(paths, f"{spec.source} ({spec.format})"):
        key = str(path)
        if (spec.source, key) in seen:
            continue
        seen.add((spec.source, key))
        started = datetime.now(UTC)
        try:
            data = snapshot(spec, path)
        except LoadError as exc:
            if strict:
                raise
            writer.add_unreadable(key, spec.format, exc, started)
            summary.reject_kinds[(spec.source, reason_kind(exc.message))] += 1
            tally.rejected += 1
            continue
        digest = hashlib.sha256(data).hexdigest()
        if known.get(key) == digest:
            tally.files_unchanged += 1
            continue
        parsed, error = parse_file(spec, path, data, strict)
        replaced = key in known
        entry = (
            load_id,
            spec.source,
            spec.format,
            key,
            len(data),
            digest,
            len(parsed.rows),
            parsed.skipped,
            started,
            datetime.now(UTC),
            "replaced" if replaced else "loaded",
            error,
            len(parsed.rejects),
        )
        writer.add(key, parsed, entry, replaced)
        summary.reject_kinds.update((spec.source, reason_kind(r.reason)) for r in parsed.rejects)
        if replaced:
            tally.files_replaced += 1
        else:
            tally.files_new += 1
        tally.rows += len(parsed.rows)
        tally.skipped += parsed.skipped
        tally.rejected += len(parsed.rejects)
    writer.flush()


def _pull_distiller(
    con: duckdb.DuckDBPyConnection,
    spec: InputSpec,
    load_id: int,
    summary: LoadSummary,
    strict: bool,
) -> None:
    """Read the Distiller database's (scan, job) pairs newer than the last pull."""
    tally = summary.sources.setdefault(spec.source, SourceTally())
    dsn = spec.connection_string()
    name = distiller_pg.redacted(dsn)
    (after,) = con.execute(
        "select coalesce(max(max_job_id), 0) from raw.distiller_pulls where dsn = ?", [name]
    ).fetchone() or (0,)
    started = datetime.now(UTC)
    writer = RawWriter(con, spec.source, load_id, spec.timezone)
    try:
        result = distiller_pg.pull(dsn, int(after))
    except LoadError as exc:
        if strict:
            raise
        writer.add_unreadable(name, spec.format, exc, started)
        writer.flush()
        summary.reject_kinds[(spec.source, reason_kind(exc.message))] += 1
        tally.rejected += 1
        return
    parsed = result.parsed
    if strict and parsed.rejects:
        first = parsed.rejects[0]
        raise LoadError(name, first.line, first.reason)
    if not parsed.rows and not parsed.rejects:
        tally.files_unchanged += 1
        return
    key = f"{name}#jobs>{after}"
    entry = (
        load_id,
        spec.source,
        spec.format,
        key,
        None,
        None,
        len(parsed.rows),
        0,
        started,
        datetime.now(UTC),
        "loaded",
        None,
        len(parsed.rejects),
    )
    writer.add(key, parsed, entry, False)
    writer.flush()
    con.execute(
        "insert into raw.distiller_pulls values (?, ?, ?, ?, ?, ?)",
        [name, after, result.max_job_id, len(parsed.rows), load_id, datetime.now(UTC)],
    )
    summary.reject_kinds.update((spec.source, reason_kind(r.reason)) for r in parsed.rejects)
    tally.files_new += 1
    tally.rows += len(parsed.rows)
    tally.rejected += len(parsed.rejects)


def load(config: Config, sources: list[str] | None = None, strict: bool = False) -> LoadSummary:
    """Load every input of `config` (or of the named sources) in one transaction. Malformed
    records go to raw.rejected_records; with `strict` the first one fails the whole load."""
    specs = config.inputs_for(sources)
    created = not config.warehouse.exists()
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = connect(config.warehouse)
    try:
        con.begin()
        try:
            create_raw_schema(con)
            (load_id,) = con.execute("select nextval('raw.load_ids')").fetchone() or (1,)
            summary = LoadSummary(load_id=load_id)
            seen: set[tuple[str, str]] = set()
            for spec in specs:
                _load_input(con, spec, load_id, summary, seen, strict)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            con.close()
            if created:  # a failed first load leaves no warehouse behind
                for leftover in (
                    config.warehouse,
                    config.warehouse.with_name(config.warehouse.name + ".wal"),
                ):
                    leftover.unlink(missing_ok=True)
            raise
        con.commit()
        return summary
    finally:
        con.close()
