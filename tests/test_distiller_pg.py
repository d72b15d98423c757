"""Direct pull from Distiller's PostgreSQL database: a real server the tests start (initdb and
pg_ctl into a temporary folder, reached over a Unix socket only), filled with the rows of the
published CSV exports, must give the same marts as the exports."""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from loaders.errors import LoadError
from loaders.sources import distiller_pg
from tests.conftest import (
    INPUTS,
    PUBLISHED_CONFIG,
    Built,
    published_inputs,
    refresh,
    turnaround,
)

PORT = 55432


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        pytest.fail(f"PostgreSQL's {name} is missing: `make test` installs the server package")
    return found


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


SCHEMA = """
create table scans (id integer primary key, scan_id integer, uuid text,
                    created timestamptz default now(), metadata jsonb);
create table jobs (id serial primary key, job_type text, slurm_id bigint, elapsed interval,
                   submit timestamptz, machine text);
create table scan_job_table (scan_id integer references scans (id),
                             job_id integer references jobs (id));
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A running PostgreSQL with Distiller's tables, filled from the published exports. Its
    folder is outside pytest's (root-only) temporary tree, so the server's user can reach it."""
    published_inputs()
    root = Path(tempfile.mkdtemp(prefix="turnaround-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        _as_server_user(
            [_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {PORT} -k {sockets} -c listen_addresses=''"
    subprocess.run(
        _as_server_user(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-l",
                str(root / "log.txt"),
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    dsn = f"postgresql://postgres@/postgres?host={sockets}&port={PORT}"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SCHEMA)
            _fill_from_exports(conn)
        yield dsn
    finally:
        subprocess.run(
            _as_server_user([_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )


def _fill_from_exports(conn: psycopg.Connection) -> None:
    """The rows behind the exports: scans with their size in metadata (both key spellings), and
    a job linked to its scan for each export row that names one."""
    seen: set[int] = set()
    for path in sorted((INPUTS / "distiller_db").glob("*.csv")):
        width, height = path.stem.split("_")
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                scan = int(row["id"])
                if scan not in seen:
                    key = "Dimensions.{}" if scan % 2 else "Dimensions {}"
                    metadata = {key.format(1): width, key.format(2): height}
                    conn.execute(
                        "insert into scans (id, scan_id, metadata) values (%s, %s, %s)",
                        [scan, scan, json.dumps(metadata)],
                    )
                    seen.add(scan)
                if row["slurm_id"]:
                    (job,) = conn.execute(
                        "insert into jobs (job_type, slurm_id, elapsed, machine) values "
                        "('COUNT', %s, %s::interval, 'perlmutter') returning id",
                        [int(row["slurm_id"]), row["elapsed"] or None],
                    ).fetchone()
                    conn.execute("insert into scan_job_table values (%s, %s)", [scan, job])


def _postgres_config(folder: Path) -> Path:
    """The published config with its Distiller CSV input replaced by the database."""
    text = PUBLISHED_CONFIG.format(inputs=INPUTS.as_posix())
    csv_input = (
        '[[inputs]]\nsource = "distiller_db"\nformat = "csv"\n'
        f'paths = ["{INPUTS.as_posix()}/distiller_db/*.csv"]\n'
    )
    assert csv_input in text
    text = text.replace(
        csv_input,
        '[[inputs]]\nsource = "distiller_db"\nformat = "postgres"\ndsn_env = "DISTILLER_DSN"\n',
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "turnaround.toml").write_text(text, encoding="utf-8")
    return folder / "turnaround.toml"


@pytest.fixture(scope="module")
def from_database(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    os.environ["DISTILLER_DSN"] = server
    try:
        yield refresh(_postgres_config(tmp_path_factory.mktemp("pgwh")))
    finally:
        os.environ.pop("DISTILLER_DSN", None)


MART_QUERIES = {
    "fct_count_jobs": "select * exclude (distiller_elapsed_s), round(distiller_elapsed_s, 6)"
    " from marts.fct_count_jobs order by job_id, scan_id",
    "transfer_comparison": "select * from marts.transfer_comparison order by scan_size",
    "time_to_data_stats": "select * from marts.time_to_data_stats order by all",
}


@pytest.mark.parametrize("mart", MART_QUERIES)
def test_the_database_gives_the_same_marts_as_the_exports(
    from_database: Built, published: Built, mart: str
) -> None:
    assert from_database.exit_code == 0, from_database.output
    ours, theirs = from_database.query(MART_QUERIES[mart]), published.query(MART_QUERIES[mart])
    assert ours and len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        # sums may add in another order: equal to 1e-9, like the published figures
        for value, expected in zip(mine, reference, strict=True):
            if isinstance(expected, float):
                assert value == pytest.approx(expected, abs=1e-9)
            else:
                assert value == expected


def test_the_password_never_reaches_the_warehouse(from_database: Built) -> None:
    assert distiller_pg.redacted("postgresql://u:secret@host/db") == "postgresql://u@host/db"
    assert "secret" not in distiller_pg.redacted("host=h password=secret dbname=d")
    paths = from_database.query("select distinct _source_file from raw.distiller_db")
    assert len(paths) == 1 and paths[0][0].endswith("#jobs>0")


def test_pulls_are_incremental(server: str, tmp_path: Path) -> None:
    os.environ["DISTILLER_DSN"] = server
    try:
        config = _postgres_config(tmp_path)
        first = turnaround("load", "--config", str(config), "distiller_db")
        assert first.returncode == 0, first.stderr
        again = turnaround("load", "--config", str(config), "distiller_db")
        assert "0 new, 0 changed, 1 unchanged" in again.stdout
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                "insert into scans (id, scan_id, metadata) values (999001, 999001, %s)",
                [json.dumps({"Dimensions.1": "256", "Dimensions.2": "256"})],
            )
            for slurm_id in (77000001, 77000002):
                (job,) = conn.execute(
                    "insert into jobs (job_type, slurm_id, elapsed) values "
                    "('COUNT', %s, '00:01:30') returning id",
                    [slurm_id],
                ).fetchone()
                conn.execute("insert into scan_job_table values (999001, %s)", [job])
        newer = turnaround("load", "--config", str(config), "distiller_db")
        assert "1 new, 0 changed, 0 unchanged files; 2 rows" in newer.stdout
    finally:
        os.environ.pop("DISTILLER_DSN", None)
    import duckdb

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        pulls = con.execute(
            "select after_job_id > 0, rows from raw.distiller_pulls order by load_id"
        ).fetchall()
        assert pulls == [(False, 5061), (True, 2)]
        assert con.execute(
            "select id, slurm_id, elapsed, scan_width from raw.distiller_db where id = '999001'"
            " order by slurm_id"
        ).fetchall() == [
            ("999001", "77000001", "00:01:30", "256"),
            ("999001", "77000002", "00:01:30", "256"),
        ]
    finally:
        con.close()


def test_the_session_is_read_only(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        distiller_pg, "QUERY", "insert into jobs (job_type) values ('x') returning 1, 2, 3, 4, 5, 6"
    )
    with pytest.raises(LoadError, match="read-only transaction"):
        distiller_pg.pull(server, 0)


def test_an_unreachable_database_is_one_message(tmp_path: Path) -> None:
    os.environ["DISTILLER_DSN"] = f"postgresql://u:secret@/none?host={tmp_path}&port=1"
    try:
        done = turnaround("load", "--strict", "--config", str(_postgres_config(tmp_path)))
    finally:
        os.environ.pop("DISTILLER_DSN", None)
    assert done.returncode == 2
    assert "cannot read Distiller's database" in done.stderr and "secret" not in done.stderr
