"""The published data built on Spark, in local mode and on a standalone cluster of two workers,
against the same data built on DuckDB: every mart equal (row counts, integers, texts and
timestamps exactly, doubles to 1e-9 relative, non-null counts per column), every data test and
unit test with the same result, the paper's table, and the report and `check` read from
Spark's marts through DuckDB."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import Built, refresh, turnaround, write_published_config
from tests.spark_cluster import new_cluster
from tests.test_published import PAPER_TABLE, papers_table
from tests.test_report import assert_page_draws_every_figure
from turnaround.dbt import PROJECT_DIR

RELATIVE = 1e-9
#: columns that are not built from the data but from when it was loaded (two refreshes, two
#: load times)
LOAD_TIMES = {"source_coverage": {"last_loaded_at"}}
#: keep the local build to the two cores of these machines, with little memory
LOCAL_SPARK = '\n[spark]\nmaster = "local[2]"\n'


def spark_config(folder: Path, spark_table: str) -> Path:
    """The published data's config, built on Spark."""
    config = write_published_config(folder)
    text = config.read_text(encoding="utf-8")
    config.write_text(f'engine = "spark"\n{text}{spark_table}', encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def spark_local(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The published data refreshed on Spark in local mode."""
    return refresh(spark_config(tmp_path_factory.mktemp("spark-local"), LOCAL_SPARK))


@dataclass(frozen=True)
class ClusterBuilt:
    """A refresh through the standalone cluster, and the applications its master ran."""

    built: Built
    applications: list[dict[str, Any]]


@pytest.fixture(scope="module")
def spark_cluster_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterBuilt]:
    """The published data refreshed through a standalone cluster (one master, two workers on
    127.0.0.1), stopped after; the applications the master saw are checked by the test."""
    folder = tmp_path_factory.mktemp("spark-cluster")
    with new_cluster(folder / "cluster", workers=2) as cluster:
        settings = cluster.client_conf()
        settings.pop("spark.master")  # the config's own key
        conf = "".join(f'"{name}" = "{value}"\n' for name, value in settings.items())
        table = f'\n[spark]\nmaster = "{cluster.master_url}"\n[spark.conf]\n{conf}'
        built = refresh(spark_config(folder, table))
        yield ClusterBuilt(built, cluster.master_state().get("completedapps", []))


def mart_names(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            f"where table_catalog = '{catalog}' and table_schema = 'marts' order by 1"
        ).fetchall()
    ]


def equal_values(ours: object, theirs: object) -> bool:
    """Equal, doubles to RELATIVE (and NaN to NaN)."""
    if isinstance(ours, float) and isinstance(theirs, float):
        if math.isnan(ours) or math.isnan(theirs):
            return math.isnan(ours) and math.isnan(theirs)
        return math.isclose(ours, theirs, rel_tol=RELATIVE, abs_tol=RELATIVE)
    return ours == theirs


def differences(duckdb_built: Built, spark_built: Built) -> list[str]:
    """Every way the Spark-built marts differ from DuckDB's (empty when equal)."""
    con = duckdb.connect(str(spark_built.warehouse), read_only=True)
    con.execute(f"attach '{duckdb_built.warehouse}' as duck (read_only)")
    found: list[str] = []
    theirs_all = mart_names(con, "duck")
    ours_all = mart_names(con, spark_built.warehouse.stem)
    if ours_all != theirs_all:
        found.append(f"marts: {ours_all} on Spark, {theirs_all} on DuckDB")
    for mart in theirs_all:
        if mart in ours_all:
            found += mart_differences(con, mart, f"duck.marts.{mart}", f"marts.{mart}")
    con.close()
    return found


def mart_differences(con: duckdb.DuckDBPyConnection, mart: str, duck: str, spark: str) -> list[str]:
    """One mart: columns and types, counts, non-null counts per column, and every value."""
    theirs_cols = con.execute(f"describe {duck}").fetchall()
    ours_cols = con.execute(f"describe {spark}").fetchall()
    types = [(name, kind) for name, kind, *_ in theirs_cols]
    if [(name, kind) for name, kind, *_ in ours_cols] != types:
        return [f"{mart}: columns {ours_cols} on Spark, {theirs_cols} on DuckDB"]
    types = [(name, kind) for name, kind in types if name not in LOAD_TIMES.get(mart, ())]
    columns = ", ".join(f'"{name}"' for name, _ in types)
    counts = ", ".join(["count(*)", *(f'count("{name}")' for name, _ in types)])
    ours_counts = con.execute(f"select {counts} from {spark}").fetchone()
    theirs_counts = con.execute(f"select {counts} from {duck}").fetchone()
    if ours_counts != theirs_counts:
        return [f"{mart}: row and non-null counts {ours_counts} on Spark, {theirs_counts}"]
    ours = con.execute(f"select {columns} from {spark} order by all").fetchall()
    theirs = con.execute(f"select {columns} from {duck} order by all").fetchall()
    for number, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        for (name, _), a, b in zip(types, mine, other, strict=True):
            if not equal_values(a, b):
                return [f"{mart}: row {number} column {name}: {a!r} on Spark, {b!r} on DuckDB"]
    return []


def test_the_published_data_builds_on_spark_in_local_mode(spark_local: Built) -> None:
    assert spark_local.exit_code == 0, spark_local.output
    assert ", 0 error" in spark_local.output
    assert "128x128" in spark_local.output and "x13.0" in spark_local.output


def test_every_mart_built_on_spark_equals_duckdbs(published: Built, spark_local: Built) -> None:
    assert differences(published, spark_local) == []


def test_every_test_has_the_same_result_on_both_engines(
    published: Built, spark_local: Built
) -> None:
    ours, theirs = spark_local.node_results, published.node_results
    assert ours == theirs
    tests = [node for node in theirs if node.startswith(("test.", "unit_test."))]
    assert len(tests) > 100, "the data and unit tests ran"
    assert "warn" in theirs.values(), "the published data's known warnings are compared too"


def test_the_papers_table_from_sparks_marts(spark_local: Built) -> None:
    assert papers_table(spark_local) == PAPER_TABLE


def test_the_marts_are_parquet_that_duckdb_reads(spark_local: Built) -> None:
    views = spark_local.query(
        "select view_name, sql from duckdb_views() where schema_name = 'marts'"
    )
    assert views and all("read_parquet(" in sql for _, sql in views)
    folder = spark_local.config.parent / "spark-warehouse" / "tables" / "marts.db"
    assert {name for name, _ in views} == {path.name for path in folder.iterdir()}
    # Spark's metastore and Derby's log stay in warehouse_dir, not where dbt runs
    assert (folder.parent.parent / "metastore_db").is_dir()
    assert (folder.parent.parent / "derby.log").is_file()
    assert not (PROJECT_DIR / "derby.log").exists() and not (PROJECT_DIR / "metastore_db").exists()


def test_check_reads_sparks_marts_as_duckdbs(published: Built, spark_local: Built) -> None:
    day = "--as-of=2023-11-10"
    ours = turnaround("check", "--config", str(spark_local.config), "--json", day)
    theirs = turnaround("check", "--config", str(published.config), "--json", day)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)
    mine, other = json.loads(ours.stdout), json.loads(theirs.stdout)
    assert mine.pop("warehouse") == str(spark_local.warehouse)
    other.pop("warehouse")
    assert mine == other
    assert mine["levels"] and mine["freshness"], "check read the marts"


def test_the_report_of_sparks_marts_draws_in_chromium(spark_local: Built, tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = turnaround("report", "--config", str(spark_local.config), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert_page_draws_every_figure(out, tmp_path)


def test_nothing_new_builds_nothing_on_spark(spark_local: Built) -> None:
    again = turnaround("refresh", "--config", str(spark_local.config))
    assert again.returncode == 0, again.stderr
    assert "marts are current" in again.stdout


def test_docs_on_spark_catalogue_every_mart(published: Built, spark_local: Built) -> None:
    done = turnaround("docs", "--config", str(spark_local.config))
    assert done.returncode == 0, done.stdout + done.stderr
    target = spark_local.config.parent / "dbt" / "target"
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    columns = {
        node["metadata"]["name"]: set(node["columns"])
        for node in catalog["nodes"].values()
        if node["metadata"]["schema"] == "marts"
    }
    con = duckdb.connect(str(published.warehouse), read_only=True)
    expected = {
        mart: {name for name, *_ in con.execute(f"describe marts.{mart}").fetchall()}
        for mart in mart_names(con, published.warehouse.stem)
    }
    con.close()
    assert columns == expected
    assert (target / "index.html").exists()


def test_the_standalone_cluster_builds_the_same_marts(
    published: Built, spark_cluster_built: ClusterBuilt
) -> None:
    built = spark_cluster_built.built
    assert built.exit_code == 0, built.output
    assert differences(published, built) == []
    # the build ran as an application of the cluster, on both workers' cores
    finished = [app for app in spark_cluster_built.applications if app["state"] == "FINISHED"]
    assert finished and finished[-1]["cores"] == 2, spark_cluster_built.applications
