"""The pull from Distiller's PostgreSQL database (`distiller_db`, format `postgres`) at `scale`
times the published volume: what `turnaround load distiller_db` costs against a database of
~510,000 (scan, job) pairs (x100).

`bench_distiller(root, scale)`:

1. starts a throwaway PostgreSQL server (tests/distiller_db.py: its folder under the system's
   temporary folder, stopped and removed in a `finally`), creates an era-2 Distiller database
   and fills it with the rows behind the published exports (plus the rows that must not count),
   then copies every scan, job and `scan_job_table` link `scale - 1` times in SQL (ids offset
   by copy, the metadata, hence the scan sizes, kept), and VACUUM ANALYZEs it;
2. writes `root/turnaround.toml` with one input, `distiller_db` of format `postgres`
   (`dsn_env = "BENCH_DISTILLER_DSN"`, the read-only role's DSN, set in the child's
   environment), and a warehouse in `root`;
3. times the whole `turnaround load --config X distiller_db` process (bench/timing.py's `timed`:
   wall time, peak RSS) three times: the first pull (every pair new), a pull with nothing
   changed (the snapshot's hash is the ledger's: nothing written), and a pull after Distiller
   finished one pending job (slurm_id and elapsed set: the whole snapshot replaces the last);
   after each, `raw.distiller_pulls` must name every pair and `raw.distiller_db` hold them all
   (else the bench stops, naming what differs).

    .venv/bin/python bench/distiller.py [--scale 100] [--work DIR] [--keep]

Needs PostgreSQL 15's server programs (`make bench` installs Debian's `postgresql`) and the
published data (read in place, never copied).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.timing import Timed, reported_seconds, timed  # noqa: E402
from tests.distiller_db import (  # noqa: E402
    PostgresServer,
    create_distiller_database,
    fill_published,
    start_server,
    stop_server,
)

DSN_ENV = "BENCH_DISTILLER_DSN"
DATABASE = "distiller_bench"
DEFAULT_SCALE = 100

# Copies 1 .. scale-1 of every row, in one transaction: ids offset by the copy number n times the
# largest id (unique, and each copy's links point at its own scans and jobs); `scans.sha` and
# `image_path` made from the new id as tests/distiller_db.py makes them (sha256 of "scan <id>"),
# `uuid` an md5 of it (unique as the ids are); metadata (the scan sizes), job types, states,
# Slurm ids and elapsed copied as they are.
MULTIPLY = (
    """
    insert into scans (
        id, scan_id, created, image_path, notes, metadata, microscope_id, sha, progress, uuid
    )
    select
        s.id + n * %(scans)s,
        s.scan_id + n * %(scans)s,
        s.created,
        '/static/image/' || (s.id + n * %(scans)s) || '.png',
        s.notes,
        s.metadata,
        s.microscope_id,
        encode(sha256(convert_to('scan ' || (s.id + n * %(scans)s), 'UTF8')), 'hex'),
        s.progress,
        md5('turnaround-bench-scan-' || (s.id + n * %(scans)s))::uuid::text
    from scans as s cross join generate_series(1, %(copies)s) as n
    """,
    """
    insert into jobs (
        id, job_type, slurm_id, state, params, output, elapsed, machine, submit, notes
    )
    select
        j.id + n * %(jobs)s,
        j.job_type, j.slurm_id, j.state, j.params, j.output, j.elapsed, j.machine, j.submit,
        j.notes
    from jobs as j cross join generate_series(1, %(copies)s) as n
    """,
    """
    insert into scan_job_table (scan_id, job_id)
    select l.scan_id + n * %(scans)s, l.job_id + n * %(jobs)s
    from scan_job_table as l cross join generate_series(1, %(copies)s) as n
    """,
    "select setval(pg_get_serial_sequence('scans', 'id'), (select max(id) from scans))",
    "select setval(pg_get_serial_sequence('jobs', 'id'), (select max(id) from jobs))",
)

# Distiller's job worker finishing the newest pending count job (slurm_id and elapsed NULL)
FINISH_ONE_JOB = """
update jobs
set slurm_id = (select max(slurm_id) + 1 from jobs), elapsed = interval '00:01:23.5',
    state = 'COMPLETED'
where id = (select max(id) from jobs where slurm_id is null and job_type = 'count')
returning id, slurm_id
"""


@dataclass(frozen=True)
class PullRun:
    """One timed `turnaround load distiller_db` and what the warehouse holds after it."""

    name: str
    run: Timed
    pairs: int  # raw.distiller_pulls.pairs of this pull: the pairs it read
    changed: bool  # raw.distiller_pulls.changed: whether it wrote the snapshot
    rows: int  # rows in raw.distiller_db after it
    reported: float | None  # seconds the load reports for the source (no start-up, no commit)

    @property
    def pairs_per_second(self) -> float:
        return self.pairs / self.run.wall if self.run.wall > 0 else 0.0


@dataclass
class DistillerResult:
    """The Distiller pull at one scale."""

    scale: int
    published_pairs: int  # (scan, job) pairs after fill_published: the published rows + extras
    pairs: int  # scale x published_pairs: what every pull must read
    setup_seconds: float  # server start, schema, published rows
    multiply_seconds: float  # the copies in SQL and VACUUM ANALYZE
    seconds: float = 0.0  # the whole bench_distiller, setup and teardown included
    pulls: list[PullRun] = field(default_factory=list)


def _count(conn: psycopg.Connection[tuple[object, ...]], table: str) -> int:
    (value,) = conn.execute(f"select count(*) from {table}").fetchone() or (0,)
    return int(value)


def _multiply(dsn: str, scale: int) -> tuple[int, int]:
    """Copy every scan, job and link `scale - 1` times; returns the pairs before and after."""
    with psycopg.connect(dsn) as conn:
        before = _count(conn, "scan_job_table")
        jobs_before = _count(conn, "jobs")
        scans_before = _count(conn, "scans")
        row = conn.execute("select max(id) from scans").fetchone()
        max_scan = int(row[0]) if row and row[0] is not None else 0
        row = conn.execute("select max(id) from jobs").fetchone()
        max_job = int(row[0]) if row and row[0] is not None else 0
        if scale > 1:
            offsets = {"scans": max_scan, "jobs": max_job, "copies": scale - 1}
            for statement in MULTIPLY:
                conn.execute(statement, offsets)
        after = _count(conn, "scan_job_table")
        for table, was in (("scans", scans_before), ("jobs", jobs_before)):
            now = _count(conn, table)
            if now != was * scale:
                raise SystemExit(f"bench: {table} holds {now:,} rows, not {scale} x {was:,}")
    # what autovacuum would have done on Distiller's server, done now so that it does not run
    # during a timed pull: statistics for the planner, hint bits and the visibility map set
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("vacuum (analyze)")
    if after != before * scale:
        raise SystemExit(f"bench: scan_job_table holds {after:,} links, not {scale} x {before:,}")
    return before, after


def _write_config(root: Path) -> Path:
    """A config with only the Distiller database (its DSN from the environment)."""
    config = root / "turnaround.toml"
    config.write_text(
        f'warehouse = "{root / "warehouse.duckdb"}"\ntimezone = "America/Los_Angeles"\n\n'
        f'[[inputs]]\nsource = "distiller_db"\nformat = "postgres"\ndsn_env = "{DSN_ENV}"\n',
        encoding="utf-8",
    )
    return config


def _after_pull(warehouse: Path, name: str, run: Timed, expected: int) -> PullRun:
    """What the newest pull recorded and what raw.distiller_db holds; stops the bench unless
    the pull read every pair and the table holds them all."""
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        pulled = con.execute(
            "select pairs, rows, changed from raw.distiller_pulls order by load_id desc limit 1"
        ).fetchone()
        (rows,) = con.execute("select count(*) from raw.distiller_db").fetchone() or (0,)
    if pulled is None:
        raise SystemExit(f"bench: {name}: raw.distiller_pulls has no row (log: {run.log})")
    pairs, parsed_rows, changed = pulled
    written = expected if changed else 0  # an unchanged snapshot writes nothing
    if pairs != expected or parsed_rows != written or rows != expected:
        raise SystemExit(
            f"bench: {name}: expected {expected:,} pairs; raw.distiller_pulls says {pairs:,} "
            f"read, {parsed_rows:,} rows, raw.distiller_db holds {rows:,} (log: {run.log})"
        )
    try:
        reported: float | None = reported_seconds(run.log, "distiller_db")
    except SystemExit:  # the load's summary line changed: the wall time still stands
        reported = None
    return PullRun(name, run, int(pairs), bool(changed), int(rows), reported)


def _check_last_load(warehouse: Path, job_id: int, slurm_id: int, expected: int) -> None:
    """After the pull that followed the update: every row is the new pull's, and the finished
    job's row has its Slurm id."""
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        (newest,) = con.execute("select max(load_id) from raw.distiller_pulls").fetchone() or (0,)
        (fresh,) = con.execute(
            "select count(*) from raw.distiller_db where _load_id = ?", [newest]
        ).fetchone() or (0,)
        seen = con.execute(
            "select slurm_id from raw.distiller_db where job_id = ?", [str(job_id)]
        ).fetchall()
    if fresh != expected:
        raise SystemExit(
            f"bench: the pull after the update wrote {fresh:,} rows, not the {expected:,} pairs"
        )
    if seen != [(str(slurm_id),)]:
        raise SystemExit(f"bench: job {job_id} should have slurm_id {slurm_id}; raw has {seen}")


def _start(folder: Path) -> PostgresServer:
    """The server, or the bench stopped with why it did not start."""
    try:
        return start_server(folder)
    except pytest.fail.Exception as exc:
        raise SystemExit(f"bench: {exc}") from None


def bench_distiller(root: Path, scale: int = DEFAULT_SCALE) -> DistillerResult:
    """Time `turnaround load distiller_db` against a Distiller database of `scale` times the
    published volume (config, warehouse and logs under `root`); see the module's docstring."""
    begin = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    logs, warehouse = root / "logs", root / "warehouse.duckdb"
    config = _write_config(root)
    # the server's own folder: the `postgres` user must reach it, and root's temporary folders
    # (0700) are not reachable; tests/distiller_db.py hands this one over when we are root
    server_root = Path(tempfile.mkdtemp(prefix="turnaround-bench-pg-"))
    saved = os.environ.get(DSN_ENV)
    try:
        print(f"distiller x{scale}: start PostgreSQL, published rows", flush=True)
        started = time.perf_counter()
        server = _start(server_root)
        dsn = create_distiller_database(server, DATABASE, era=2)
        fill_published(dsn, era=2)
        setup = time.perf_counter() - started
        print(f"distiller x{scale}: copy the rows x{scale}", flush=True)
        started = time.perf_counter()
        published, pairs = _multiply(dsn, scale)
        result = DistillerResult(scale, published, pairs, setup, time.perf_counter() - started)
        os.environ[DSN_ENV] = server.reader_dsn(DATABASE)
        args = ("load", "--config", str(config), "distiller_db")

        print(f"distiller x{scale}: first pull of {pairs:,} pairs", flush=True)
        run = timed(logs / "pull-first.log", *args)
        result.pulls.append(_after_pull(warehouse, "first pull (every pair new)", run, pairs))

        print(f"distiller x{scale}: pull, nothing changed", flush=True)
        run = timed(logs / "pull-unchanged.log", *args)
        result.pulls.append(_after_pull(warehouse, "nothing changed (nothing written)", run, pairs))

        with psycopg.connect(dsn) as conn:
            finished = conn.execute(FINISH_ONE_JOB).fetchone()
        if finished is None:
            raise SystemExit("bench: the Distiller database has no pending count job to finish")
        job_id, slurm_id = int(finished[0]), int(finished[1])
        print(f"distiller x{scale}: pull after job {job_id} finished", flush=True)
        run = timed(logs / "pull-one-job.log", *args)
        result.pulls.append(
            _after_pull(warehouse, "one job finished (snapshot replaced)", run, pairs)
        )
        _check_last_load(warehouse, job_id, slurm_id, pairs)

        changed = [pull.changed for pull in result.pulls]
        if changed != [True, False, True]:
            raise SystemExit(f"bench: raw.distiller_pulls.changed is {changed}, not new/same/new")
    finally:
        if saved is None:
            os.environ.pop(DSN_ENV, None)
        else:
            os.environ[DSN_ENV] = saved
        stop_server(server_root)
        shutil.rmtree(server_root, ignore_errors=True)
    result.seconds = time.perf_counter() - begin
    return result


def summary(result: DistillerResult) -> str:
    """The numbers as lines of text."""
    lines = [
        f"Distiller pull x{result.scale}: {result.pairs:,} pairs "
        f"({result.published_pairs:,} after fill_published x {result.scale}); "
        f"setup {result.setup_seconds:.1f} s, copies + VACUUM ANALYZE "
        f"{result.multiply_seconds:.1f} s, whole bench {result.seconds:.1f} s",
    ]
    for pull in result.pulls:
        lines.append(
            f"  {pull.name:<40} {pull.run.wall:7.2f} s  {pull.pairs_per_second:>10,.0f} pairs/s"
            f"  {pull.run.rss_mib:7,.0f} MiB  rows {pull.rows:,}"
            + ("" if pull.reported is None else f"  (the load reports {pull.reported:.2f} s)")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=int, default=DEFAULT_SCALE, help="times the published volume (100)"
    )
    parser.add_argument("--work", type=Path, default=None, help="folder for the warehouse")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse and logs")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale: 1 or more")
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="turnaround-bench-distiller-", dir=args.work))
    try:
        result = bench_distiller(root, args.scale)
    finally:
        if args.keep:
            print(f"bench: kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(summary(result))


if __name__ == "__main__":
    main()
