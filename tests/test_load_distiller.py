"""The Distiller database export (distiller_db csv) into exact raw rows."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import load_only, raw_rows

# --------------------------------------------------------------------------- formats: distiller


def test_distiller_csv_takes_scan_size_from_name(tmp_path: Path) -> None:
    text = "id,slurm_id,elapsed\n101,8675309,00:01:02\n102,,\n103,8675310,1 day 02:03:04.5\n"
    config = load_only(tmp_path, "distiller_db", "csv", {"1024_512.csv": text})
    src = str((tmp_path / "in" / "1024_512.csv").resolve())
    assert raw_rows(config, "distiller_db") == [
        (src, 2, "101", "8675309", "00:01:02", "1024", "512"),
        (src, 3, "102", "", "", "1024", "512"),
        (src, 4, "103", "8675310", "1 day 02:03:04.5", "1024", "512"),
    ]
