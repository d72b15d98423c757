"""Distiller's PostgreSQL database, read directly: scans, jobs and their link table.

Read-only, with psycopg 3, and incremental: each pull reads only the (scan, job) pairs whose
job id is above the highest one pulled before (`raw.distiller_pulls`). The rows go into
`raw.distiller_db` exactly as the CSV exports would give them (`id,slurm_id,elapsed` and the
scan size), so the marts are the same whichever way the rows came.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from loaders import values
from loaders.errors import LoadError
from loaders.sources.common import Parsed

QUERY = """
select
    scans.id::text as id,
    jobs.slurm_id::text as slurm_id,
    coalesce(jobs.elapsed::text, '') as elapsed,
    coalesce(scans.metadata->>'Dimensions.1', scans.metadata->>'Dimensions 1') as width,
    coalesce(scans.metadata->>'Dimensions.2', scans.metadata->>'Dimensions 2') as height,
    jobs.id as job_id
from scans
inner join scan_job_table on scan_job_table.scan_id = scans.id
inner join jobs on jobs.id = scan_job_table.job_id
where jobs.id > %(after)s
order by jobs.id, scans.id
"""


@dataclass
class DistillerPull:
    """Rows of one pull (record number = Distiller job id), its rejects, the highest job id."""

    parsed: Parsed
    max_job_id: int


def redacted(dsn: str) -> str:
    """A DSN without its password, to name the source in the warehouse."""
    dsn = re.sub(r"(://[^:/@]+):[^@]*@", r"\1@", dsn)
    return re.sub(r"password=\S+", "password=…", dsn)


def pull(dsn: str, after: int) -> DistillerPull:
    """Read the (scan, job) pairs with a job id above `after`, in a read-only transaction."""
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.read_only = True
            with conn.cursor() as cursor:
                cursor.execute(QUERY, {"after": after})
                fetched = cursor.fetchall()
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoadError(
            redacted(dsn), None, f"cannot read Distiller's database: {message}"
        ) from None
    parsed = Parsed()
    highest = after
    for scan_id, slurm_id, elapsed, width, height, job_id in fetched:
        highest = max(highest, job_id)
        shown = (
            f"scan {scan_id}, job {job_id}: slurm_id={slurm_id} elapsed={elapsed} {width}x{height}"
        )
        if parsed.accept(
            job_id,
            shown,
            values.integer_error(slurm_id or "", "slurm_id", optional=True),
            values.interval_error(elapsed),
            values.integer_error(width or "", "scan width (metadata Dimensions.1)"),
            values.integer_error(height or "", "scan height (metadata Dimensions.2)"),
        ):
            parsed.rows.append((job_id, scan_id, slurm_id or "", elapsed, width, height))
    return DistillerPull(parsed=parsed, max_job_id=highest)
