"""Distiller's real PostgreSQL database, for tests: a throwaway PostgreSQL 15 server, the schema
of either era (shared/reference/distiller-schema.md is the authority), the rows behind the
published exports, and rows that must not count.

Era 1 is alembic revision `6463a9e6e760` (until 2023-06-21: `jobs.scan_id` names a job's scan);
era 2 is the head `25fd8b97ab81` (`scan_job_table` links scans and jobs, `jobs.submit`,
`jobs.notes`). Era 2 is built as Distiller built it: era 1, then the three migrations.

Use: `postgres_server` (a session fixture; make it visible with
`pytest_plugins = ("tests.distiller_db",)`), `create_distiller_database(server, name, era)`,
`fill_published(dsn, era)`, and for "update after a pull" tests `add_pending_count_job`,
`finish_job`, `link_scan_to_job`.

PYTEST_DONT_REWRITE: a test module may import this one before naming it in `pytest_plugins`
(it holds no test assertions to rewrite).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import glob
import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from tests.conftest import published_inputs

# --- the server ---------------------------------------------------------------------------------

READER = "reader"
READER_PASSWORD = "s3cr3t-Pa55"
SUPERUSER = "postgres"
ADMIN_DATABASE = "postgres"
LOOPBACK = "127.0.0.1"
PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/local/bin"))
INITDB_OPTIONS = ["--no-locale", "--auth=trust", "--nosync"]
START_ATTEMPTS = 3  # a free port can be taken between asking for it and binding it

PG_HBA = f"""\
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       all                      trust
host    all       {READER}    {LOOPBACK}/32   scram-sha-256
host    all       all       {LOOPBACK}/32   trust
"""

SERVER_SETTINGS = (
    f"listen_addresses={LOOPBACK}",
    "timezone=UTC",
    # a test server: durability buys nothing here
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
)


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: its folder, port (127.0.0.1 only) and Unix socket folder."""

    root: Path
    port: int
    sockets: Path

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.root / "log.txt"

    @property
    def admin_dsn(self) -> str:
        """The superuser's DSN over 127.0.0.1 to the `postgres` database."""
        return self.dsn(ADMIN_DATABASE)

    def dsn(self, database: str) -> str:
        """The superuser's DSN over 127.0.0.1 (trusted, no password) to `database`."""
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{quote(database)}"

    def reader_dsn(self, database: str) -> str:
        """The DSN of the login role `reader` (SELECT only), password included, to `database`."""
        return (
            f"postgresql://{READER}:{quote(READER_PASSWORD, safe='')}"
            f"@{LOOPBACK}:{self.port}/{quote(database)}"
        )

    def socket_dsn(self, database: str) -> str:
        """The superuser's DSN over the server's own Unix socket folder to `database`."""
        return f"postgresql://{SUPERUSER}@/{quote(database)}?host={self.sockets}&port={self.port}"


def pg_binary(name: str) -> str:
    """The path of PostgreSQL's program `name` (Debian's 15 first); fails the test if missing."""
    for folder in PG_BIN_DIRS:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        pytest.fail(f"PostgreSQL's {name} is missing: `make test` installs the server package")
    return found


def _as_server_user(command: list[str]) -> list[str]:
    """The command, run as the `postgres` user when we are root (initdb and postgres refuse
    root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _give_to_server_user(path: Path) -> None:
    """Hand `path` to the `postgres` user when we are root; nothing otherwise."""
    if os.geteuid() == 0:
        shutil.chown(path, "postgres")


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _log_tail(log: Path, lines: int = 30) -> str:
    """The last lines of the server's log, or a note that there is none."""
    if not log.is_file():
        return "(no server log)"
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _initdb(data: Path) -> None:
    """Create the cluster in `data` (UTF8, no locale) with our pg_hba.conf; fails the test with
    initdb's output when it cannot."""
    command = [pg_binary("initdb"), "-D", str(data), "-U", SUPERUSER, "-E", "UTF8", *INITDB_OPTIONS]
    done = subprocess.run(
        _as_server_user(command),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"initdb failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    hba = data / "pg_hba.conf"
    hba.write_text(PG_HBA, encoding="utf-8")
    _give_to_server_user(hba)


def _pg_ctl_start(root: Path, port: int) -> str | None:
    """Start the server on `port`; returns None once it accepts connections, otherwise what
    pg_ctl said."""
    settings = " ".join(f"-c {setting}" for setting in SERVER_SETTINGS)
    options = f"-p {port} -k {root / 'sockets'} {settings}"
    command = [pg_binary("pg_ctl"), "-D", str(root / "data"), "-o", options, "-w", "-t", "60"]
    done = subprocess.run(
        _as_server_user([*command, "-l", str(root / "log.txt"), "start"]),
        capture_output=True,
        text=True,
        check=False,
    )
    return None if done.returncode == 0 else f"{done.stdout}{done.stderr}".strip()


def _port_was_taken(log: Path) -> bool:
    """Whether the last start failed only because another process took the port."""
    tail = _log_tail(log, 10)
    return "could not bind" in tail or "already in use" in tail


def start_server(root: Path) -> PostgresServer:
    """initdb and start a server in `root` on a free port of 127.0.0.1, with the `reader` role;
    returns it, or fails the test with the log's tail."""
    sockets = root / "sockets"
    sockets.mkdir()
    _give_to_server_user(root)
    _give_to_server_user(sockets)
    _initdb(root / "data")
    for _ in range(START_ATTEMPTS):
        server = PostgresServer(root=root, port=_free_port(), sockets=sockets)
        failure = _pg_ctl_start(root, server.port)
        if failure is None:
            _create_reader(server)
            return server
        if not _port_was_taken(server.log):
            break
    pytest.fail(
        f"PostgreSQL did not start: {failure}\nThe end of its log:\n{_log_tail(server.log)}"
    )


def stop_server(root: Path) -> None:
    """Stop the server of `root` at once (`-m immediate`); quiet when it is not running."""
    if (root / "data" / "postmaster.pid").exists():
        stop = [pg_binary("pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"]
        subprocess.run(
            _as_server_user(stop),
            capture_output=True,
            check=False,
        )


def _create_reader(server: PostgresServer) -> None:
    """The login role `reader` with its password (stored as SCRAM, PostgreSQL 15's default)."""
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login password {}").format(
                sql.Identifier(READER), sql.Literal(READER_PASSWORD)
            )
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server for the session, in a temporary folder outside pytest's tree (the
    server's user must reach it), stopped and removed at the end whatever happened."""
    root = Path(tempfile.mkdtemp(prefix="turnaround-pg-"))
    try:
        yield start_server(root)
    finally:
        stop_server(root)
        shutil.rmtree(root, ignore_errors=True)


# --- the schema ---------------------------------------------------------------------------------

ERA_1_REVISION = "6463a9e6e760"
ERA_2_REVISION = "25fd8b97ab81"
REVISIONS = {1: ERA_1_REVISION, 2: ERA_2_REVISION}

# Slurm's job states, in the order of Distiller's migration 29dcedf5d323
JOB_STATES = (
    "INITIALIZING", "BOOT_FAIL", "CANCELLED", "COMPLETED", "CONFIGURING", "COMPLETING",
    "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "PENDING", "PREEMPTED", "RUNNING",
    "RESV_DEL_HOLD", "REQUEUE_FED", "REQUEUE_HOLD", "REQUEUED", "RESIZING", "REVOKED",
    "SIGNALING", "SPECIAL_EXIT", "STAGE_OUT", "STOPPED", "SUSPENDED", "TIMEOUT",
)  # fmt: skip

# The database at revision 6463a9e6e760, as Distiller's migrations leave it: columns in their
# order of creation (the dropped `scans.log_files` gone), alembic's index and constraint names.
# No column has a server default but the serials: the application sets the rest.
ERA_1_SCHEMA = f"""
create type job_state_enum as enum ({", ".join(f"'{state}'" for state in JOB_STATES)});

create table alembic_version (
    version_num varchar(32) not null,
    constraint alembic_version_pkc primary key (version_num)
);
insert into alembic_version (version_num) values ('{ERA_1_REVISION}');

create table microscopes (
    id serial primary key,
    name varchar not null,
    config jsonb not null,
    state jsonb
);
create index ix_microscopes_id on microscopes (id);
create unique index ix_microscopes_name on microscopes (name);
-- inserted with explicit ids by the migration, as Distiller did (its sequence is left at 1)
insert into microscopes (id, name, config) values
    (1, '4D Camera', '{{"actions": ["transfer", "count", "delete"]}}'),
    (2, 'TEAM 0.5', '{{"actions": []}}');

-- The reference names `users` without its columns: these are Distiller's (migration
-- 67555aa84376), a login table the warehouse never reads.
create table users (
    username varchar primary key,
    full_name varchar,
    hashed_password varchar
);
create index ix_users_username on users (username);

create table scans (
    id serial primary key,
    scan_id integer,
    created timestamp with time zone not null,
    image_path varchar,
    notes varchar,
    metadata jsonb,
    microscope_id integer not null references microscopes (id),  -- no cascade (3c37b4ed72b3)
    sha varchar(64),
    progress integer not null,
    uuid varchar(36)
);
create index ix_scans_id on scans (id);
create index ix_scans_scan_id on scans (scan_id);
create index ix_scans_created on scans (created);
create index ix_scans_image_path on scans (image_path);
create index ix_scans_microscope_id on scans (microscope_id);
create unique index ix_scans_sha on scans (sha);
create unique index ix_scans_uuid on scans (uuid);

-- The reference names `locations` without its columns: these are Distiller's (migrations
-- 6d371a5e1414, b83d0b97ad54, fe34a060f1ba): where a scan's files are, per host.
create table locations (
    id serial primary key,
    host varchar,
    path varchar,
    scan_id integer references scans (id) on delete cascade,
    constraint scan_id_host_path unique (scan_id, host, path)
);
create index ix_locations_id on locations (id);

create table jobs (
    id serial primary key,
    job_type varchar,
    slurm_id integer,
    state job_state_enum,
    params json,
    scan_id integer,
    output varchar,
    elapsed interval,
    machine varchar not null,
    constraint jobs_scan_id_fkey foreign key (scan_id) references scans (id) on delete cascade
);
create index ix_jobs_id on jobs (id);
create index ix_jobs_slurm_id on jobs (slurm_id);
"""

# Era 1 -> era 2: Distiller's migrations f60522abb082, f9e1c250365b and 25fd8b97ab81
ERA_2_MIGRATIONS = f"""
create table scan_job_table (
    scan_id integer not null references scans (id) on delete cascade,
    job_id integer not null references jobs (id) on delete cascade,
    primary key (scan_id, job_id)
);
insert into scan_job_table (scan_id, job_id) select scan_id, id from jobs where scan_id is not null;
alter table jobs drop constraint jobs_scan_id_fkey;
alter table jobs drop column scan_id;

alter table jobs add column submit timestamp with time zone;
create index ix_jobs_submit on jobs (submit);

alter table jobs add column notes varchar;

update alembic_version set version_num = '{ERA_2_REVISION}';
"""

GRANT_READER = f"""
grant select on all tables in schema public to {READER};
alter default privileges in schema public grant select on tables to {READER};
"""


def _check_era(era: int) -> None:
    """Raise ValueError unless `era` is 1 or 2."""
    if era not in REVISIONS:
        raise ValueError(f"Distiller's schema has eras 1 and 2, not {era!r}")


def create_distiller_database(server: PostgresServer, name: str, era: int) -> str:
    """Create database `name` (dropping one of that name first) holding Distiller's empty schema
    of `era`, readable by `reader`; returns the superuser's DSN over 127.0.0.1 to it (the
    reader's is `server.reader_dsn(name)`)."""
    _check_era(era)
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
        database = sql.Identifier(name)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(database))
        conn.execute(sql.SQL("create database {}").format(database))
    dsn = server.dsn(name)
    with psycopg.connect(dsn) as conn:
        conn.execute(ERA_1_SCHEMA)
        if era == 2:
            conn.execute(ERA_2_MIGRATIONS)
        conn.execute(GRANT_READER)
    return dsn


def migrate_to_era_2(dsn: str) -> None:
    """Upgrade an era-1 database to the head as Distiller's migrations did (each job's scan link
    copied into `scan_job_table`); returns nothing."""
    with psycopg.connect(dsn) as conn:
        if database_era(conn) != 1:
            raise ValueError("the database is not at era 1's revision")
        conn.execute(ERA_2_MIGRATIONS)


def database_era(conn: psycopg.Connection) -> int:
    """The era of the database behind `conn`, read from `alembic_version`."""
    row = conn.execute("select version_num from alembic_version").fetchone()
    eras = {revision: era for era, revision in REVISIONS.items()}
    if row is None or row[0] not in eras:
        raise ValueError(f"unknown alembic revision {row!r}")
    return eras[row[0]]


# --- the published data -------------------------------------------------------------------------

SIZES = (128, 256, 512, 1024)
PLAUSIBLE_SIZES = frozenset(SIZES)
JOB_NAME = re.compile(r"distiller-count-(\d+)$")
# metadata's size keys, by the scan's creation date (the reference's "values the application
# writes"): dotted until 2023-03-07, none until 2023-07-10, spaced since
DOTTED = ("Dimensions.1", "Dimensions.2")
SPACED = ("Dimensions 1", "Dimensions 2")
ERA_2_FROM = dt.datetime(2023, 6, 21, tzinfo=dt.UTC)
# the published scans' creation dates spread over these two spans: half of them each
DOTTED_SPAN = (dt.datetime(2022, 8, 20, tzinfo=dt.UTC), dt.datetime(2023, 3, 6, tzinfo=dt.UTC))
SPACED_SPAN = (dt.datetime(2023, 7, 11, tzinfo=dt.UTC), dt.datetime(2023, 10, 20, tzinfo=dt.UTC))
# the receivers' scan number runs this far behind the Distiller id (2709 <-> 2209 in the notes)
SCAN_NUMBER_OFFSET = -500
MACHINE = "perlmutter"
COUNT_PARAMS = '{"threshold": 4.0}'
SUBMIT_AFTER_CREATED = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class ExportRow:
    """One row of a published export: a (Distiller scan, job) pair and the scan's size."""

    scan_id: int
    slurm_id: int | None
    elapsed: str | None
    width: int
    height: int


@dataclass(frozen=True)
class SacctJob:
    """The fields of one `slurm_job_info.csv` record that the count filters read."""

    job_id: int
    name: str
    start: str
    req_nodes: str
    qos: str
    exit_code: str
    elapsed: str


@dataclass(frozen=True)
class Scan:
    """A `scans` row to insert."""

    id: int
    created: dt.datetime
    metadata: dict[str, object] | None


@dataclass(frozen=True)
class Job:
    """A `jobs` row to insert and the scans it is linked to."""

    id: int
    job_type: str
    scan_ids: tuple[int, ...]
    slurm_id: int | None
    elapsed: str | None
    state: str = "COMPLETED"
    submit: dt.datetime | None = None
    params: str = COUNT_PARAMS


@dataclass(frozen=True)
class Extras:
    """The rows `fill_published` adds that must not count, by id.

    `transfer_job_ids`, `streaming_job_ids` (empty in era 1): jobs of those types linked to
    published scans (`linked_scans`), with Slurm ids of jobs that pass every count filter.
    `small_*`: a 64 x 64 scan and its count job; `no_metadata_*`: a scan with NULL metadata and
    its count job; `no_dimensions_*`: a scan whose metadata has no Dimensions key and its count
    job (all three jobs with such Slurm ids too). `pending_*`: a new 1024 x 1024 scan and its
    count job whose `slurm_id` and `elapsed` are still NULL. `slurm_ids`: job id -> Slurm id.
    """

    transfer_job_ids: tuple[int, ...]
    streaming_job_ids: tuple[int, ...]
    small_scan_id: int
    small_job_id: int
    no_metadata_scan_id: int
    no_metadata_job_id: int
    no_dimensions_scan_id: int
    no_dimensions_job_id: int
    pending_scan_id: int
    pending_job_id: int
    slurm_ids: dict[int, int]
    linked_scans: dict[int, tuple[int, ...]]

    @property
    def scan_ids(self) -> tuple[int, ...]:
        """The ids of the scans added beside the published ones."""
        return (
            self.small_scan_id,
            self.no_metadata_scan_id,
            self.no_dimensions_scan_id,
            self.pending_scan_id,
        )

    @property
    def job_ids(self) -> tuple[int, ...]:
        """The ids of every job added beside the published ones."""
        return (
            *self.transfer_job_ids,
            *self.streaming_job_ids,
            self.small_job_id,
            self.no_metadata_job_id,
            self.no_dimensions_job_id,
            self.pending_job_id,
        )


def _optional_int(text: str) -> int | None:
    """The integer in `text`, None when it is empty."""
    return int(text) if text else None


@functools.cache
def published_exports() -> tuple[ExportRow, ...]:
    """Every row of the published exports `<W>_<H>.csv`, in the files' order (smallest size
    first)."""
    folder = published_inputs() / "distiller_db"
    rows: list[ExportRow] = []
    for size in SIZES:
        with (folder / f"{size}_{size}.csv").open(newline="", encoding="utf-8") as handle:
            rows.extend(
                ExportRow(
                    scan_id=int(record["id"]),
                    slurm_id=_optional_int(record["slurm_id"]),
                    elapsed=record["elapsed"] or None,
                    width=size,
                    height=size,
                )
                for record in csv.DictReader(handle)
            )
    return tuple(rows)


@functools.cache
def sacct_jobs() -> tuple[SacctJob, ...]:
    """Every record of the published `slurm/slurm_job_info.csv`, in its order."""
    path = published_inputs() / "slurm" / "slurm_job_info.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(
            SacctJob(
                job_id=int(record["Job ID"]),
                name=record["Job Name"],
                start=record["Start"],
                req_nodes=record["ReqNodes"],
                qos=record["QOS"],
                exit_code=record["ExitCode"],
                elapsed=record["Elapsed"],
            )
            for record in csv.DictReader(handle)
        )


def passes_count_filters(job: SacctJob) -> bool:
    """Whether the published analysis keeps `job` as a counting job (extract_job_info.py)."""
    return (
        "distiller-count" in job.name
        and job.start not in ("Unknown", "None")
        and job.req_nodes == "4"
        and "realtime_" in job.qos
        and job.exit_code == "0:0"
    )


def unnamed_passing_jobs(count: int) -> list[SacctJob]:
    """The first `count` Slurm jobs (by job id) that pass every count filter but that no export
    row names: only the Distiller side can tell them from the counted ones."""
    named = {row.slurm_id for row in published_exports()}
    passing = [job for job in sacct_jobs() if passes_count_filters(job) and job.job_id not in named]
    chosen = sorted(passing, key=lambda job: job.job_id)[:count]
    if len(chosen) < count:
        raise ValueError(f"only {len(chosen)} passing Slurm jobs are unnamed; {count} needed")
    return chosen


def _size_metadata(keys: tuple[str, str], width: int, height: int) -> dict[str, object]:
    """Scan metadata holding its size as JSON numbers under `keys`."""
    return {keys[0]: width, keys[1]: height}


def _spread(span: tuple[dt.datetime, dt.datetime], index: int, count: int) -> dt.datetime:
    """The `index`-th of `count` instants spread evenly over `span`, to the second."""
    start, end = span
    step = (end - start) / max(count - 1, 1)
    return (start + step * index).replace(microsecond=0)


def published_scans(rows: Sequence[ExportRow]) -> list[Scan]:
    """One scan per distinct export id, by id: the lower half created before 2023-03-07 with
    dotted size keys, the upper half after 2023-07-10 with spaced keys."""
    sizes = {row.scan_id: (row.width, row.height) for row in rows}
    ids = sorted(sizes)
    half = len(ids) // 2
    scans = []
    for index, scan_id in enumerate(ids):
        dotted = index < half
        span, keys = (DOTTED_SPAN, DOTTED) if dotted else (SPACED_SPAN, SPACED)
        position, count = (index, half) if dotted else (index - half, len(ids) - half)
        scans.append(
            Scan(scan_id, _spread(span, position, count), _size_metadata(keys, *sizes[scan_id]))
        )
    return scans


def _job_numbers() -> dict[int, int]:
    """Slurm job id -> the Distiller job id in its name (`distiller-count-<jobs.id>`)."""
    return {
        job.job_id: int(match.group(1))
        for job in sacct_jobs()
        if (match := JOB_NAME.search(job.name))
    }


def _published_job_ids(rows: Sequence[ExportRow]) -> list[int]:
    """A Distiller job id per export row: the one its Slurm job's name gives when sacct has it,
    otherwise the next id no sacct name uses, in scan order (as the serial would have)."""
    numbers = _job_numbers()
    reserved = set(numbers.values())
    free = (candidate for candidate in itertools.count(1) if candidate not in reserved)
    ids = [0] * len(rows)
    for index in sorted(range(len(rows)), key=lambda i: (rows[i].scan_id, i)):
        slurm_id = rows[index].slurm_id
        ids[index] = numbers[slurm_id] if slurm_id in numbers else next(free)
    if len(set(ids)) != len(ids):
        raise ValueError("two export rows were given one Distiller job id")
    return ids


def _submit(era: int, created: dt.datetime, slurm_id: int | None) -> dt.datetime | None:
    """`jobs.submit` of a finished job: era 2 only, and only for jobs after the migration that
    added the column (older rows kept NULL)."""
    if era == 1 or slurm_id is None or created < ERA_2_FROM:
        return None
    return created + SUBMIT_AFTER_CREATED


def published_jobs(rows: Sequence[ExportRow], scans: Sequence[Scan], era: int) -> list[Job]:
    """One finished count job per export row, linked to its scan."""
    created = {scan.id: scan.created for scan in scans}
    return [
        Job(
            id=job_id,
            job_type="count",
            scan_ids=(row.scan_id,),
            slurm_id=row.slurm_id,
            elapsed=row.elapsed,
            submit=_submit(era, created[row.scan_id], row.slurm_id),
        )
        for job_id, row in zip(_published_job_ids(rows), rows, strict=True)
    ]


# --- writing rows -------------------------------------------------------------------------------


def _sha(scan_id: int) -> str:
    """A unique 64-hex-digit `scans.sha` for the scan."""
    return hashlib.sha256(f"scan {scan_id}".encode()).hexdigest()


def _uuid(scan_id: int) -> str:
    """A unique `scans.uuid` for the scan."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"turnaround-test-scan-{scan_id}"))


def insert_scans(conn: psycopg.Connection, scans: Sequence[Scan]) -> None:
    """COPY the scans in (microscope 1, progress 100, unique sha and uuid); returns nothing."""
    columns = "id, scan_id, created, image_path, metadata, microscope_id, sha, progress, uuid"
    with conn.cursor().copy(f"copy scans ({columns}) from stdin") as copy:
        for scan in scans:
            copy.write_row(
                (
                    scan.id,
                    scan.id + SCAN_NUMBER_OFFSET,
                    scan.created,
                    f"/static/image/{scan.id}.png",
                    None if scan.metadata is None else json.dumps(scan.metadata),
                    1,
                    _sha(scan.id),
                    100,
                    _uuid(scan.id),
                )
            )


def _insert_jobs_era_1(conn: psycopg.Connection, jobs: Sequence[Job]) -> None:
    """COPY the jobs in, each naming its one scan in `jobs.scan_id`; returns nothing."""
    columns = "id, job_type, slurm_id, state, params, scan_id, elapsed, machine"
    with conn.cursor().copy(f"copy jobs ({columns}) from stdin") as copy:
        for job in jobs:
            if len(job.scan_ids) > 1:
                raise ValueError(f"era 1 links a job to one scan; job {job.id}: {job.scan_ids}")
            scan_id = job.scan_ids[0] if job.scan_ids else None
            copy.write_row(
                (
                    job.id,
                    job.job_type,
                    job.slurm_id,
                    job.state,
                    job.params,
                    scan_id,
                    job.elapsed,
                    MACHINE,
                )
            )


def _insert_jobs_era_2(conn: psycopg.Connection, jobs: Sequence[Job]) -> None:
    """COPY the jobs in, then their links into `scan_job_table`; returns nothing."""
    columns = "id, job_type, slurm_id, state, params, elapsed, machine, submit"
    with conn.cursor().copy(f"copy jobs ({columns}) from stdin") as copy:
        for job in jobs:
            copy.write_row(
                (
                    job.id,
                    job.job_type,
                    job.slurm_id,
                    job.state,
                    job.params,
                    job.elapsed,
                    MACHINE,
                    job.submit,
                )
            )
    with conn.cursor().copy("copy scan_job_table (scan_id, job_id) from stdin") as copy:
        for job in jobs:
            for scan_id in job.scan_ids:
                copy.write_row((scan_id, job.id))


def insert_jobs(conn: psycopg.Connection, era: int, jobs: Sequence[Job]) -> None:
    """COPY the jobs in with their scan links, the way `era` holds them; returns nothing."""
    if era == 1:
        _insert_jobs_era_1(conn, jobs)
    else:
        _insert_jobs_era_2(conn, jobs)


def _advance_sequences(conn: psycopg.Connection) -> None:
    """Set the serials of scans and jobs past the highest id, as if every row came through them;
    returns nothing."""
    for table in ("scans", "jobs"):
        conn.execute(
            sql.SQL("select setval(pg_get_serial_sequence({}, 'id'), max(id)) from {}").format(
                sql.Literal(table), sql.Identifier(table)
            )
        )


# --- rows that must not count -------------------------------------------------------------------

NON_COUNT_JOBS = 5  # era 2: three transfer and two streaming jobs; era 1: five transfer jobs
STREAMING_IN_ERA_2 = 2
TRAPPED_COUNT_JOBS = 3  # the 64 x 64, NULL-metadata and no-Dimensions scans' count jobs
# the extra scans' creation dates, each in the span where its metadata is what Distiller wrote
SMALL_CREATED = dt.datetime(2023, 10, 21, 9, 0, tzinfo=dt.UTC)
NO_METADATA_CREATED = dt.datetime(2023, 10, 22, 9, 0, tzinfo=dt.UTC)
NO_DIMENSIONS_CREATED = dt.datetime(2023, 5, 1, 9, 0, tzinfo=dt.UTC)
PENDING_CREATED = dt.datetime(2023, 10, 23, 9, 0, tzinfo=dt.UTC)


def _non_count_jobs(
    era: int, first_id: int, slurm: Sequence[SacctJob], scans: Sequence[Scan]
) -> list[Job]:
    """Transfer (and in era 2 streaming) jobs on published scans spread over the ids; a
    streaming job serves two scans, as one streaming session does."""
    jobs = []
    for index, sacct in enumerate(slurm):
        position = (index * len(scans)) // len(slurm)
        streaming = era == 2 and index >= len(slurm) - STREAMING_IN_ERA_2
        linked = scans[position : position + (2 if streaming else 1)]
        jobs.append(
            Job(
                id=first_id + index,
                job_type="streaming" if streaming else "transfer",
                scan_ids=tuple(scan.id for scan in linked),
                slurm_id=sacct.job_id,
                elapsed=sacct.elapsed,
                submit=_submit(era, linked[0].created, sacct.job_id),
                params="{}",
            )
        )
    return jobs


def _extra_scans(first_id: int) -> list[Scan]:
    """The 64 x 64 scan, the scan with NULL metadata, the one with no Dimensions key and a new
    1024 x 1024 scan, with ids from `first_id` on (above every published id)."""
    return [
        Scan(first_id, SMALL_CREATED, _size_metadata(SPACED, 64, 64)),
        Scan(first_id + 1, NO_METADATA_CREATED, None),
        Scan(first_id + 2, NO_DIMENSIONS_CREATED, {"Exposure": 1.0}),
        Scan(first_id + 3, PENDING_CREATED, _size_metadata(SPACED, 1024, 1024)),
    ]


def _extra_count_jobs(
    era: int, first_id: int, slurm: Sequence[SacctJob], scans: Sequence[Scan]
) -> list[Job]:
    """A finished count job (a passing Slurm id each) on each of the first three extra scans,
    and a just-created one (slurm_id, elapsed NULL) on the last."""
    finished = [
        Job(
            id=first_id + index,
            job_type="count",
            scan_ids=(scan.id,),
            slurm_id=sacct.job_id,
            elapsed=sacct.elapsed,
            submit=_submit(era, scan.created, sacct.job_id),
        )
        for index, (sacct, scan) in enumerate(zip(slurm, scans[:-1], strict=True))
    ]
    pending = Job(
        id=first_id + len(finished),
        job_type="count",
        scan_ids=(scans[-1].id,),
        slurm_id=None,
        elapsed=None,
        state="INITIALIZING",
    )
    return [*finished, pending]


def _add_extras(
    conn: psycopg.Connection, era: int, scans: Sequence[Scan], first_job_id: int
) -> Extras:
    """Insert the rows that must not count; returns their ids."""
    slurm = unnamed_passing_jobs(NON_COUNT_JOBS + TRAPPED_COUNT_JOBS)
    others = _non_count_jobs(era, first_job_id, slurm[:NON_COUNT_JOBS], scans)
    extra_scans = _extra_scans(max(scan.id for scan in scans) + 1)
    counts = _extra_count_jobs(era, first_job_id + len(others), slurm[NON_COUNT_JOBS:], extra_scans)
    insert_scans(conn, extra_scans)
    insert_jobs(conn, era, [*others, *counts])
    small, no_metadata, no_dimensions, pending = counts
    return Extras(
        transfer_job_ids=tuple(job.id for job in others if job.job_type == "transfer"),
        streaming_job_ids=tuple(job.id for job in others if job.job_type == "streaming"),
        small_scan_id=extra_scans[0].id,
        small_job_id=small.id,
        no_metadata_scan_id=extra_scans[1].id,
        no_metadata_job_id=no_metadata.id,
        no_dimensions_scan_id=extra_scans[2].id,
        no_dimensions_job_id=no_dimensions.id,
        pending_scan_id=extra_scans[3].id,
        pending_job_id=pending.id,
        slurm_ids={job.id: job.slurm_id for job in [*others, *counts] if job.slurm_id},
        linked_scans={job.id: job.scan_ids for job in others},
    )


def fill_published(dsn: str, era: int) -> Extras:
    """Fill an empty database of `era` with the rows behind the published exports (one scan per
    distinct export id, one count job per export row) plus rows that must not count; returns
    the latter's ids.

    Era 1 holds every scan (the spaced-key ones too, dated after era 1 ended) so that the
    published query can be run against either era."""
    _check_era(era)
    rows = published_exports()
    scans = published_scans(rows)
    jobs = published_jobs(rows, scans, era)
    first_extra_job = max(max(job.id for job in jobs), *_job_numbers().values()) + 1
    with psycopg.connect(dsn) as conn:
        if database_era(conn) != era:
            raise ValueError(f"{dsn} is not a database of era {era}")
        insert_scans(conn, scans)
        insert_jobs(conn, era, jobs)
        extras = _add_extras(conn, era, scans, first_extra_job)
        _advance_sequences(conn)
        # statistics, as autovacuum keeps them on Distiller's server: sane plans for the joins
        conn.execute("analyze")
    return extras


# --- what Distiller does later ------------------------------------------------------------------


def _has_size(conn: psycopg.Connection, scan_id: int) -> bool:
    """Whether the scan exists with a published size in its metadata (either spelling)."""
    row = conn.execute(
        """
        select coalesce(metadata->>'Dimensions.1', metadata->>'Dimensions 1')
        from scans where id = %s
        """,
        [scan_id],
    ).fetchone()
    return row is not None and row[0] is not None and int(row[0]) in PLAUSIBLE_SIZES


def link_scan_to_job(dsn: str, era: int, scan_id: int, job_id: int) -> None:
    """Link an existing scan to an existing job: era 2 adds a `scan_job_table` row (a job may
    serve several scans); era 1, where a job names one scan, points `jobs.scan_id` at it.
    Returns nothing."""
    _check_era(era)
    with psycopg.connect(dsn) as conn:
        if era == 1:
            conn.execute("update jobs set scan_id = %s where id = %s", [scan_id, job_id])
        else:
            conn.execute(
                "insert into scan_job_table (scan_id, job_id) values (%s, %s)", [scan_id, job_id]
            )


def add_pending_count_job(dsn: str, era: int, scan_id: int) -> int:
    """Create a count job as Distiller does when a scan arrives (slurm_id and elapsed NULL,
    state INITIALIZING) linked to `scan_id`, an existing scan of a published size; returns the
    new job's id (from the serial, so above every id before it)."""
    _check_era(era)
    with psycopg.connect(dsn) as conn:
        if not _has_size(conn, scan_id):
            raise ValueError(f"scan {scan_id} does not exist or has no published size")
        row = conn.execute(
            """
            insert into jobs (job_type, state, params, machine)
            values ('count', 'INITIALIZING', %s, %s) returning id
            """,
            [COUNT_PARAMS, MACHINE],
        ).fetchone()
    assert row is not None
    link_scan_to_job(dsn, era, scan_id, int(row[0]))
    return int(row[0])


def _has_submit(conn: psycopg.Connection) -> bool:
    """Whether `jobs` has the `submit` column (era 2)."""
    return (
        conn.execute(
            """
            select 1 from information_schema.columns
            where table_schema = 'public' and table_name = 'jobs' and column_name = 'submit'
            """
        ).fetchone()
        is not None
    )


def finish_job(
    dsn: str,
    job_id: int,
    slurm_id: int,
    elapsed: dt.timedelta | str,
    *,
    state: str = "COMPLETED",
    submit: dt.datetime | None = None,
) -> None:
    """What Distiller's job worker does to a job: one transaction sets `slurm_id` (on
    submission), a later one `state`, `elapsed` and, where the era has it, `submit` (default:
    now). Returns nothing."""
    with psycopg.connect(dsn) as conn:
        conn.execute("update jobs set slurm_id = %s where id = %s", [slurm_id, job_id])
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "update jobs set state = %s, elapsed = %s where id = %s", [state, elapsed, job_id]
        )
        if _has_submit(conn):
            conn.execute(
                "update jobs set submit = coalesce(%s, now()) where id = %s", [submit, job_id]
            )


__all__ = [
    "ERA_1_REVISION",
    "ERA_2_REVISION",
    "JOB_STATES",
    "READER",
    "READER_PASSWORD",
    "ExportRow",
    "Extras",
    "PostgresServer",
    "SacctJob",
    "add_pending_count_job",
    "create_distiller_database",
    "fill_published",
    "finish_job",
    "link_scan_to_job",
    "migrate_to_era_2",
    "passes_count_filters",
    "postgres_server",
    "published_exports",
    "sacct_jobs",
    "unnamed_passing_jobs",
]
