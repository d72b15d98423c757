"""A DSN's password is never printed, logged or stored, in any spelling libpq accepts (or
rejects): not on the terminal, not in any text column of the warehouse, not in dbt's folder,
not in the report."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from loaders.pulls import distiller
from tests.conftest import turnaround
from tests.distiller_db import (
    READER_PASSWORD,
    PostgresServer,
    create_distiller_database,
    fill_published,
)
from tests.test_distiller_pg import postgres_config

pytest_plugins = ("tests.distiller_db",)
pytestmark = pytest.mark.postgres

DATABASE = "distiller_secrets"
VARIABLE = "DISTILLER_DSN_SECRETS"

#: (id, DSN with {port}, the strings of its password that must appear nowhere)
SPELLINGS = [
    (
        "keyword-spaces-around-equals",
        f"host=127.0.0.1 port={{port}} dbname={DATABASE} user=reader password = Wr0ngSecret",
        ["Wr0ngSecret"],
    ),
    (
        "keyword-upper-case",
        f"host=127.0.0.1 port={{port}} dbname={DATABASE} user=reader PASSWORD=Wr0ngSecret",
        ["Wr0ngSecret"],
    ),
    (
        "keyword-quoted-with-a-space",
        f"host=127.0.0.1 port={{port}} dbname={DATABASE} user=reader password='Wr0ng Secret'",
        ["Wr0ng", "Secret"],
    ),
    (
        "uri-empty-user",
        f"postgresql://:Wr0ngSecret@127.0.0.1:{{port}}/{DATABASE}",
        ["Wr0ngSecret"],
    ),
    (
        "uri-at-sign-in-password",
        f"postgresql://reader:Wr0ng@Secret@127.0.0.1:{{port}}/{DATABASE}",
        ["Wr0ng", "Secret"],
    ),
    (
        "uri-bad-percent-encoding",
        f"postgresql://reader:Wr0ng%ZZSecret@127.0.0.1:{{port}}/{DATABASE}",
        ["Wr0ng", "Secret"],
    ),
    (
        "uri-malformed-ipv6",
        f"postgresql://reader:Wr0ngSecret@[::1:{{port}}/{DATABASE}",
        ["Wr0ngSecret"],
    ),
    (
        "uri-query-parameter",
        f"postgresql://reader@127.0.0.1:{{port}}/{DATABASE}?password=Wr0ngSecret",
        ["Wr0ngSecret"],
    ),
]


@pytest.fixture(scope="module")
def database(postgres_server: PostgresServer) -> str:
    dsn = create_distiller_database(postgres_server, DATABASE, 2)
    fill_published(dsn, 2)
    return dsn


@pytest.fixture
def dsn_variable() -> Iterator[None]:
    try:
        yield
    finally:
        os.environ.pop(VARIABLE, None)


def leaks_in_warehouse(warehouse: Path, secrets: list[str]) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every text column holding one of `secrets`."""
    if not warehouse.exists():
        return []
    found = []
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in columns:
            for secret in secrets:
                (count,) = con.execute(
                    f'select count(*) from "{schema}"."{table}" where contains("{column}", ?)',
                    [secret],
                ).fetchone() or (0,)
                if count:
                    found.append((schema, table, column))
    return found


def leaks_in_files(folder: Path, secrets: list[str]) -> list[Path]:
    """Files under `folder` whose bytes hold one of `secrets`."""
    if not folder.exists():
        return []
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and any(s.encode() in path.read_bytes() for s in secrets)
    ]


@pytest.mark.parametrize(
    ("spelling", "template", "secrets"), SPELLINGS, ids=[s[0] for s in SPELLINGS]
)
def test_no_spelling_of_a_password_leaks(
    postgres_server: PostgresServer,
    database: str,
    dsn_variable: None,
    tmp_path: Path,
    spelling: str,
    template: str,
    secrets: list[str],
) -> None:
    dsn = template.format(port=postgres_server.port)
    assert all(secret in dsn for secret in secrets)
    os.environ[VARIABLE] = dsn
    config = postgres_config(tmp_path, VARIABLE)
    quiet = turnaround("load", "--config", str(config), "distiller_db")
    strict = turnaround("load", "--strict", "--config", str(config), "distiller_db")
    for done in (quiet, strict):
        assert "Traceback" not in done.stderr
        for secret in secrets:
            assert secret not in done.stdout + done.stderr, (spelling, done.stdout, done.stderr)
    assert quiet.returncode == 0, quiet.stderr  # the rest of a load goes on
    assert strict.returncode == 2
    assert "cannot read the Distiller database" in strict.stderr
    # the failed pull is recorded, by a name without the password
    warehouse = config.parent / "warehouse.duckdb"
    assert query_one(warehouse, "select count(*) from raw.rejected_records") == 1
    assert leaks_in_warehouse(warehouse, secrets) == []


def query_one(warehouse: Path, sql: str) -> object:
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        (value,) = con.execute(sql).fetchone() or (None,)
    return value


@pytest.mark.parametrize(
    ("spelling", "template", "secrets"), SPELLINGS, ids=[s[0] for s in SPELLINGS]
)
def test_every_spelling_is_scrubbed(spelling: str, template: str, secrets: list[str]) -> None:
    dsn = template.format(port=5432)
    text = f"could not connect with {dsn}"
    cleaned = distiller.scrubbed(text, dsn)
    assert not any(secret in cleaned for secret in secrets), (spelling, cleaned)
    assert not any(secret in distiller.configured_name(dsn) for secret in secrets)


def test_a_pull_with_a_password_leaves_no_trace(
    postgres_server: PostgresServer, database: str, dsn_variable: None, tmp_path: Path
) -> None:
    port = postgres_server.port
    os.environ[VARIABLE] = (
        f"host=127.0.0.1 port={port} dbname={DATABASE} user=reader password = {READER_PASSWORD}"
    )
    config = postgres_config(tmp_path, VARIABLE)
    done = turnaround("refresh", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "distiller_db" in done.stdout
    assert READER_PASSWORD not in done.stdout + done.stderr
    warehouse = config.parent / "warehouse.duckdb"
    with closing(duckdb.connect(str(warehouse), read_only=True)) as con:
        assert con.execute("select count(*) from marts.fct_count_jobs").fetchone() == (2268,)
    assert leaks_in_warehouse(warehouse, [READER_PASSWORD]) == []
    assert leaks_in_files(config.parent / "dbt", [READER_PASSWORD]) == []
    assert leaks_in_files(config.parent / "reports", [READER_PASSWORD]) == []
    assert (config.parent / "reports" / "out" / "index.html").exists()
