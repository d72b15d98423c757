"""Checks of the Distiller database fixture itself (tests/distiller_db.py), so that a test of the
Distiller pull can trust it: the schema of each era is the reference's
(shared/reference/distiller-schema.md), and the published analysis's own query gives back the
published exports from it, row for row."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from tests.conftest import published_inputs
from tests.distiller_db import (
    ERA_1_REVISION,
    ERA_2_REVISION,
    JOB_STATES,
    SIZES,
    Extras,
    PostgresServer,
    add_pending_count_job,
    create_distiller_database,
    fill_published,
    finish_job,
    link_scan_to_job,
    passes_count_filters,
    published_exports,
    sacct_jobs,
)

pytest_plugins = ("tests.distiller_db",)
pytestmark = pytest.mark.postgres

ERAS = (1, 2)

# (column, data_type, nullable) per table, as information_schema names them
VARCHAR, INTEGER, JSONB = "character varying", "integer", "jsonb"
TIMESTAMPTZ = "timestamp with time zone"
COMMON_COLUMNS: dict[str, set[tuple[str, str, bool]]] = {
    "scans": {
        ("id", INTEGER, False),
        ("scan_id", INTEGER, True),
        ("created", TIMESTAMPTZ, False),
        ("metadata", JSONB, True),
        ("microscope_id", INTEGER, False),
        ("progress", INTEGER, False),
        ("sha", VARCHAR, True),
        ("uuid", VARCHAR, True),
        ("image_path", VARCHAR, True),
        ("notes", VARCHAR, True),
    },
    "jobs": {
        ("id", INTEGER, False),
        ("job_type", VARCHAR, True),
        ("slurm_id", INTEGER, True),
        ("state", "USER-DEFINED", True),
        ("elapsed", "interval", True),
        ("machine", VARCHAR, False),
        ("params", "json", True),
        ("output", VARCHAR, True),
    },
    "microscopes": {
        ("id", INTEGER, False),
        ("name", VARCHAR, False),
        ("config", JSONB, False),
        ("state", JSONB, True),
    },
    # the reference is silent on these two: Distiller's own migrations' columns
    "locations": {
        ("id", INTEGER, False),
        ("host", VARCHAR, True),
        ("path", VARCHAR, True),
        ("scan_id", INTEGER, True),
    },
    "users": {
        ("username", VARCHAR, False),
        ("full_name", VARCHAR, True),
        ("hashed_password", VARCHAR, True),
    },
    "alembic_version": {("version_num", VARCHAR, False)},
}
ERA_COLUMNS: dict[int, dict[str, set[tuple[str, str, bool]]]] = {
    1: {"jobs": {("scan_id", INTEGER, True)}},
    2: {
        "jobs": {("submit", TIMESTAMPTZ, True), ("notes", VARCHAR, True)},
        "scan_job_table": {("scan_id", INTEGER, False), ("job_id", INTEGER, False)},
    },
}

# the published analysis's query (shared/seed/analysis-notes.md), restricted to count jobs and
# the published scans; era 2 reaches the jobs through scan_job_table
SIZE_CONDITION = """
    (metadata->>'Dimensions.1' = {size} or metadata->>'Dimensions 1' = {size})
    and (metadata->>'Dimensions.2' = {size} or metadata->>'Dimensions 2' = {size})
"""
JOINS = {
    1: "join jobs on jobs.scan_id = scans.id",
    2: "join scan_job_table on scan_job_table.scan_id = scans.id"
    " join jobs on jobs.id = scan_job_table.job_id",
}
PUBLISHED_QUERY = "select scans.id, slurm_id, elapsed from scans {joins} where {size} {more}"
COUNT_JOBS_OF_PUBLISHED_SCANS = "and jobs.job_type = 'count' and scans.id = any({published})"


@dataclass(frozen=True)
class Database:
    """A filled Distiller database of one era and the ids of its rows that must not count."""

    era: int
    dsn: str
    extras: Extras


@pytest.fixture(scope="module")
def databases(postgres_server: PostgresServer) -> dict[int, Database]:
    """Both eras' databases, filled once for the module."""
    filled = {}
    for era in ERAS:
        dsn = create_distiller_database(postgres_server, f"distiller_schema_era_{era}", era)
        filled[era] = Database(era, dsn, fill_published(dsn, era))
    return filled


@pytest.fixture(params=ERAS, ids=lambda era: f"era{era}")
def database(request: pytest.FixtureRequest, databases: dict[int, Database]) -> Database:
    """Each era's filled database in turn."""
    return databases[request.param]


@pytest.fixture
def connection(database: Database) -> Iterator[psycopg.Connection]:
    """A connection to the era's database, rolled back at the end."""
    with psycopg.connect(database.dsn) as conn:
        yield conn
        conn.rollback()


def _scalars(conn: psycopg.Connection, query: str, *params: object) -> list[object]:
    """The first column of the query's rows."""
    return [row[0] for row in conn.execute(query, list(params)).fetchall()]


def _columns(conn: psycopg.Connection) -> dict[str, set[tuple[str, str, bool]]]:
    """Table -> its (column, data_type, nullable), from information_schema."""
    tables: dict[str, set[tuple[str, str, bool]]] = {}
    for table, column, data_type, nullable in conn.execute(
        """
        select table_name, column_name, data_type, is_nullable = 'YES'
        from information_schema.columns where table_schema = 'public'
        """
    ).fetchall():
        tables.setdefault(table, set()).add((column, data_type, nullable))
    return tables


def _expected_columns(era: int) -> dict[str, set[tuple[str, str, bool]]]:
    """The tables and columns the reference gives for the era."""
    expected = {table: set(columns) for table, columns in COMMON_COLUMNS.items()}
    for table, columns in ERA_COLUMNS[era].items():
        expected.setdefault(table, set()).update(columns)
    return expected


def _published_rows(size: int) -> Counter[tuple[str, ...]]:
    """The export file `<size>_<size>.csv`'s rows as text, header dropped, as a multiset (read
    here, not through the fixture's own reader)."""
    path = published_inputs() / "distiller_db" / f"{size}_{size}.csv"
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
    assert next(reader) == ["id", "slurm_id", "elapsed"]
    return Counter(tuple(row) for row in reader)


def _published_query(era: int, size: int, restricted: bool = True) -> sql.Composed:
    """The published analysis's query for one size, through the era's link between scans and
    jobs; `restricted` keeps count jobs of the published scans only."""
    published = sorted({row.scan_id for row in published_exports()})
    more = sql.SQL(COUNT_JOBS_OF_PUBLISHED_SCANS).format(published=sql.Literal(published))
    return sql.SQL(PUBLISHED_QUERY).format(
        joins=sql.SQL(JOINS[era]),
        size=sql.SQL(SIZE_CONDITION).format(size=sql.Literal(str(size))),
        more=more if restricted else sql.SQL(""),
    )


def _copy_csv(conn: psycopg.Connection, query: sql.Composed) -> Counter[tuple[str, ...]]:
    """The query's rows as psql's `\\COPY (...) TO ... WITH CSV HEADER` writes them (server-side
    text, NULL as an empty field), header dropped, as a multiset."""
    statement = sql.SQL("copy ({}) to stdout with csv header").format(query)
    with conn.cursor().copy(statement) as copy:
        text = b"".join(bytes(chunk) for chunk in copy).decode()
    reader = csv.reader(io.StringIO(text))
    assert next(reader) == ["id", "slurm_id", "elapsed"]
    return Counter(tuple(row) for row in reader)


def _iso_8601(elapsed: str) -> str:
    """An `HH:MM:SS` interval as PostgreSQL prints it under `intervalstyle = iso_8601`."""
    hours, minutes, seconds = (int(part) for part in elapsed.split(":"))
    parts = [(hours, "H"), (minutes, "M"), (seconds, "S")]
    return "PT" + ("".join(f"{value}{unit}" for value, unit in parts if value) or "0S")


# --- the server ---------------------------------------------------------------------------------


def test_the_server_is_postgresql_15_on_loopback_only(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.admin_dsn) as conn:
        assert str(_scalars(conn, "show server_version_num")[0]).startswith("15")
        assert _scalars(conn, "show listen_addresses") == ["127.0.0.1"]
        assert _scalars(conn, "show intervalstyle") == ["postgres"]
        assert _scalars(conn, "show unix_socket_directories") == [str(postgres_server.sockets)]
    with psycopg.connect(postgres_server.socket_dsn("postgres")) as conn:
        assert _scalars(conn, "select 1") == [1]


def test_the_reader_logs_in_with_its_password_and_only_reads(
    postgres_server: PostgresServer, databases: dict[int, Database]
) -> None:
    dsn = postgres_server.reader_dsn("distiller_schema_era_2")
    assert "s3cr3t-Pa55" in dsn
    with psycopg.connect(dsn) as conn:
        assert _scalars(conn, "select count(*) from scan_job_table")[0] > 5000
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from jobs")
    wrong = dsn.replace("s3cr3t-Pa55", "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()
    with psycopg.connect(postgres_server.admin_dsn) as conn:
        stored = "select rolpassword like 'SCRAM-SHA-256$%%' from pg_authid where rolname = %s"
        assert _scalars(conn, stored, "reader") == [True]


# --- the schema ---------------------------------------------------------------------------------


def test_tables_and_columns_are_the_references(
    database: Database, connection: psycopg.Connection
) -> None:
    assert _columns(connection) == _expected_columns(database.era)
    assert _scalars(
        connection,
        """
        select character_maximum_length from information_schema.columns
        where table_name = 'scans' and column_name in ('sha', 'uuid') order by column_name
        """,
    ) == [64, 36]
    state_type = "select udt_name from information_schema.columns where column_name = 'state'"
    assert _scalars(connection, f"{state_type} and table_name = 'jobs'") == ["job_state_enum"]


def test_each_era_links_jobs_to_scans_its_own_way(
    database: Database, connection: psycopg.Connection
) -> None:
    tables = _columns(connection)
    has_scan_id = any(column == "scan_id" for column, _, _ in tables["jobs"])
    assert has_scan_id == (database.era == 1)
    assert ("scan_job_table" in tables) == (database.era == 2)
    if database.era == 2:
        assert _scalars(
            connection,
            """
            select kcu.column_name from information_schema.table_constraints tc
            join information_schema.key_column_usage kcu using (constraint_schema, constraint_name)
            where tc.table_name = 'scan_job_table' and tc.constraint_type = 'PRIMARY KEY'
            order by kcu.ordinal_position
            """,
        ) == ["scan_id", "job_id"]


def test_the_published_query_fails_on_era_2(databases: dict[int, Database]) -> None:
    with (
        psycopg.connect(databases[2].dsn) as conn,
        pytest.raises(psycopg.errors.UndefinedColumn, match=r"column jobs\.scan_id does not exist"),
    ):
        conn.execute(_published_query(1, 1024, restricted=False))


def test_foreign_keys_cascade_where_the_reference_says(
    database: Database, connection: psycopg.Connection
) -> None:
    cascades = {
        (table, column, rule)
        for table, column, rule in connection.execute(
            """
            select kcu.table_name, kcu.column_name, rc.delete_rule
            from information_schema.referential_constraints rc
            join information_schema.key_column_usage kcu using (constraint_schema, constraint_name)
            """
        ).fetchall()
    }
    links = (
        {("jobs", "scan_id", "CASCADE")}
        if database.era == 1
        else {("scan_job_table", "scan_id", "CASCADE"), ("scan_job_table", "job_id", "CASCADE")}
    )
    # microscope_id's key has no cascade in Distiller's migration 3c37b4ed72b3
    common = {("locations", "scan_id", "CASCADE"), ("scans", "microscope_id", "NO ACTION")}
    assert cascades == links | common


def test_serials_unique_indexes_enum_and_fixed_rows(
    database: Database, connection: psycopg.Connection
) -> None:
    defaults = _scalars(
        connection,
        """
        select table_name || '.' || column_default from information_schema.columns
        where column_default is not null order by 1
        """,
    )
    assert defaults == [
        f"{table}.nextval('{table}_id_seq'::regclass)"
        for table in ("jobs", "locations", "microscopes", "scans")
    ]
    unique = _scalars(
        connection,
        "select indexname from pg_indexes where schemaname = 'public'"
        " and indexdef like 'CREATE UNIQUE INDEX ix_%%' order by 1",
    )
    assert unique == ["ix_microscopes_name", "ix_scans_sha", "ix_scans_uuid"]
    labels = _scalars(connection, "select unnest(enum_range(null::job_state_enum))::text")
    assert tuple(labels) == JOB_STATES
    assert {"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"} <= set(labels)
    microscopes = connection.execute("select id, name from microscopes order by id").fetchall()
    assert microscopes == [(1, "4D Camera"), (2, "TEAM 0.5")]
    revision = ERA_1_REVISION if database.era == 1 else ERA_2_REVISION
    assert _scalars(connection, "select version_num from alembic_version") == [revision]


# --- the published data -------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_the_published_query_gives_back_each_export(
    database: Database, connection: psycopg.Connection, size: int
) -> None:
    got = _copy_csv(connection, _published_query(database.era, size))
    assert got == _published_rows(size)


def test_other_job_types_and_new_jobs_are_what_the_restriction_removes(
    database: Database, connection: psycopg.Connection
) -> None:
    extras = database.extras
    extra_rows: Counter[tuple[str, ...]] = Counter()
    for size in SIZES:
        unrestricted = _copy_csv(connection, _published_query(database.era, size, False))
        extra_rows += unrestricted - _published_rows(size)
    other_jobs = (*extras.transfer_job_ids, *extras.streaming_job_ids)
    expected = Counter(
        (str(scan), str(extras.slurm_ids[job]), "")
        for job in other_jobs
        for scan in extras.linked_scans[job]
    )
    expected[(str(extras.pending_scan_id), "", "")] += 1
    # the elapsed differs per job: compare the rows without it
    assert Counter((*row[:2], "") for row in extra_rows.elements()) == expected


def test_each_export_row_is_one_finished_count_job(
    database: Database, connection: psycopg.Connection
) -> None:
    rows = [row for size in SIZES for row in _published_rows(size).elements()]
    published_jobs = connection.execute(
        """
        select count(*), count(*) filter (where slurm_id is null),
               count(*) filter (where elapsed is null), count(distinct state),
               count(distinct machine)
        from jobs where job_type = 'count' and id <> all(%s)
        """,
        [list(database.extras.job_ids)],
    ).fetchone()
    assert published_jobs == (
        len(rows),
        sum(slurm_id == "" for _, slurm_id, _ in rows),
        sum(elapsed == "" for _, _, elapsed in rows),
        1,
        1,
    )
    assert _scalars(connection, "select count(*) from scans") == [
        len({scan_id for scan_id, _, _ in rows}) + len(database.extras.scan_ids)
    ]
    job_types = _scalars(connection, "select distinct job_type from jobs order by 1")
    assert job_types == (["count", "transfer"] if database.era == 1 else
                         ["count", "streaming", "transfer"])  # fmt: skip


def test_sizes_are_json_numbers_under_the_keys_of_their_dates(
    connection: psycopg.Connection,
) -> None:
    spellings = dict(
        connection.execute(
            """
            select case when metadata ? 'Dimensions.1' then 'dotted'
                        when metadata ? 'Dimensions 1' then 'spaced' end, count(*)
            from scans where metadata is not null
            group by 1
            """
        ).fetchall()
    )
    assert spellings["dotted"] > 1000 and spellings["spaced"] > 1000
    assert _scalars(
        connection,
        """
        select distinct jsonb_typeof(value) from scans, jsonb_each(metadata)
        where key like 'Dimensions%%'
        """,
    ) == ["number"]
    misdated = _scalars(
        connection,
        """
        select count(*) from scans
        where (metadata ? 'Dimensions.1' and created >= '2023-03-07')
           or (metadata ? 'Dimensions 1' and created < '2023-07-10')
           or (metadata is not null and not metadata ? 'Dimensions.1'
               and not metadata ? 'Dimensions 1'
               and not created between '2023-03-07' and '2023-07-10')
        """,
    )
    assert misdated == [0]


def test_elapsed_prints_as_iso_8601_under_that_intervalstyle(
    database: Database, connection: psycopg.Connection
) -> None:
    connection.execute("set intervalstyle = iso_8601")
    got = _copy_csv(connection, _published_query(database.era, 1024))
    expected = Counter(
        (scan, slurm, _iso_8601(elapsed) if elapsed else "")
        for scan, slurm, elapsed in _published_rows(1024).elements()
    )
    assert got == expected
    assert ("1928", "58246420", "PT4M35S") in got


# --- the rows that must not count ---------------------------------------------------------------


def test_the_trap_slurm_jobs_pass_every_filter_but_no_export_names_them(
    database: Database,
) -> None:
    by_id = {job.job_id: job for job in sacct_jobs()}
    named = {row.slurm_id for row in published_exports()}
    slurm_ids = set(database.extras.slurm_ids.values())
    assert len(slurm_ids) == len(database.extras.slurm_ids) == 8
    for slurm_id in slurm_ids:
        assert passes_count_filters(by_id[slurm_id]) and slurm_id not in named


def test_the_extra_scans_and_jobs_are_what_extras_says(
    database: Database, connection: psycopg.Connection
) -> None:
    extras = database.extras
    published = {row.scan_id for row in published_exports()}
    assert not published & set(extras.scan_ids)
    metadata = dict(
        connection.execute(
            "select id, metadata from scans where id = any(%s)", [list(extras.scan_ids)]
        ).fetchall()
    )
    assert metadata[extras.small_scan_id] == {"Dimensions 1": 64, "Dimensions 2": 64}
    assert metadata[extras.no_metadata_scan_id] is None
    assert not any(key.startswith("Dimensions") for key in metadata[extras.no_dimensions_scan_id])
    types = dict(connection.execute("select id, job_type from jobs").fetchall())
    assert {types[job] for job in extras.transfer_job_ids} == {"transfer"}
    assert {types[job] for job in extras.streaming_job_ids} <= {"streaming"}
    assert bool(extras.streaming_job_ids) == (database.era == 2)
    pending = connection.execute(
        "select slurm_id, elapsed, state::text from jobs where id = %s", [extras.pending_job_id]
    ).fetchone()
    assert pending == (None, None, "INITIALIZING")


# --- what Distiller does later ------------------------------------------------------------------


@pytest.mark.parametrize("era", ERAS, ids=lambda era: f"era{era}")
def test_a_pending_job_is_finished_and_linked_later(
    postgres_server: PostgresServer, era: int
) -> None:
    dsn = create_distiller_database(postgres_server, f"distiller_helpers_era_{era}", era)
    extras = fill_published(dsn, era)
    scan, other_scan = 1928, 1930  # two published 1024 x 1024 scans
    job = add_pending_count_job(dsn, era, scan)
    assert job > max(extras.job_ids)
    with pytest.raises(ValueError, match="no published size"):
        add_pending_count_job(dsn, era, extras.no_metadata_scan_id)
    finish_job(dsn, job, 70000001, "00:03:21")
    link_scan_to_job(dsn, era, other_scan, job)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select slurm_id, elapsed::text, state::text, job_type from jobs where id = %s", [job]
        ).fetchone()
        assert row == (70000001, "00:03:21", "COMPLETED", "count")
        if era == 1:
            assert _scalars(conn, "select scan_id from jobs where id = %s", job) == [other_scan]
        else:
            links = _scalars(
                conn, "select scan_id from scan_job_table where job_id = %s order by 1", job
            )
            assert links == [scan, other_scan]
            assert _scalars(conn, "select submit is not null from jobs where id = %s", job) == [
                True
            ]


def test_the_exports_are_what_the_fixture_assumes() -> None:
    rows = published_exports()
    per_scan = Counter(row.scan_id for row in rows)
    # no scan is in two files (one size each), no Slurm job in two rows (a job serves one
    # published scan), and a scan often has several jobs (one row per job, NULL slurm_ids too)
    assert len({(row.scan_id, row.width) for row in rows}) == len(per_scan)
    slurm_ids = [row.slurm_id for row in rows if row.slurm_id is not None]
    assert len(slurm_ids) == len(set(slurm_ids))
    assert max(per_scan.values()) > 1
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", row.elapsed or "00:00:00") for row in rows)
