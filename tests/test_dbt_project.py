"""The dbt project itself: test count, schemas, materializations, docs, freshness."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from loaders.config import load_config
from tests.conftest import Built
from turnaround.dbt import PROJECT_DIR, dbt_environment, dbt_executable, run_dbt

# Raise when adding tests; a misspelt YAML key silently drops a test, and this catches it.
EXPECTED_TESTS = 212


def test_no_test_went_missing(tmp_path: Path) -> None:
    config_path = tmp_path / "turnaround.toml"
    config_path.write_text('warehouse = "w.duckdb"\n', encoding="utf-8")
    done = subprocess.run(
        [
            dbt_executable(),
            "ls",
            "--quiet",
            "--resource-type",
            "test",
            "--resource-type",
            "unit_test",
        ],
        env=dbt_environment(load_config(config_path)),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    tests = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(tests) >= EXPECTED_TESTS, f"{len(tests)} dbt tests, expected {EXPECTED_TESTS}"


def test_schemas_are_exactly_raw_staging_marts(published: Built) -> None:
    schemas = {
        row[0]
        for row in published.query("select distinct table_schema from information_schema.tables")
    }
    assert schemas == {"raw", "staging", "marts"}


def test_staging_are_views_and_marts_are_tables(published: Built) -> None:
    kinds = dict(
        published.query(
            """
            select table_schema || '.' || table_name, table_type
            from information_schema.tables where table_schema in ('staging', 'marts')
            """
        )
    )
    # the staging models of the large sources are tables, the others views
    assert kinds["staging.stg_slurm__jobs"] == "BASE TABLE"
    assert kinds["staging.stg_stempy__runs"] == "VIEW"
    assert kinds["staging.int_experiment_acquisitions"] == "VIEW"
    # the large intermediate models are plain tables, with no bookkeeping beside them
    for name in (
        "int_count_jobs_filtered",
        "int_receiver_scans_summarised",
        "int_acquisitions_joined_to_files",
    ):
        assert kinds[f"staging.{name}"] == "BASE TABLE", name
    assert not [name for name in kinds if name.startswith("staging._")]
    assert kinds["staging.stg_turnaround__loads"] == "VIEW"
    marts = {name: kind for name, kind in kinds.items() if name.startswith("marts.")}
    assert set(marts) == {
        "marts.fct_count_jobs",
        "marts.fct_offload_scans",
        "marts.offload_by_size",
        "marts.fct_streaming_scans",
        "marts.save_overhead_by_size",
        "marts.time_to_data_stats",
        "marts.transfer_comparison",
        "marts.queue_time_stats",
        "marts.queue_time_daily",
        "marts.fct_time_to_data",
        "marts.source_coverage",
        "marts.weekly_trends",
        "marts.transfer_model",
        "marts.transfer_predictions",
        "marts.service_level_status",
        "marts.source_freshness",
    }
    assert set(marts.values()) == {"BASE TABLE"}


def test_mart_timestamps_are_utc_timestamptz(published: Built) -> None:
    types = dict(
        published.query(
            """
            select column_name, data_type from information_schema.columns
            where table_schema = 'marts' and table_name = 'fct_count_jobs'
            """
        )
    )
    for column in ("submitted_at", "started_at", "ended_at"):
        assert types[column] == "TIMESTAMP WITH TIME ZONE"


def test_no_model_holds_a_128_bit_integer(published: Built) -> None:
    """DuckDB sums integers into HUGEINT, which Spark has not: a model casts such a sum, so
    both engines give every model the same types."""
    wide = published.query(
        """
        select table_schema || '.' || table_name || '.' || column_name
        from information_schema.columns
        where table_schema in ('staging', 'intermediate', 'marts') and data_type = 'HUGEINT'
        """
    )
    assert wide == []


def test_docs_generate_and_source_freshness_succeed(published: Built) -> None:
    config = load_config(published.config)
    docs = run_dbt(config, ["docs", "generate"])
    assert docs.exit_code == 0
    catalog = config.warehouse.parent / "dbt" / "target" / "catalog.json"
    assert catalog.exists() and "fct_count_jobs" in catalog.read_text(encoding="utf-8")
    fresh = run_dbt(config, ["source", "freshness"])
    assert fresh.exit_code == 0
    sources = json.loads((catalog.parent / "sources.json").read_text(encoding="utf-8"))
    statuses = {result["unique_id"]: result["status"] for result in sources["results"]}
    assert len(statuses) == 7
    assert set(statuses.values()) == {"pass"}
