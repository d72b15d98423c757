"""Distiller's PostgreSQL database, read directly: scans, jobs and the links between them.

Read-only, with psycopg 3. Each pull reads every (scan, job) pair, a snapshot: Distiller
creates a job with `slurm_id` and `elapsed` NULL and fills them in minutes later, and links
scans to old jobs, so a pair read once may change. The snapshot is one input of the ledger,
named by the database's identity (never its DSN, which may hold a password); when its hash
differs from the last pull's it replaces that pull's rows, else nothing is written. A
Distiller database holds thousands of jobs a year: a snapshot of 500k pairs (100 times the
published volume) is read in about ten seconds (`bench/RESULTS.md`). The server hashes the
pairs first, so a pull of an unchanged database reads one row.

Both eras of Distiller's schema are read (`../shared/reference/distiller-schema.md`): until
2023-06-21 a job names its scan in `jobs.scan_id`, since then `scan_job_table` links them.
`elapsed` is read as seconds (`extract(epoch ...)`), whatever the server's `intervalstyle`.
The rows go into `raw.distiller_db` as the CSV exports would give them (`id,slurm_id,elapsed`
and the scan size) plus the Distiller job's id and type, so the marts are the same whichever
way the rows came.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from loaders.errors import LoadError
from loaders.sources.common import Parsed

ERA_QUERY = """
select
    to_regclass('scan_job_table') is not null as has_link_table,
    exists (
        select 1 from information_schema.columns
        where table_schema = any (current_schemas(false))
            and table_name = 'jobs' and column_name = 'scan_id'
    ) as has_job_scan_id,
    to_regclass('scans') is not null and to_regclass('jobs') is not null as has_tables
"""

#: the (scan, job) pairs of each era: era 1 links in jobs.scan_id, era 2 in scan_job_table
LINKS = {
    1: "select jobs.scan_id as scan_id, jobs.id as job_id from jobs where jobs.scan_id is not null",
    2: "select scan_job_table.scan_id, scan_job_table.job_id from scan_job_table",
}

PAIRS_QUERY = """
select
    scans.id,
    jobs.id,
    jobs.job_type,
    jobs.slurm_id::text,
    extract(epoch from jobs.elapsed)::text,
    coalesce(scans.metadata -> 'Dimensions.1', scans.metadata -> 'Dimensions 1')::text,
    coalesce(scans.metadata -> 'Dimensions.2', scans.metadata -> 'Dimensions 2')::text
from ({links}) as links
inner join scans on scans.id = links.scan_id
inner join jobs on jobs.id = links.job_id
order by scans.id, jobs.id
"""

#: the pairs' count and a hash of them, computed by the server: an unchanged database is told
#: without sending its rows (`row(...)::text` tells NULL from empty text)
DIGEST_QUERY = """
select
    count(*),
    md5(coalesce(string_agg(row(
        scans.id, jobs.id, jobs.job_type, jobs.slurm_id, extract(epoch from jobs.elapsed),
        scans.metadata -> 'Dimensions.1', scans.metadata -> 'Dimensions 1',
        scans.metadata -> 'Dimensions.2', scans.metadata -> 'Dimensions 2'
    )::text, chr(10) order by scans.id, jobs.id), ''))
from ({links}) as links
inner join scans on scans.id = links.scan_id
inner join jobs on jobs.id = links.job_id
"""
#: changes when what a pull writes for the same pairs changes: the next pull reads them again
DIGEST_VERSION = "snapshot-1"


@dataclass(frozen=True)
class DistillerPull:
    """One snapshot: the database's name in the warehouse, the schema era, the pairs' count and
    hash, and its rows (record number = Distiller job id) and rejects, None when the hash is
    the one the last pull had (nothing read)."""

    database: str
    era: int
    digest: str
    pairs: int
    parsed: Parsed | None


def legacy_name(dsn: str) -> str:
    """How pulls before snapshots named a database (the DSN, a password removed): their rows
    are replaced by the first snapshot of the same database."""
    dsn = re.sub(r"(://[^:/@]+):[^@]*@", r"\1@", dsn)
    return re.sub(r"password=\S+", "password=…", dsn)


def interval_text(seconds: str | None) -> tuple[str, str | None]:
    """`extract(epoch from elapsed)` as psql prints an interval (`H:MM:SS[.ffffff]`, hours
    past 24 kept), and an error for a negative or unreadable value."""
    if seconds is None:
        return "", None
    try:
        total = Decimal(seconds)
    except InvalidOperation:
        return "", f"elapsed {seconds!r} is not a number of seconds"
    if total < 0:
        return "", f"elapsed {seconds} s is negative"
    whole = int(total)
    fraction = total - whole
    hours, rest = divmod(whole, 3600)
    text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if fraction:
        text += format(fraction.normalize(), "f").removeprefix("0")
    return text, None


def size_text(value: str | None, what: str) -> tuple[str | None, str | None]:
    """A scan dimension from metadata (JSON text: `256`, `256.0`, `"256"`) as an integer's
    text; None for a scan without one (NULL metadata, no Dimensions key, JSON null)."""
    if value is None or value == "null":
        return None, None
    text = value.strip('"').strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, f"{what} {value} is not a number"
    if number != number.to_integral_value() or number < 1:
        return None, f"{what} {value} is not a positive whole number"
    return str(int(number)), None


def _era(cursor: psycopg.Cursor[tuple[object, ...]]) -> list[int]:
    """The eras whose links the database holds (both, in the middle of the migration)."""
    cursor.execute(ERA_QUERY)
    has_link_table, has_job_scan_id, has_tables = cursor.fetchone() or (False, False, False)
    eras = [era for era, present in ((1, has_job_scan_id), (2, has_link_table)) if present]
    if not has_tables or not eras:
        raise psycopg.errors.UndefinedTable(
            "not a Distiller database: it lacks scans and jobs linked by jobs.scan_id or "
            "scan_job_table"
        )
    return eras


def _database_name(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    """The database as the warehouse names it, never with a password: the server's system
    identifier and the database's name (`localhost`, `127.0.0.1`, a socket or a new DNS name
    all reach one database), or where the server does not tell its identifier to this role,
    the host, port and name libpq resolved."""
    try:
        with conn.transaction():  # a savepoint: a refusal leaves the snapshot's transaction
            row = conn.execute("select system_identifier::text from pg_control_system()")
            (system,) = row.fetchone() or (None,)
    except psycopg.errors.InsufficientPrivilege:
        system = None
    if system:
        return f"postgres:{system}/{conn.info.dbname}"
    host = conn.info.host
    if host.startswith("/"):
        host = "localhost"  # a Unix socket is this machine's server
    return f"postgresql://{host}:{conn.info.port}/{conn.info.dbname}"


def configured_name(dsn: str) -> str:
    """The database a DSN names, as libpq parses it (host, port, name; never a password),
    for messages before a connection tells the server's own values."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "the Distiller database (a DSN libpq cannot parse)"
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    if host.startswith("/"):
        host = "localhost"
    name = params.get("dbname") or params.get("user") or ""
    return scrubbed(f"postgresql://{host}:{params.get('port') or 5432}/{name}", dsn)


_URI_USERINFO = re.compile(r"^[a-z]+://([^/?#]*)@", re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"\bpassword\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"[?&]password=([^&#]*)", re.IGNORECASE)


def secrets_of(dsn: str) -> list[str]:
    """Every spelling of the password a DSN may hold, longest first: as libpq parses it, and
    as written in a URI's user info (`user:pa@ss@host` means `pa@ss` to its writer, `pa` to
    libpq, and libpq then quotes `ss@host`: each part counts), a `password=` keyword in any
    case and quoting, or a `?password=` parameter; each also percent-decoded."""
    found: set[str] = set()
    try:
        parsed = conninfo_to_dict(dsn).get("password")
        if parsed:
            found.add(str(parsed))
    except psycopg.Error:
        pass
    userinfo = _URI_USERINFO.match(dsn)
    if userinfo and ":" in userinfo.group(1):
        written = userinfo.group(1).split(":", 1)[1]
        found.update([written, *written.split("@")])
    for match in _KEYWORD_PASSWORD.finditer(dsn):
        value = match.group(1)
        found.add(value)
        if value.startswith("'"):
            found.add(re.sub(r"\\(.)", r"\1", value.strip("'")))
    found.update(match.group(1) for match in _QUERY_PASSWORD.finditer(dsn))
    found.update([unquote(value) for value in found])
    return sorted((value for value in found if value), key=len, reverse=True)


def scrubbed(text: str, dsn: str) -> str:
    """`text` with every spelling of the DSN's password replaced by `…`."""
    for secret in secrets_of(dsn):
        text = text.replace(secret, "…")
    return text


def _cannot_read(exc: psycopg.Error, dsn: str, timeout_s: float) -> LoadError:
    """One sentence for a failed pull, the DSN's password never in it."""
    if isinstance(exc, psycopg.errors.QueryCanceled):
        message = (
            f"the Distiller database did not answer within {timeout_s:g} s (a table locked by "
            "another session?); try again later, or raise timeout_s of this input"
        )
    else:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        if isinstance(exc, psycopg.ProgrammingError) and "://" not in first:
            first = f"libpq cannot parse the DSN ({first.split(': ', 1)[0]})"
        message = f"cannot read the Distiller database: {first}"
    return LoadError(configured_name(dsn), None, scrubbed(message, dsn))


def pull(
    dsn: str, timeout_s: float = 60.0, last_digest: Callable[[str], str | None] | None = None
) -> DistillerPull:
    """Read every (scan, job) pair in one read-only, repeatable-read transaction, unless the
    server's hash of them is `last_digest(database name)`; no statement may run longer than
    `timeout_s` (a locked table ends the pull, not the load's patience)."""
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.execute(
                "select set_config('statement_timeout', %s, false)",
                [f"{max(1, int(timeout_s * 1000))}ms"],
            )
            with conn.transaction():
                database = _database_name(conn)
                with conn.cursor() as cursor:
                    eras = _era(cursor)
                    links = " union ".join(LINKS[era] for era in eras)
                    cursor.execute(DIGEST_QUERY.format(links=links))
                    pairs, server_hash = cursor.fetchone() or (0, "")
                    digest = f"{DIGEST_VERSION}:{pairs}:{server_hash}"
                    if last_digest is not None and last_digest(database) == digest:
                        return DistillerPull(database, max(eras), digest, pairs, None)
                    cursor.execute(PAIRS_QUERY.format(links=links))
                    fetched = cursor.fetchall()
    except psycopg.Error as exc:
        raise _cannot_read(exc, dsn, timeout_s) from None
    return DistillerPull(database, max(eras), digest, pairs, _parse_pairs(fetched))


#: a row of PAIRS_QUERY: scan id, job id, job type, slurm_id, elapsed seconds, width, height
#: (the query casts the last four to text)
PairRow = tuple[object, int, object, str | None, str | None, str | None, str | None]


def _parse_pairs(fetched: list[PairRow]) -> Parsed:
    """Rows `(job id, scan id, slurm_id, elapsed, width, height, job id, job type)` in the raw
    table's order; a pair with an unreadable value is rejected."""
    parsed = Parsed()
    for scan_id, job_id, job_type, slurm_id, seconds, width, height in fetched:
        elapsed, elapsed_error = interval_text(seconds)
        width_text, width_error = size_text(width, "scan width (metadata Dimensions.1)")
        height_text, height_error = size_text(height, "scan height (metadata Dimensions.2)")
        shown = (
            f"scan {scan_id}, job {job_id} ({job_type}): slurm_id={slurm_id} "
            f"elapsed={seconds} s size={width}x{height}"
        )
        if parsed.accept(job_id, shown, elapsed_error, width_error, height_error):
            parsed.rows.append(
                (
                    job_id,
                    str(scan_id),
                    slurm_id or "",
                    elapsed,
                    width_text,
                    height_text,
                    str(job_id),
                    job_type,
                )
            )
    return parsed
