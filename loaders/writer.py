"""The writer: what one source's load puts in the warehouse (its rows, ledger entries and
rejects), buffered and written in bulk, and the keys files are stored under.

Both paths write through it: the Python readers' batches and DuckDB's own line reader
(`loaders.bulk`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from loaders.reading import Batch, stored
from loaders.sources import KINDS


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
