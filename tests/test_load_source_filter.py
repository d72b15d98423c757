"""`load(config, sources)`: loading only the named sources."""

from __future__ import annotations

from pathlib import Path

from loaders import LoadSummary, load
from tests.helpers import JOB, as_path, make_config, query, raw_rows, sacct, write

# --------------------------------------------------------------------------- source filter


def test_load_only_named_sources(tmp_path: Path) -> None:
    jobs = write(tmp_path / "slurm" / "jobs.txt", sacct(JOB))
    scans = write(tmp_path / "distiller" / "128_128.csv", "id,slurm_id,elapsed\n7,9001,\n")
    config = make_config(
        tmp_path,
        [("slurm", "sacct", ["slurm/*.txt"]), ("distiller_db", "csv", ["distiller/*.csv"])],
    )
    summary: LoadSummary = load(config, ["slurm"])
    assert set(summary.sources) == {"slurm"}
    assert raw_rows(config, "slurm") == [(str(jobs), 2, *JOB)]
    assert query(config, "select count(*) from raw.distiller_db") == [(0,)]
    assert query(config, f"select source, {as_path(config, 'path')} from raw.loads") == [
        ("slurm", str(jobs))
    ]
    summary = load(config)
    assert summary.sources["slurm"].files_unchanged == 1
    assert summary.sources["distiller_db"].files_new == 1
    assert raw_rows(config, "distiller_db") == [(str(scans), 2, "7", "9001", "", "128", "128")]
