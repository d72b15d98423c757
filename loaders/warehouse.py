"""Opening the warehouse file and the DDL of its raw schema."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from loaders.errors import TurnaroundError
from loaders.sources import KINDS

META_COLUMNS = (
    ("_source_file", "varchar not null"),
    ("_record_number", "bigint not null"),
    ("_load_id", "bigint not null"),
    ("_loaded_at", "timestamp with time zone not null"),
    # zone of the row's naive times when not the facility's (NULL: the config's timezone)
    ("_time_zone", "varchar"),
)

LOADS_DDL = """
create table if not exists raw.loads (
    load_id bigint not null,
    source varchar not null,
    format varchar not null,
    path varchar not null,
    size_bytes bigint,
    sha256 varchar,
    rows bigint,
    skipped bigint,
    started_at timestamp with time zone not null,
    finished_at timestamp with time zone,
    status varchar not null,
    error varchar,
    rejected bigint
)
"""

REJECTS_DDL = """
create table if not exists raw.rejected_records (
    source varchar not null,
    format varchar not null,
    file_path varchar not null,
    line_number bigint,
    reason_kind varchar not null,
    reason varchar not null,
    raw_text varchar,
    load_id bigint not null,
    loaded_at timestamp with time zone not null
)
"""


PULLS_DDL = """
create table if not exists raw.slurm_pulls (
    window_start timestamp with time zone not null,
    window_end timestamp with time zone not null,
    file_path varchar not null,
    lines bigint not null,
    pulled_at timestamp with time zone not null
)
"""


DISTILLER_PULLS_DDL = """
create table if not exists raw.distiller_pulls (
    -- the database (host, port, name; never a password)
    dsn varchar not null,
    after_job_id bigint not null,
    max_job_id bigint not null,
    rows bigint not null,
    load_id bigint not null,
    pulled_at timestamp with time zone not null
)
"""


class WarehouseBusy(TurnaroundError):
    """Another process holds the DuckDB file."""


class WarehouseCorrupt(TurnaroundError):
    """The DuckDB file is damaged (a block fails its checksum, the file is cut short)."""


class NoSpace(TurnaroundError):
    """The disk holding the warehouse (or a file written beside it) is full."""


#: what DuckDB says of a damaged file: a block whose checksum does not match, a file cut short
CORRUPT_SIGNS = ("Corrupt database file", "Could not read enough bytes from file")
NOT_DUCKDB_SIGN = "not a valid DuckDB database file"
LOCK_SIGNS = ("Could not set lock on file", "Conflicting lock is held")
NO_SPACE_SIGN = "No space left on device"


def busy(path: Path, text: str) -> WarehouseBusy:
    """The one sentence for a warehouse another process holds, from DuckDB's lock error."""
    pid = re.search(r"PID (\d+)", text)
    holder = f"process {pid.group(1)}" if pid else "another process"
    return WarehouseBusy(
        f"{path} is in use by {holder} (an open `turnaround shell` or a running build?); "
        "close it or wait for it to finish, then run the command again."
    )


def no_space(path: Path) -> NoSpace:
    """The one sentence for a full disk while writing `path` (or beside it)."""
    return NoSpace(
        f"{path}: no space left on device; free some space, then run the command again "
        "(a load that failed wrote nothing, and the next `turnaround refresh` builds again)."
    )


def damaged(path: Path, text: str) -> TurnaroundError | None:
    """The one sentence for a DuckDB error about the warehouse file itself, from its text
    (DuckDB's or dbt's output): held by another process, corrupt, not a DuckDB database, or
    on a full disk. None for any other error."""
    if any(sign in text for sign in LOCK_SIGNS):
        return busy(path, text)
    if any(sign in text for sign in CORRUPT_SIGNS):
        detail = text.split("Error: ", 1)[-1].strip().splitlines()[0].rstrip(".")
        detail = detail.removeprefix("Corrupt database file: ")
        return WarehouseCorrupt(
            f"{path} is corrupt (DuckDB: {detail}); restore it from a backup, or rebuild it "
            "from the inputs: delete it (and its .wal) and run `turnaround refresh`."
        )
    if NOT_DUCKDB_SIGN in text:
        return TurnaroundError(
            f"{path} is not a DuckDB database; name another file as the warehouse in the config, "
            "or delete it and run `turnaround refresh` to build one there."
        )
    if NO_SPACE_SIGN in text:
        named = re.search(r'file "([^"]+)"', text)  # DuckDB names the file it could not write
        return no_space(Path(named.group(1)) if named else path)
    return None


def check_path(path: Path) -> None:
    """TurnaroundError when DuckDB cannot open `path` at all: it takes paths as UTF-8, and a
    folder's name whose bytes are not (Python's surrogates) cannot be given to it."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise TurnaroundError(
            f"{path}: DuckDB cannot open a warehouse whose path is not UTF-8; set `warehouse` "
            "in the config to a file in a folder whose name is UTF-8."
        ) from None


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (UTC session). A lock held elsewhere, a damaged file or a full disk
    becomes one clear sentence."""
    check_path(path)
    if read_only and not path.exists():
        raise TurnaroundError(f"{path}: no warehouse yet; run `turnaround refresh` to build it")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = str(exc)
        # (not any "lock" in the text: a corrupt block's message says "block")
        raise damaged(path, text) or TurnaroundError(
            f"{path}: cannot open the warehouse: {text}"
        ) from None
    con.execute("set TimeZone = 'UTC'")
    return con


def create_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, one table per source and the load ledger, if missing."""
    con.execute("create schema if not exists raw")
    con.execute(LOADS_DDL)
    con.execute("alter table raw.loads add column if not exists rejected bigint")
    con.execute(REJECTS_DDL)
    # one id per `load` run, never reused (a run that changes nothing still takes one)
    (next_id,) = con.execute("select coalesce(max(load_id), 0) + 1 from raw.loads").fetchone() or (
        1,
    )
    con.execute(f"create sequence if not exists raw.load_ids start with {int(next_id)}")
    for source, kind in KINDS.items():
        columns = [f"{name} varchar" for name in kind.columns]
        columns += [f"{name} {sql_type}" for name, sql_type in META_COLUMNS]
        con.execute(f"create table if not exists raw.{source} ({', '.join(columns)})")
        # a warehouse of an earlier version gains the columns added since (all nullable)
        present = {
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = ?",
                [source],
            ).fetchall()
        }
        for name in (*kind.columns, "_time_zone"):
            if name not in present:
                con.execute(f"alter table raw.{source} add column {name} varchar")
    # the stat a file had when loaded: an unchanged size and mtime skip reading it again
    con.execute("alter table raw.loads add column if not exists mtime_ns bigint")
    # how the file was read (loaders.config.InputSpec.reading): a change reads it again
    con.execute("alter table raw.loads add column if not exists reading varchar")
    con.execute(PULLS_DDL)
    con.execute(DISTILLER_PULLS_DDL)
    # pulls are snapshots since: the schema era read, the pairs read, whether they changed
    for name, sql_type in (("schema_era", "integer"), ("pairs", "bigint"), ("changed", "boolean")):
        con.execute(f"alter table raw.distiller_pulls add column if not exists {name} {sql_type}")
