"""The writer: what one source's load puts in the warehouse (its rows, ledger entries and
rejects), buffered and written in bulk.

Both paths write through it: the Python readers' batches and DuckDB's own line reader
(`loaders.bulk`). Everything it writes goes through JSON files in the load's spool folder
(the workers' own, and those it writes for the main process's entries), read by DuckDB's
`read_json`, and its statements carry their values as literals: no pandas frame and no
parameter (DuckDB imports pandas at the first parameter), so a load starts without pandas.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from loaders import quick
from loaders.batch import LEDGER_FIELDS, REJECT_FIELDS, Batch
from loaders.keys import folder_prefix, relative, relative_sql, sql_value
from loaders.sources import KINDS

#: raw.loads' columns written from epoch seconds, and those written as whole numbers
EPOCH_COLUMNS = frozenset({"started_at", "finished_at", "loaded_at"})
NUMBER_COLUMNS = frozenset({"size_bytes", "rows", "skipped", "rejected", "mtime_ns", "load_id"})
#: a statement names fewer values than this inline; more go through a JSON file
INLINE_VALUES = 200
#: the ledger entry of a file read the quick way, besides its CSV line's: new, one row, whole
QUICK_LEDGER = {
    "rows": "1",
    "skipped": "0",
    "status": "'loaded'",
    "error": "NULL",
    "rejected": "0",
    "started_at": "started_at / 1e9",  # from epoch nanoseconds
    "finished_at": "finished_at / 1e9",
}


def _json_arrays(files: Sequence[str]) -> str:
    """A FROM item over JSON files holding arrays of rows: one row `r` (text list) each."""
    names = ", ".join(sql_value(name) for name in files)
    return (
        f"read_json([{names}], format = 'array', records = false, columns = {{'r': 'VARCHAR[]'}})"
    )


def _quick_csv(files: Sequence[str], columns: Sequence[str]) -> str:
    """A FROM item over the CSV files of files read the quick way (loaders.quick): an empty
    field is NULL, a quoted one text (empty too)."""
    names = ", ".join(sql_value(name) for name in files)
    typed = [(name, "VARCHAR") for name in (*quick.HEAD, *columns)] + list(quick.TAIL)
    struct = ", ".join(f"{sql_value(name)}: {sql_value(kind)}" for name, kind in typed)
    return (
        f"read_csv([{names}], columns = {{{struct}}}, header = false, auto_detect = false, "
        "delim = ',', quote = '\"', escape = '\"', new_line = '\\n', "
        "allow_quoted_nulls = false)"
    )


def _typed(name: str, column: str) -> str:
    """A spooled text value as the ledger or reject column `name` takes it."""
    if name in EPOCH_COLUMNS:
        return f"to_timestamp(cast({column} as double))"
    if name in NUMBER_COLUMNS or name == "line_number":
        return f"cast({column} as bigint)"
    return f"cast({column} as varchar)"


class RawWriter:
    """Buffers the rows, ledger entries and rejects of one source and writes them in bulk.

    Per-file inserts cost milliseconds each (thousands of small status files a day), so rows are
    gathered and written with one statement per flush; a changed file's earlier rows are
    deleted first.
    """

    # small enough that the last write, after the workers are done, is short (at x100 the
    # rec_status load's last write and commit take 0.25 s at 20k rows, 0.35 at 50k)
    FLUSH_ROWS = 20_000

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        load_id: int,
        time_zone: str | None,
        spool_root: Path,
        base: Path | None = None,
        *,
        format: str = "",
        reading: str | None = None,
    ) -> None:
        self.con = con
        #: the config's folder: files inside it are named relative to it
        self.prefix = folder_prefix(base)
        self.spool_root = spool_root
        self.source = source
        self.format = format
        #: how the input's files were read (loaders.config.InputSpec.reading), for the ledger
        self.reading = reading
        self.load_id = load_id
        self.time_zone = time_zone
        self.columns = KINDS[source].columns
        self.queued = Batch()
        self.spool: str | None = None
        self._names = itertools.count()
        self._registered: list[str] = []

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

    def key(self, path: str) -> str:
        """A file's name in the warehouse (see `keys.relative`)."""
        return relative(path, self.prefix)

    def delete_file(self, path: str) -> None:
        """Delete a changed file's earlier rows and rejects now (before rows written directly,
        by loaders.bulk, take their place)."""
        self.flush()
        key = sql_value(self.key(path))
        self.con.execute(f"delete from raw.{self.source} where _source_file = {key}")
        self.con.execute(
            "delete from raw.rejected_records "
            f"where source = {sql_value(self.source)} and file_path = {key}"
        )

    def _table(self, entries: Sequence[Sequence[object]], names: Sequence[str]) -> str:
        """A FROM item holding `entries` with the columns `names`: a JSON file in the spool
        (or, for text JSON cannot carry as UTF-8, a frame)."""
        try:
            data = json.dumps(entries, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return self._frame(entries, names)
        path = os.path.join(self.spool_folder(), f"main-{next(self._names)}.json")
        with open(path, "wb") as out:
            out.write(data)
        return self._spooled([path], names)

    def _spooled(self, files: Sequence[str], names: Sequence[str]) -> str:
        """A FROM item over spooled JSON files of arrays, their items named `names`."""
        picked = ", ".join(f"r[{i}] as {name}" for i, name in enumerate(names, 1))
        return f"(select {picked} from {_json_arrays(files)})"

    def _frame(self, entries: Sequence[Sequence[object]], names: Sequence[str]) -> str:
        """A registered DataFrame of `entries`: the rare rows with a lone surrogate (pandas is
        imported only then)."""
        pandas = importlib.import_module("pandas")
        name = f"incoming_{next(self._names)}"
        frame = pandas.DataFrame(list(entries), columns=list(names), dtype=object)
        self.con.register(name, frame)
        self._registered.append(name)
        return name

    def flush(self) -> None:
        """Write what is queued."""
        q, self.queued = self.queued, Batch()
        try:
            self._delete_replaced(q.replaced)
            self._write_rows(q)
            self._write_ledger(q)
            self._write_rejects(q)
            self._record_touched(q)
        finally:
            for name in self._registered:
                self.con.unregister(name)
            self._registered.clear()
            for spooled in (*q.row_files, *q.ledger_files, *q.quick_files):  # written
                with contextlib.suppress(OSError):
                    os.unlink(spooled)

    def _keys_table(self, keys: list[str]) -> str:
        """A subquery of file keys (inline for a few)."""
        if len(keys) < INLINE_VALUES:
            return "(select * from (values " + ", ".join(f"({sql_value(k)})" for k in keys) + "))"
        return f"(select key from {self._table([[k] for k in keys], ['key'])})"

    def _delete_replaced(self, replaced: list[str]) -> None:
        """Delete the earlier rows and rejects of changed files."""
        if not replaced:
            return
        keys = self._keys_table([self.key(path) for path in replaced])
        self.con.execute(f"delete from raw.{self.source} where _source_file in {keys}")
        self.con.execute(
            "delete from raw.rejected_records "
            f"where source = {sql_value(self.source)} and file_path in {keys}"
        )

    def _write_rows(self, q: Batch) -> None:
        """Insert the queued raw rows (in memory and spooled)."""
        sources = []
        names = ["_source_file", "_record_number", *self.columns]
        if q.rows:
            sources.append(self._table(q.rows, names))
        if q.row_files:  # [path, record, value, ...] arrays, as workers.spool wrote them
            sources.append(self._spooled(q.row_files, names))
        if q.quick_files:  # one row a file, its record 1
            picked = ", ".join(["path as _source_file", "1 as _record_number", *self.columns])
            sources.append(f"(select {picked} from {_quick_csv(q.quick_files, self.columns)})")
        now = sql_value(datetime.now(UTC))
        for source in sources:
            self.con.execute(
                f"""
                insert into raw.{self.source} ({", ".join(self.columns)},
                    _source_file, _record_number, _load_id, _loaded_at, _time_zone)
                select {", ".join(f"cast({c} as varchar)" for c in self.columns)},
                    {relative_sql("cast(_source_file as varchar)", self.prefix)},
                    cast(_record_number as bigint), {self.load_id}, {now},
                    {sql_value(self.time_zone)}
                from {source}
                """
            )

    def _write_ledger(self, q: Batch) -> None:
        """Insert the queued ledger entries; a file still unreadable gives up the reject its
        last load left to this one's."""
        unreadable = [(self.key(e.path), e.error) for e in q.ledger if e.status == "unreadable"]
        if unreadable:
            pairs = self._table(unreadable, ["path", "message"])
            self.con.execute(
                f"delete from raw.rejected_records where source = {sql_value(self.source)} "
                f"and raw_text = '' and exists (select 1 from {pairs} as u "
                "where u.path = file_path and u.message = reason)"
            )
        sources = [self._table(q.ledger, LEDGER_FIELDS)] if q.ledger else []
        if q.ledger_files:
            sources.append(self._spooled(q.ledger_files, LEDGER_FIELDS))
        if q.quick_files:
            picked = ", ".join(
                f"{QUICK_LEDGER.get(name, name)} as {name}" for name in LEDGER_FIELDS
            )
            sources.append(f"(select {picked} from {_quick_csv(q.quick_files, self.columns)})")
        picked = ", ".join(
            relative_sql("cast(path as varchar)", self.prefix)
            if name == "path"
            else _typed(name, name)
            for name in LEDGER_FIELDS
        )
        for source in sources:
            self.con.execute(
                f"insert into raw.loads (load_id, source, format, reading, "
                f"{', '.join(LEDGER_FIELDS)}) select {self.load_id}, {sql_value(self.source)}, "
                f"{sql_value(self.format)}, {sql_value(self.reading)}, {picked} from {source}"
            )

    def _write_rejects(self, q: Batch) -> None:
        """Insert the queued rejects."""
        if not q.rejects:
            return
        rejects = [(self.key(r.file_path), *r[1:]) for r in q.rejects]
        picked = ", ".join(_typed(name, name) for name in REJECT_FIELDS)
        self.con.execute(
            "insert into raw.rejected_records (source, format, load_id, "
            f"{', '.join(REJECT_FIELDS)}) select {sql_value(self.source)}, "
            f"{sql_value(self.format)}, {self.load_id}, {picked} "
            f"from {self._table(rejects, REJECT_FIELDS)}"
        )

    def _record_touched(self, q: Batch) -> None:
        """Files read again because their mtime moved, but unchanged: the ledger takes their new
        stat, so the next load skips them without reading."""
        if not q.touched:
            return
        touched = [(self.key(t.path), *t[1:]) for t in q.touched]
        table = self._table(touched, ["path", "load_id", "size", "mtime_ns"])
        self.con.execute(
            f"""
            update raw.loads set mtime_ns = cast(t.mtime_ns as bigint)
            from {table} as t
            where raw.loads.source = {sql_value(self.source)}
                and raw.loads.path = cast(t.path as varchar)
                and raw.loads.load_id = cast(t.load_id as bigint)
                and raw.loads.size_bytes = cast(t.size as bigint)
            """
        )
