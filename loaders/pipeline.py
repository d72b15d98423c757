"""`load`: find input files, parse the new or changed ones, write raw rows and the ledger.

The whole load is one transaction: a file that cannot be parsed rolls everything back, so the
warehouse's data stays as it was, and the error names the file and line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from loaders.config import Config, InputSpec
from loaders.errors import LoadError
from loaders.sources import KINDS
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


@dataclass
class LoadSummary:
    """What one `load` did, per source."""

    load_id: int
    sources: dict[str, SourceTally] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A short human-readable report, one line per source."""
        out = []
        for source, t in sorted(self.sources.items()):
            out.append(
                f"{source:<20} {t.files_new} new, {t.files_replaced} changed, "
                f"{t.files_unchanged} unchanged files; {t.rows} rows"
                + (f"; {t.skipped} unrelated entries skipped" if t.skipped else "")
            )
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


def _write_rows(
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: str,
    rows: list[tuple[object, ...]],
    load_id: int,
    loaded_at: datetime,
) -> None:
    """Replace the raw rows of one file with `rows`."""
    con.execute(f"delete from raw.{source} where _source_file = ?", [path])
    if not rows:
        return
    columns = KINDS[source].columns
    frame = pd.DataFrame(rows, columns=["_record_number", *columns], dtype=object)
    con.register("incoming_rows", frame)
    try:
        con.execute(
            f"""
            insert into raw.{source} ({", ".join(columns)},
                _source_file, _record_number, _load_id, _loaded_at)
            select {", ".join(f"cast({c} as varchar)" for c in columns)},
                ?, cast(_record_number as bigint), ?, ?
            from incoming_rows
            """,
            [path, load_id, loaded_at],
        )
    finally:
        con.unregister("incoming_rows")


def _load_input(
    con: duckdb.DuckDBPyConnection,
    spec: InputSpec,
    load_id: int,
    summary: LoadSummary,
    seen: set[tuple[str, str]],
) -> None:
    """Load the new and changed files of one `[[inputs]]` entry."""
    tally = summary.sources.setdefault(spec.source, SourceTally())
    paths = spec.resolve()
    if not paths:
        summary.unmatched.extend(f"{spec.source}: {p}" for p in spec.paths)
    known = _known_hashes(con, spec.source)
    read = KINDS[spec.source].readers[spec.format]
    for path in paths:
        key = str(path)
        if (spec.source, key) in seen:
            continue
        seen.add((spec.source, key))
        started = datetime.now(UTC)
        data = snapshot(spec, path)
        digest = hashlib.sha256(data).hexdigest()
        if known.get(key) == digest:
            tally.files_unchanged += 1
            continue
        parsed = read(path, data)
        _write_rows(con, spec.source, key, parsed.rows, load_id, started)
        status = "replaced" if key in known else "loaded"
        con.execute(
            "insert into raw.loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)",
            [
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
                status,
            ],
        )
        if status == "replaced":
            tally.files_replaced += 1
        else:
            tally.files_new += 1
        tally.rows += len(parsed.rows)
        tally.skipped += parsed.skipped


def load(config: Config, sources: list[str] | None = None) -> LoadSummary:
    """Load every input of `config` (or of the named sources) in one transaction."""
    specs = config.inputs_for(sources)
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = connect(config.warehouse)
    try:
        create_raw_schema(con)
        (load_id,) = con.execute(
            "select coalesce(max(load_id), 0) + 1 from raw.loads"
        ).fetchone() or (1,)
        summary = LoadSummary(load_id=load_id)
        seen: set[tuple[str, str]] = set()
        con.begin()
        try:
            for spec in specs:
                _load_input(con, spec, load_id, summary, seen)
        except BaseException:
            con.rollback()
            raise
        con.commit()
        return summary
    finally:
        con.close()
