"""Reading what the report shows: the marts (read-only, released at once) and the last build."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from warehouse import connect

#: mart -> what fills it, for the page of an empty or partial warehouse
MARTS: dict[str, str] = {
    "transfer_comparison": "slurm, distiller_db, rec_status, ncem_data_files, "
    "nersc_counted_files and stempy_log inputs",
    "time_to_data_stats": "the inputs of both workflows",
    "fct_time_to_data": "the inputs of both workflows",
    "fct_count_jobs": "slurm and distiller_db inputs",
    "queue_time_daily": "slurm and distiller_db inputs",
    "queue_time_stats": "slurm and distiller_db inputs",
    "fct_offload_scans": "rec_status and ncem_data_files inputs",
    "offload_by_size": "rec_status and ncem_data_files inputs",
    "fct_streaming_scans": "rec_status and nersc_counted_files inputs",
    "save_overhead_by_size": "a stempy_log input",
    "source_coverage": "any input",
    "weekly_trends": "the inputs of both workflows, or slurm and distiller_db inputs",
    "service_level_status": "the inputs of both workflows, or slurm and distiller_db inputs",
    "transfer_model": "the inputs of both workflows",
    "transfer_predictions": "the inputs of both workflows",
}


@dataclass
class ReportData:
    """The marts as DataFrames (empty frames for marts that are missing or empty)."""

    marts: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    build: BuildTests | None = None

    def __getitem__(self, mart: str) -> pd.DataFrame:
        return self.marts.get(mart, pd.DataFrame())

    def empty_marts(self) -> list[str]:
        """Marts that are missing or hold no row."""
        return [mart for mart in MARTS if mart in self.missing or self[mart].empty]


def read_marts(warehouse: Path) -> ReportData:
    """Every mart the report shows, over one read-only connection closed before returning."""
    data = ReportData()
    if not warehouse.exists():
        data.missing = list(MARTS)
        return data
    con = connect(warehouse, read_only=True)
    try:
        present = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        for mart in MARTS:
            if mart in present:
                data.marts[mart] = con.execute(f"select * from marts.{mart}").df()
            else:
                data.missing.append(mart)
    finally:
        con.close()
    return data


@dataclass
class BuildTests:
    """The last build's tests: counts by status, the failing or warning ones (status, name,
    failing rows), and when it ran."""

    counts: dict[str, int]
    problems: list[tuple[str, str, int]]
    generated_at: str | None


def read_build_results(path: Path) -> BuildTests | None:
    """Counts of the last `dbt build`'s tests by status, and the failing or warning tests."""
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or cut short by an older version on a full disk
        return None
    if not isinstance(results, dict):
        return None
    tests = [
        node
        for node in results.get("results", [])
        if str(node.get("unique_id", "")).startswith(("test.", "unit_test."))
    ]
    counts = {"pass": 0, "warn": 0, "fail": 0, "error": 0, "skipped": 0}
    problems: list[tuple[str, str, int]] = []
    for node in tests:
        status = str(node.get("status"))
        counts[status] = counts.get(status, 0) + 1
        if status in ("warn", "fail", "error"):
            name = str(node["unique_id"]).split(".")[2]
            problems.append((status, name, int(node.get("failures") or 0)))
    generated = results.get("metadata", {}).get("generated_at")
    return BuildTests(counts, problems, None if generated is None else str(generated))
