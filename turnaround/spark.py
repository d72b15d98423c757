"""dbt on Apache Spark (`engine = "spark"`): the raw tables exported to Parquet, dbt-spark's
environment, one build per `warehouse_dir` at a time, and the marts read back through DuckDB.

Under `[spark] warehouse_dir`:
- `raw/<export>/<table>.parquet`: the raw tables of the DuckDB warehouse, written to a new
  folder (`raw/.<export>.partial`, renamed when whole) before each build; the dbt project's
  `register_raw` (on-run-start) points Spark's `raw.<table>` views at the newest whole one,
  and older ones go once a build has used the new one;
- `tables/`: Spark's warehouse (`spark.sql.warehouse.dir`), the marts as Parquet in
  `tables/marts.db/<mart>/`;
- `metastore_db/`: Spark's catalog (an embedded Derby database: one process at a time, so
  one build at a time per folder, which `turnaround.lock` there enforces).

After a build, the DuckDB warehouse's `marts` schema holds one view per mart over its Parquet
files, so `report`, `check` and `shell` read Spark's marts as they read DuckDB's.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shlex
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from loaders.config import Config
from loaders.errors import TurnaroundError
from warehouse import LEDGER_SQL, connect

#: the packages of the Spark engine (`make install-spark`)
SPARK_PACKAGES = ("dbt-spark", "pyspark")
LOCK_NAME = "turnaround.lock"
PARTIAL = ".partial"
#: in an export's folder: the ledger's fingerprint and raw's columns when it was written
LEDGER_FILE = "_ledger.json"
RAW_COLUMNS_SQL = """
select table_name, column_name, data_type from information_schema.columns
where table_schema = 'raw' order by table_name, ordinal_position
"""
DRIVER_JAVA_OPTIONS = "spark.driver.extraJavaOptions"


def check_installed() -> None:
    """TurnaroundError unless pyspark and dbt-spark are installed, and Java is found."""
    missing = [
        name
        for name, module in zip(SPARK_PACKAGES, ("dbt.adapters.spark", "pyspark"), strict=True)
        if _missing(module)
    ]
    if missing:
        raise TurnaroundError(
            f'engine = "spark" needs {" and ".join(missing)}, not installed here: run '
            "`make install-spark` (or `pip install 'turnaround[spark]'`)"
        )
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise TurnaroundError(
            'engine = "spark" needs Java 17 or newer, which is not installed: run '
            "`make system-deps` (Debian's default-jre-headless), or set JAVA_HOME"
        )


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


def tables_dir(config: Config) -> Path:
    """Spark's warehouse folder (`spark.sql.warehouse.dir`)."""
    return config.spark.warehouse_dir / "tables"


def marts_dir(config: Config) -> Path:
    """Where Spark writes the marts, one folder of Parquet files each."""
    return tables_dir(config) / "marts.db"


def environment(config: Config, raw_dir: Path) -> dict[str, str]:
    """The variables dbt-spark's profile (`profiles.yml`, target `spark`) and Spark read. The
    config's Spark settings go to spark-submit after the profile's, so they win; the driver's
    Java options keep Derby's files (derby.log) in `warehouse_dir` whatever the config adds."""
    folder = config.spark.warehouse_dir
    settings = dict(config.spark.conf)
    java = settings.pop(DRIVER_JAVA_OPTIONS, "")
    settings[DRIVER_JAVA_OPTIONS] = f"{java} -Dderby.system.home={folder}".strip()
    conf = [f"--conf={name}={value}" for name, value in settings.items()]
    return {
        "DBT_TARGET": "spark",
        "TURNAROUND_SPARK_MASTER": config.spark.master,
        "TURNAROUND_SPARK_DIR": str(folder),
        "TURNAROUND_SPARK_RAW_DIR": str(raw_dir),
        "PYSPARK_SUBMIT_ARGS": shlex.join([*conf, "pyspark-shell"]),
    }


@contextlib.contextmanager
def locked(config: Config) -> Iterator[None]:
    """Hold `warehouse_dir` for one build: Spark's embedded metastore takes one process, and a
    second build would fail deep inside Spark; this says so in one sentence instead."""
    folder = config.spark.warehouse_dir
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise TurnaroundError(
                f"{folder} is in use by {holder} (a build on Spark); wait for it to finish, "
                "or give this warehouse its own [spark] warehouse_dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        yield


def export_raw(config: Config) -> Path:
    """The folder of `raw/` whose Parquet files hold the DuckDB warehouse's raw tables as they
    are now: the newest export when the ledger has not changed since it was written, else a
    new export, renamed into place once every table is written (a build never reads a
    half-written one)."""
    exports = config.spark.warehouse_dir / "raw"
    exports.mkdir(parents=True, exist_ok=True)
    for partial in exports.glob(f".*{PARTIAL}"):  # of an export that was stopped
        shutil.rmtree(partial, ignore_errors=True)
    con = connect(config.warehouse, read_only=True)
    try:  # the ledger and the tables read in one transaction: what this export holds
        con.begin()
        ledger = json.dumps(
            {
                "ledger": list(con.execute(LEDGER_SQL).fetchone() or ()),
                "columns": con.execute(RAW_COLUMNS_SQL).fetchall(),
            },
            default=str,
        )
        newest = _whole_exports(exports)[-1:]
        if newest and _read_text(newest[0] / LEDGER_FILE) == ledger:
            return newest[0]
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns()}"
        partial = exports / f".{name}{PARTIAL}"
        partial.mkdir()
        tables = [
            table
            for (table,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]
        for table in tables:
            target = str(partial / f"{table}.parquet").replace("'", "''")
            con.execute(f"copy raw.{table} to '{target}' (format parquet)")
    finally:
        con.close()
    (partial / "_tables.json").write_text(json.dumps(tables) + "\n", encoding="utf-8")
    (partial / LEDGER_FILE).write_text(ledger, encoding="utf-8")
    done = exports / name
    partial.rename(done)
    return done


def _whole_exports(exports: Path) -> list[Path]:
    """The whole exports of `exports`, oldest first (their names sort by time)."""
    return sorted(
        path for path in exports.glob("*") if path.is_dir() and not path.name.startswith(".")
    )


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def newest_export(config: Config) -> Path:
    """The newest whole export (which the last build's raw views read); TurnaroundError when no
    build has made one yet."""
    exports = config.spark.warehouse_dir / "raw"
    whole = _whole_exports(exports)
    if not whole:
        raise TurnaroundError(
            f"{exports}: no build on Spark yet; run `turnaround refresh --config {config.path}`"
        )
    return whole[-1]


def drop_older_exports(raw_dir: Path) -> None:
    """Remove the exports older than `raw_dir` (which Spark's raw views now read)."""
    for export in raw_dir.parent.iterdir():
        if export.is_dir() and not export.name.startswith(".") and export.name < raw_dir.name:
            shutil.rmtree(export, ignore_errors=True)


def link_marts(config: Config) -> list[str]:
    """Point the DuckDB warehouse's `marts` schema at Spark's marts: one view per mart over its
    Parquet files, replacing what was there (DuckDB-built tables, or older views), in one
    transaction. Returns the marts linked."""
    folder = marts_dir(config)
    marts = (
        sorted(
            path.name for path in folder.iterdir() if path.is_dir() and any(path.glob("*.parquet"))
        )
        if folder.is_dir()
        else []
    )
    con = connect(config.warehouse)
    try:
        con.begin()
        con.execute("create schema if not exists marts")
        present = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'marts'"
            ).fetchall()
        )
        for name, kind in present.items():
            con.execute(f'drop {"view" if kind == "VIEW" else "table"} marts."{name}"')
        for mart in marts:
            files = str(folder / mart / "*.parquet").replace("'", "''")
            con.execute(f"create view marts.\"{mart}\" as select * from read_parquet('{files}')")
        con.commit()
    finally:
        con.close()
    return marts
