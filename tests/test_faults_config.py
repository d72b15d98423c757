"""Hostile and careless configs: each ends in one sentence naming the config, exit 2, and
nothing loaded or saved by mistake."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import turnaround
from tests.helpers import write

JOB = (
    "count|9001|00:30:00|00:01:02|2023-03-12T01:59:30|2023-03-12T02:00:00|2023-03-12T02:01:02"
    "|1|realtime|alice|0:0"
)


def one_sentence(done: object, *parts: str) -> None:
    """Exit 2, one line on stderr holding every part, no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)  # type: ignore[attr-defined]
    stderr = done.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    for part in parts:
        assert part in stderr, stderr


def slurm_config(folder: Path, body: str = "") -> Path:
    return write(
        folder / "turnaround.toml",
        '[[inputs]]\nsource = "slurm"\nformat = "sacct"\npaths = ["in/*.txt"]\n' + body,
    )


def test_a_folder_named_like_a_glob_reads_its_own_files(tmp_path: Path) -> None:
    write(tmp_path / "gl[1]" / "in" / "mine.txt", JOB + "\n")
    write(tmp_path / "gl1" / "in" / "other.txt", JOB.replace("9001", "9002") + "\n")
    config = slurm_config(tmp_path / "gl[1]")
    done = turnaround("load", "--config", str(config))
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(config.parent / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select job_id, _source_file from raw.slurm").fetchall() == [
            ("9001", "in/mine.txt")
        ]
    finally:
        con.close()


@pytest.mark.parametrize("name", ["x.json", "notes.csv"])
def test_an_existing_file_that_is_not_a_warehouse_is_refused(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, '{"a": 1}\n')
    config = write(tmp_path / "turnaround.toml", f'warehouse = "{name}"\n')
    done = turnaround("load", "--config", str(config))
    one_sentence(done, str(config), "exists and is not a DuckDB database")
    assert (tmp_path / name).read_text() == '{"a": 1}\n'


@pytest.mark.parametrize(
    ("warehouse", "message"),
    [
        ("/", "is a folder"),
        (".", "is a folder"),
        ("it's.duckdb", "choose another file name"),
        ("a#b.duckdb", "choose another file name"),
        ("main.duckdb", "choose another file name"),
        ("Temp.duckdb", "choose another file name"),
        ("system.db", "choose another file name"),
    ],
)
def test_warehouse_names_dbt_cannot_hold_are_refused(
    tmp_path: Path, warehouse: str, message: str
) -> None:
    config = write(tmp_path / "turnaround.toml", f'warehouse = "{warehouse}"\n')
    for command in ("load", "build", "refresh"):
        one_sentence(turnaround(command, "--config", str(config)), str(config), message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('wherehouse = "w.duckdb"\n', "unknown key 'wherehouse'; did you mean 'warehouse'?"),
        ('timezon = "UTC"\n', "unknown key 'timezon'; did you mean 'timezone'?"),
        (
            '[[inputs]]\nsource = "slurm"\nformat = "sacct"\npaths = ["a"]\ntimezon = "UTC"\n',
            "inputs #1: unknown key 'timezon'; did you mean 'timezone'?",
        ),
        ('timezone = "posix/America/Los_Angeles"\n', "an alias DuckDB does not know"),
        ('timezone = "localtime"\n', "an alias DuckDB does not know"),
        ('timezone = "Mars/Olympus"\n', "unknown timezone 'Mars/Olympus'"),
        ('engine = "sparks"\n', "'engine' must be one of duckdb, spark, not 'sparks'"),
        ("spark = 1\n", "'spark' must be a table ([spark])"),
        ('[spark]\nmastr = "local"\n', "[spark]: unknown key 'mastr'; did you mean 'master'?"),
        ('[spark]\nmaster = "spark:/h:7077"\n', "is not a Spark master URL"),
        ('[spark]\nwarehouse_dir = ""\n', "'warehouse_dir' must be a folder's path"),
        ('[spark.conf]\nspark.executor.memory = "4g"\n', "quote the setting's name"),
        ('[spark.conf]\n"spark.jars" = ["a"]\n', "must be a text, number or boolean"),
    ],
)
def test_config_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    config = write(tmp_path / "turnaround.toml", text)
    one_sentence(turnaround("load", "--config", str(config)), str(config), message)


def test_an_endless_config_is_refused_without_reading_it_all() -> None:
    started = time.monotonic()
    done = turnaround("load", "--config", "/dev/zero")
    assert time.monotonic() - started < 10
    one_sentence(done, "/dev/zero", "not a turnaround config")


def test_an_unset_dsn_variable_names_the_config(tmp_path: Path) -> None:
    config = write(
        tmp_path / "site.toml",
        '[[inputs]]\nsource = "distiller_db"\nformat = "postgres"\n'
        'dsn_env = "TURNAROUND_TEST_UNSET_DSN"\n',
    )
    one_sentence(
        turnaround("load", "--config", str(config)),
        f"{config}: distiller_db: environment variable TURNAROUND_TEST_UNSET_DSN",
    )
