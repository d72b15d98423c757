"""The raw schema: the tables the loaders write and their ledger, and its DDL."""

from __future__ import annotations

import duckdb

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
                f"where table_schema = 'raw' and table_name = '{source}'"
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
