"""The pull from Distiller's PostgreSQL database, against its real schema in both eras
(tests/distiller_db.py builds them from ../shared/reference/distiller-schema.md): the published
rows plus rows that must not count give the marts the CSV exports give; each pull sees every
(scan, job) pair as it is now; a locked table, a bad DSN or a read-only session end in one
sentence."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import duckdb
import psycopg
import pytest

from loaders.errors import LoadError
from loaders.pulls import distiller
from tests.conftest import INPUTS, PUBLISHED_CONFIG, TURNAROUND, Built, refresh, turnaround
from tests.distiller_db import (
    READER_PASSWORD,
    Extras,
    PostgresServer,
    add_pending_count_job,
    create_distiller_database,
    fill_published,
    finish_job,
    link_scan_to_job,
    unnamed_passing_jobs,
)

pytest_plugins = ("tests.distiller_db",)
pytestmark = pytest.mark.postgres

CSV_INPUT = (
    '[[inputs]]\nsource = "distiller_db"\nformat = "csv"\n'
    f'paths = ["{INPUTS.as_posix()}/distiller_db/*.csv"]\n'
)


def postgres_config(folder: Path, variable: str, extra: str = "") -> Path:
    """The published config with its Distiller CSV input replaced by the database whose DSN
    the environment variable `variable` holds."""
    text = PUBLISHED_CONFIG.format(inputs=INPUTS.as_posix())
    assert CSV_INPUT in text
    text = text.replace(
        CSV_INPUT,
        f'[[inputs]]\nsource = "distiller_db"\nformat = "postgres"\ndsn_env = "{variable}"\n'
        + extra,
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "turnaround.toml").write_text(text, encoding="utf-8")
    return folder / "turnaround.toml"


def with_dsn(variable: str, dsn: str) -> None:
    os.environ[variable] = dsn


def query(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        return con.execute(sql).fetchall()


def new_database(
    server: PostgresServer, name: str, era: int, intervalstyle: str | None = None
) -> tuple[str, Extras]:
    """A Distiller database of `era` holding the published rows and the extras; its sessions
    use `intervalstyle` when given."""
    dsn = create_distiller_database(server, name, era)
    extras = fill_published(dsn, era)
    if intervalstyle:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"alter database {name} set intervalstyle = '{intervalstyle}'")
    return dsn, extras


# (era, intervalstyle of the server's sessions)
SETUPS = {"era1": (1, None), "era2-iso8601": (2, "iso_8601")}


@pytest.fixture(scope="module", params=sorted(SETUPS))
def from_database(
    request: pytest.FixtureRequest,
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Built, Extras, int]]:
    era, style = SETUPS[request.param]
    dsn, extras = new_database(
        postgres_server, f"distiller_{request.param.replace('-', '_')}", era, style
    )
    variable = f"DISTILLER_DSN_{request.param.upper().replace('-', '_')}"
    with_dsn(variable, dsn)
    try:
        yield refresh(postgres_config(tmp_path_factory.mktemp("pgwh"), variable)), extras, era
    finally:
        os.environ.pop(variable, None)


MART_QUERIES = {
    "fct_count_jobs": "select * exclude (distiller_elapsed_s), round(distiller_elapsed_s, 6)"
    " from marts.fct_count_jobs order by job_id, scan_id",
    "transfer_comparison": "select * from marts.transfer_comparison order by scan_size",
    "time_to_data_stats": "select * from marts.time_to_data_stats order by all",
    "queue_time_stats": "select * from marts.queue_time_stats order by all",
    "queue_time_daily": "select * from marts.queue_time_daily order by all",
}


@pytest.mark.parametrize("mart", MART_QUERIES)
def test_the_database_gives_the_same_marts_as_the_exports(
    from_database: tuple[Built, Extras, int], published: Built, mart: str
) -> None:
    built, _, _ = from_database
    assert built.exit_code == 0, built.output
    ours, theirs = built.query(MART_QUERIES[mart]), published.query(MART_QUERIES[mart])
    assert ours and len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        # sums may add in another order: equal to 1e-9, like the published figures
        for value, expected in zip(mine, reference, strict=True):
            if isinstance(expected, float):
                assert value == pytest.approx(expected, abs=1e-9)
            else:
                assert value == expected


def test_a_valid_database_loads_without_a_reject(from_database: tuple[Built, Extras, int]) -> None:
    built, _, era = from_database
    assert built.query("select count(*) from raw.rejected_records") == [(0,)]
    assert built.query("select count(*) from marts.fct_count_jobs") == [(2268,)]
    assert built.query("select schema_era, changed from raw.distiller_pulls") == [(era, True)]


def test_only_count_jobs_of_the_analysed_sizes_count(
    from_database: tuple[Built, Extras, int],
) -> None:
    built, extras, _ = from_database
    others = extras.transfer_job_ids + extras.streaming_job_ids
    raw_types = dict(
        built.query("select job_type, count(*) from raw.distiller_db group by job_type")
    )
    # the other job types are pulled, and stay out of staging
    assert raw_types.get("transfer", 0) + raw_types.get("streaming", 0) >= len(others) > 0
    staged = built.query(
        "select distiller_job_id, job_type, scan_size from staging.stg_distiller__scan_jobs"
    )
    assert {job_type for _, job_type, _ in staged} == {"count"}
    assert not {job for job, _, _ in staged} & set(others)
    sizes = {job: size for job, _, size in staged}
    # scans without a size are real rows, with a NULL size
    assert sizes[extras.no_metadata_job_id] is None
    assert sizes[extras.no_dimensions_job_id] is None
    assert sizes[extras.small_job_id] == 64
    # ... and their jobs, which pass every sacct filter, count nowhere
    counted = {job for (job,) in built.query("select job_id from marts.fct_count_jobs")}
    for job in (extras.small_job_id, extras.no_metadata_job_id, extras.no_dimensions_job_id):
        assert str(extras.slurm_ids[job]) in {
            job_id
            for (job_id,) in built.query("select job_id from staging.int_count_jobs_filtered")
        }
        assert extras.slurm_ids[job] not in counted


def test_the_interval_style_does_not_change_what_is_read(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    rows = []
    for style in ("postgres", "iso_8601", "sql_standard", "postgres_verbose"):
        dsn, _ = new_database(postgres_server, f"styles_{style}", 1, style)
        with_dsn("DISTILLER_DSN_STYLE", dsn)
        try:
            config = postgres_config(tmp_path / style, "DISTILLER_DSN_STYLE")
            done = turnaround("load", "--strict", "--config", str(config), "distiller_db")
        finally:
            os.environ.pop("DISTILLER_DSN_STYLE", None)
        assert done.returncode == 0, done.stderr
        rows.append(
            query(
                config.parent / "warehouse.duckdb",
                "select id, slurm_id, elapsed, scan_width, job_id from raw.distiller_db "
                "order by all",
            )
        )
    assert len(rows[0]) > 5000 and all(other == rows[0] for other in rows[1:])
    assert ("1928", "58246420", "00:04:35", "1024") in {row[:4] for row in rows[0]}


@pytest.fixture
def live(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[tuple[str, Extras, Path]]:
    """A second-era database of its own (the tests change it) and a config reading it."""
    dsn, extras = new_database(postgres_server, "distiller_live", 2)
    with_dsn("DISTILLER_DSN_LIVE", dsn)
    try:
        yield dsn, extras, postgres_config(tmp_path, "DISTILLER_DSN_LIVE")
    finally:
        os.environ.pop("DISTILLER_DSN_LIVE", None)


def test_a_job_pulled_before_its_slurm_id_counts_once_distiller_sets_it(
    live: tuple[str, Extras, Path],
) -> None:
    dsn, extras, config = live
    first = refresh(config)
    assert first.exit_code == 0, first.output
    counted = "select count(*) from marts.fct_count_jobs"
    assert first.query(counted) == [(2268,)]
    # a scan arrives; Distiller creates its count job with slurm_id and elapsed NULL
    scan = extras.pending_scan_id
    job = add_pending_count_job(dsn, 2, scan)
    second = refresh(config)
    assert second.exit_code == 0, second.output
    assert second.query(
        f"select slurm_id, elapsed from raw.distiller_db where job_id = '{job}'"
    ) == [("", "")]
    assert second.query(counted) == [(2268,)]
    # minutes later its worker sets slurm_id (a job sacct knows, passing every filter), then
    # state and elapsed; the next refresh sees the pair as it is now
    slurm = unnamed_passing_jobs(9)[-1]
    finish_job(dsn, job, slurm.job_id, "00:05:00")
    third = refresh(config)
    assert third.exit_code == 0, third.output
    assert "nothing new" not in third.output
    assert third.query(counted) == [(2269,)]
    assert third.query(
        f"select scan_id, distiller_elapsed_s from marts.fct_count_jobs "
        f"where job_id = {slurm.job_id}"
    ) == [(scan, 300.0)]
    # a scan linked to that (old) job later is seen too, and nothing is read twice
    link_scan_to_job(dsn, 2, extras.small_scan_id - 1, job)
    fourth = refresh(config)
    assert fourth.query(counted) == [(2270,)]
    assert fourth.query("select count(*) from raw.distiller_db") == fourth.query(
        "select pairs from raw.distiller_pulls order by load_id desc limit 1"
    )
    again = turnaround("load", "--config", str(config), "distiller_db")
    assert "0 new, 0 changed, 1 unchanged" in again.stdout, again.stdout
    pulls = fourth.query("select changed from raw.distiller_pulls order by load_id")
    assert pulls == [(True,)] * 4 + [(False,)]


def test_one_database_under_any_host_spelling(
    postgres_server: PostgresServer, live: tuple[str, Extras, Path]
) -> None:
    _, _, config = live
    first = turnaround("load", "--config", str(config), "distiller_db")
    assert first.returncode == 0, first.stderr
    for spelling in (
        postgres_server.socket_dsn("distiller_live"),
        f"postgresql://postgres@localhost:{postgres_server.port}/distiller_live",
    ):
        with_dsn("DISTILLER_DSN_LIVE", spelling)
        again = turnaround("load", "--config", str(config), "distiller_db")
        assert again.returncode == 0, again.stderr
        assert "0 new, 0 changed, 1 unchanged" in again.stdout, (spelling, again.stdout)
    warehouse = config.parent / "warehouse.duckdb"
    (name,) = query(warehouse, "select distinct _source_file from raw.distiller_db")[0]
    assert name.startswith("postgres:") and name.endswith("/distiller_live")


def test_a_locked_table_ends_the_pull_not_the_load(
    live: tuple[str, Extras, Path], tmp_path: Path
) -> None:
    dsn, _, _ = live
    config = postgres_config(tmp_path / "locked", "DISTILLER_DSN_LIVE", "timeout_s = 1\n")
    with psycopg.connect(dsn) as holder:
        holder.execute("lock table jobs in access exclusive mode")
        started = time.monotonic()
        done = subprocess.run(
            [TURNAROUND, "load", "--config", str(config), "distiller_db"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        took = time.monotonic() - started
        strict = turnaround("load", "--strict", "--config", str(config), "distiller_db")
        holder.rollback()
    assert took < 30, took
    assert done.returncode == 0, done.stderr
    assert "did not answer within N s" in done.stdout  # the reject, counted by kind
    assert strict.returncode == 2
    assert strict.stderr.count("\n") == 1 and "Traceback" not in strict.stderr
    assert "did not answer within 1 s (a table locked by another session?)" in strict.stderr


def test_a_failed_pull_leaves_no_reject_once_a_pull_succeeds(
    live: tuple[str, Extras, Path], tmp_path: Path
) -> None:
    # a pull's failure is the verdict of one attempt, as an unreadable file's is
    dsn, _, _ = live
    config = postgres_config(tmp_path / "retried", "DISTILLER_DSN_LIVE", "timeout_s = 1\n")
    warehouse = config.parent / "warehouse.duckdb"
    with psycopg.connect(dsn) as holder:
        holder.execute("lock table jobs in access exclusive mode")
        failed = turnaround("load", "--config", str(config), "distiller_db")
        holder.rollback()
    assert failed.returncode == 0, failed.stderr
    rejects = "select count(*) from raw.rejected_records where source = 'distiller_db'"
    assert query(warehouse, rejects) == [(1,)]
    done = turnaround("load", "--config", str(config), "distiller_db")
    assert done.returncode == 0, done.stderr
    assert query(warehouse, rejects) == [(0,)]
    assert query(warehouse, "select count(*) > 0 from raw.distiller_db") == [(True,)]
    # the ledger keeps the failed attempt as history
    failures = (
        "select count(*) from raw.loads where source = 'distiller_db' and status = 'unreadable'"
    )
    assert query(warehouse, failures) == [(1,)]


def test_the_password_never_reaches_the_warehouse(
    postgres_server: PostgresServer, live: tuple[str, Extras, Path]
) -> None:
    _, _, config = live
    with_dsn("DISTILLER_DSN_LIVE", postgres_server.reader_dsn("distiller_live"))
    built = refresh(config)
    assert built.exit_code == 0, built.output
    assert READER_PASSWORD in postgres_server.reader_dsn("distiller_live")
    assert READER_PASSWORD not in built.output
    texts = built.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'"
    )
    for schema, table, column in texts:
        found = built.query(
            f'select count(*) from "{schema}"."{table}" '
            f"where contains(\"{column}\", '{READER_PASSWORD}')"
        )
        assert found == [(0,)], (schema, table, column)


def test_pulls_before_snapshots_are_replaced_by_the_first(live: tuple[str, Extras, Path]) -> None:
    dsn, _, config = live
    first = turnaround("load", "--config", str(config), "distiller_db")
    assert first.returncode == 0, first.stderr
    warehouse = config.parent / "warehouse.duckdb"
    with closing(duckdb.connect(str(warehouse))) as con:
        # what the incremental pull of an earlier version left: rows named by the DSN
        con.execute(
            "insert into raw.distiller_db (id, slurm_id, elapsed, scan_width, scan_height, "
            "_source_file, _record_number, _load_id, _loaded_at) "
            "select id, slurm_id, elapsed, scan_width, scan_height, ?, 1, 0, now() "
            "from raw.distiller_db",
            [distiller.legacy_name(dsn) + "#jobs>0"],
        )
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("update jobs set elapsed = elapsed + interval '1 second' where id = 1")
    again = turnaround("load", "--config", str(config), "distiller_db")
    assert again.returncode == 0, again.stderr
    assert query(warehouse, "select count(distinct _source_file) from raw.distiller_db") == [(1,)]


def test_the_session_is_read_only(
    live: tuple[str, Extras, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn, _, _ = live
    monkeypatch.setattr(
        distiller,
        "PAIRS_QUERY",
        "insert into jobs (job_type, machine) values ('x', 'y') returning 1, 2, 3, 4, 5, 6, 7"
        " -- {links}",
    )
    with pytest.raises(LoadError, match="read-only transaction"):
        distiller.pull(dsn)


def test_not_a_distiller_database_is_one_message(postgres_server: PostgresServer) -> None:
    with pytest.raises(LoadError, match="not a Distiller database"):
        distiller.pull(postgres_server.admin_dsn)


def test_an_unreachable_database_is_one_message(tmp_path: Path) -> None:
    os.environ["DISTILLER_DSN"] = f"postgresql://u:secret@/none?host={tmp_path}&port=1"
    try:
        done = turnaround(
            "load", "--strict", "--config", str(postgres_config(tmp_path, "DISTILLER_DSN"))
        )
    finally:
        os.environ.pop("DISTILLER_DSN", None)
    assert done.returncode == 2
    assert "cannot read the Distiller database" in done.stderr and "secret" not in done.stderr


@pytest.mark.parametrize(
    ("seconds", "text"),
    [("275.000000", "00:04:35"), ("0", "00:00:00"), ("93784.5", "26:03:04.5"), (None, "")],
)
def test_elapsed_seconds_read_as_psql_prints_an_interval(seconds: str | None, text: str) -> None:
    assert distiller.interval_text(seconds) == (text, None)
    assert distiller.interval_text("-1")[1] == "elapsed -1 s is negative"


@pytest.mark.parametrize(
    ("json_text", "size"), [("256", "256"), ("256.0", "256"), ('"128"', "128"), ("null", None)]
)
def test_sizes_are_json_numbers(json_text: str, size: str | None) -> None:
    assert distiller.size_text(json_text, "width") == (size, None)
    assert distiller.size_text("12.5", "width")[1] == "width 12.5 is not a positive whole number"
