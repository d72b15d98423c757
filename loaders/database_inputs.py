"""Loading a database input (`distiller_db`, format `postgres`): a snapshot of Distiller's
(scan, job) pairs, written when it differs from the last pull's."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from loaders.batch import Batch, Job, ParsedFile, add_file, add_unreadable
from loaders.changes import ledger_states
from loaders.errors import LoadError
from loaders.keys import sql_value
from loaders.summary import LoadSummary, SourceTally
from loaders.writer import RawWriter

if TYPE_CHECKING:
    from loaders.pulls.distiller import DistillerPull


def pull_distiller(
    con: duckdb.DuckDBPyConnection, job: Job, summary: LoadSummary, spool_root: Path
) -> None:
    """Read a snapshot of the Distiller database's (scan, job) pairs; when it differs from the
    last pull's, it replaces that pull's rows (a job whose slurm_id was set since, a scan linked
    to an old job: every pair as it is now)."""
    from loaders.pulls import distiller  # psycopg is imported only to pull

    spec = job.spec
    tally = summary.sources.setdefault(spec.source, SourceTally())
    dsn = spec.connection_string()
    started = time.time()
    writer = RawWriter(con, spec.source, job.load_id, spec.timezone, spool_root, format=spec.format)
    batch = Batch()
    known = ledger_states(con, spec.source)

    def last_digest(database: str) -> str | None:
        before = known.get(database)
        return None if before is None or job.rehash else before.sha256

    _forget_failed_pulls(con, spec.source, distiller.configured_name(dsn))
    try:
        try:
            result = distiller.pull(dsn, spec.timeout_s, last_digest)
        except LoadError as exc:
            if job.strict:
                raise
            add_unreadable(job, batch, exc.path, exc, started)
            summary.count(spec.source, batch)
            writer.add(batch)
            writer.flush()
            return
        parsed = result.parsed
        if parsed is not None and job.strict and parsed.rejects:
            first = parsed.rejects[0]
            raise LoadError(result.database, first.line, first.reason)
        before = known.get(result.database)
        changed = parsed is not None and (before is None or before.sha256 != result.digest)
        if parsed is not None and changed:
            # the rows of pulls from before snapshots (named by the DSN, one per job-id range)
            legacy = sql_value(distiller.legacy_name(dsn) + "#jobs>")
            con.execute(f"delete from raw.distiller_db where starts_with(_source_file, {legacy})")
            replaced = before is not None
            done = ParsedFile(
                result.database, started, None, None, result.digest, parsed, None, replaced
            )
            add_file(batch, done)
            summary.count(spec.source, batch)
            writer.add(batch)
            writer.flush()
        else:
            tally.files_unchanged += 1
        _record_pull(con, job.load_id, result, changed)
    finally:
        writer.close()


def _forget_failed_pulls(con: duckdb.DuckDBPyConnection, source: str, name: str) -> None:
    """A failed pull's reject is the verdict of one attempt, as an unreadable file's is: it
    goes when the database is pulled again, which gives its own (another reject if it fails
    again). The ledger keeps the failed attempt."""
    con.execute(
        f"delete from raw.rejected_records where source = {sql_value(source)} "
        f"and file_path = {sql_value(name)} and raw_text = '' and load_id in (select load_id "
        f"from raw.loads where source = {sql_value(source)} and path = {sql_value(name)} "
        "and status = 'unreadable')"
    )


def _record_pull(
    con: duckdb.DuckDBPyConnection, load_id: int, result: DistillerPull, changed: bool
) -> None:
    """A row of raw.distiller_pulls for this pull."""
    parsed = result.parsed
    rows = parsed.rows if parsed is not None else []
    values = [
        result.database,
        max((int(str(row[0])) for row in rows), default=0),
        len(rows),
        load_id,
        datetime.now(UTC),
        result.era,
        result.pairs,
        changed,
    ]
    con.execute(
        "insert into raw.distiller_pulls (dsn, after_job_id, max_job_id, rows, load_id, "
        f"pulled_at, schema_era, pairs, changed) values ({sql_value(values[0])}, 0, "
        + ", ".join(sql_value(value) for value in values[1:])
        + ")"
    )
