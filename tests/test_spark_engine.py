"""The Spark engine's plumbing without Spark: the config's `[spark]` table, the raw export, one
build per `warehouse_dir`, and the marts linked back into the DuckDB warehouse. (The builds on
Spark itself are in tests/test_spark_parity.py.)"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from loaders.config import load_config
from loaders.errors import TurnaroundError
from loaders.raw_schema import create_raw_schema
from turnaround import spark


def spark_config(folder: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    path = folder / "turnaround.toml"
    path.write_text(f'engine = "spark"\n{extra}', encoding="utf-8")
    return load_config(path)


def test_the_spark_table_has_defaults_beside_the_config(tmp_path: Path) -> None:
    config = spark_config(tmp_path)
    assert config.engine == "spark"
    assert config.spark.master == "local[*]"
    assert config.spark.warehouse_dir == tmp_path.resolve() / "spark-warehouse"
    assert load_config(_write(tmp_path / "d.toml", "")).engine == "duckdb"


def test_the_settings_reach_spark_as_conf_pairs(tmp_path: Path) -> None:
    config = spark_config(
        tmp_path,
        '[spark]\nmaster = "spark://10.0.0.1:7077"\nwarehouse_dir = "/shared/tw"\n'
        '[spark.conf]\n"spark.executor.memory" = "4g"\n"spark.eventLog.enabled" = true\n'
        '"spark.app.name" = "turnaround build"\n"spark.driver.extraJavaOptions" = "-Xss4m"\n',
    )
    env = spark.environment(config, Path("/shared/tw/raw/1"))
    assert env["TURNAROUND_SPARK_MASTER"] == "spark://10.0.0.1:7077"
    assert env["TURNAROUND_SPARK_DIR"] == "/shared/tw"
    assert env["DBT_TARGET"] == "spark"
    assert shlex.split(env["PYSPARK_SUBMIT_ARGS"]) == [
        "--conf=spark.executor.memory=4g",
        "--conf=spark.eventLog.enabled=true",
        "--conf=spark.app.name=turnaround build",
        "--conf=spark.driver.extraJavaOptions=-Xss4m -Dderby.system.home=/shared/tw",
        "pyspark-shell",
    ]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _warehouse_with_raw(path: Path) -> None:
    con = duckdb.connect(str(path))
    create_raw_schema(con)
    con.execute(
        "insert into raw.rec_status (scan_number, receiver, _source_file, _record_number, "
        "_load_id, _loaded_at) values ('7', '2', '/in/a.json', 1, 1, now()), "
        "('8', '3', '/in/b.json', 1, 1, now())"
    )
    con.close()


#: a load in the ledger, as `turnaround load` commits one
A_LOAD = (
    "insert into raw.loads (load_id, source, format, path, started_at, status) "
    "select coalesce(max(load_id), 0) + 1, 'rec_status', 'json', '/in/c.json', now(), 'loaded' "
    "from raw.loads"
)


def _commit(path: Path, sql: str = A_LOAD) -> None:
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()


def test_a_raw_export_is_reused_until_the_ledger_or_raws_columns_change(tmp_path: Path) -> None:
    config = spark_config(tmp_path)
    _warehouse_with_raw(config.warehouse)
    first = spark.export_raw(config)
    assert spark.export_raw(config) == first
    _commit(
        config.warehouse,
        "insert into raw.rejected_records values ('rec_status', 'json', "
        "'/in/d.json', 1, 'json', 'broken', '{', 1, now())",
    )
    second = spark.export_raw(config)
    assert second != first, "a reject is a change of the ledger"
    # a newer version adds a raw column (create_raw_schema): no load, but a new export
    _commit(config.warehouse, "alter table raw.rec_status add column extra varchar")
    third = spark.export_raw(config)
    assert third != second
    described = duckdb.connect().execute(f"select * from '{third}/rec_status.parquet' limit 0")
    assert "extra" in [column[0] for column in described.description or []]
    assert spark.export_raw(config) == third


def test_the_raw_tables_are_exported_whole_to_a_new_folder(tmp_path: Path) -> None:
    config = spark_config(tmp_path)
    _warehouse_with_raw(config.warehouse)
    with pytest.raises(TurnaroundError, match="no build on Spark yet"):
        spark.newest_export(config)
    stale = config.spark.warehouse_dir / "raw" / ".19990101T000000-1.partial"
    stale.mkdir(parents=True)
    first = spark.export_raw(config)
    assert not stale.exists(), "a stopped export's folder is removed"
    assert spark.export_raw(config) == first, "nothing loaded since: the same export serves"
    _commit(config.warehouse)
    second = spark.export_raw(config)
    assert first != second and second.name > first.name
    assert spark.newest_export(config) == second
    con = duckdb.connect()
    rows = con.execute(
        f"select scan_number, receiver from '{second}/rec_status.parquet' order by 1"
    ).fetchall()
    assert rows == [("7", "2"), ("8", "3")]
    raw_tables = (
        duckdb.connect(str(config.warehouse), read_only=True)
        .execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' "
            "and table_type = 'BASE TABLE'"
        )
        .fetchone()
    )
    assert raw_tables is not None
    assert len(list(second.glob("*.parquet"))) == raw_tables[0]
    spark.drop_older_exports(second)
    assert not first.exists() and second.exists()


def test_a_second_build_on_the_same_folder_is_refused_in_one_sentence(tmp_path: Path) -> None:
    config = spark_config(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from loaders.config import load_config; from turnaround import spark\n"
            f"with spark.locked(load_config({str(config.path)!r})):\n"
            "    print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(TurnaroundError) as refused, spark.locked(config):
            pass
        assert f"is in use by process {holder.pid} (a build on Spark)" in str(refused.value)
        assert str(config.spark.warehouse_dir) in str(refused.value)
    finally:
        holder.communicate("")
    with spark.locked(config):  # released with its holder
        pass


def test_the_marts_are_linked_as_views_over_their_parquet(tmp_path: Path) -> None:
    config = spark_config(tmp_path)
    con = duckdb.connect(str(config.warehouse))
    con.execute("create schema marts")
    con.execute("create table marts.transfer_comparison as select 1 as old")
    con.execute("create table marts.gone as select 1 as old")
    for mart, rows in (("transfer_comparison", 3), ("weekly_trends", 2)):
        folder = spark.marts_dir(config) / mart
        folder.mkdir(parents=True)
        con.execute(
            f"copy (select range as n, range * 0.5 as x from range({rows})) "
            f"to '{folder}/part-00000.snappy.parquet' (format parquet)"
        )
    (spark.marts_dir(config) / "not_built_yet").mkdir()  # no Parquet: not a mart yet
    con.close()
    assert spark.link_marts(config) == ["transfer_comparison", "weekly_trends"]
    con = duckdb.connect(str(config.warehouse), read_only=True)
    listed = con.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_schema = 'marts' order by 1"
    ).fetchall()
    assert listed == [("transfer_comparison", "VIEW"), ("weekly_trends", "VIEW")]
    assert con.execute("select sum(x) from marts.transfer_comparison").fetchone() == (1.5,)


def test_without_the_spark_packages_the_build_says_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spark, "_missing", lambda module: module == "pyspark")
    with pytest.raises(TurnaroundError) as refused:
        spark.check_installed()
    assert "needs pyspark, not installed here: run `make install-spark`" in str(refused.value)
