"""How an input's globs find files: `**`, absolute paths, a file matched twice."""

from __future__ import annotations

from pathlib import Path

from loaders import load
from tests.helpers import JOB, PENDING, make_config, query, raw_rows, sacct, write

# --------------------------------------------------------------------------- globs


def test_double_star_glob_recurses(tmp_path: Path) -> None:
    top = write(tmp_path / "slurm" / "top.txt", sacct(JOB))
    deep = write(tmp_path / "slurm" / "a" / "b" / "deep.txt", sacct(PENDING, header=False))
    write(tmp_path / "slurm" / "a" / "ignored.csv", "not sacct")
    config = make_config(tmp_path, [("slurm", "sacct", ["slurm/**/*.txt"])])
    summary = load(config)
    assert raw_rows(config, "slurm") == sorted([(str(top), 2, *JOB), (str(deep), 1, *PENDING)])
    assert summary.sources["slurm"].files_new == 2


def test_absolute_path_glob(tmp_path: Path) -> None:
    data = write(tmp_path / "elsewhere" / "jobs.txt", sacct(JOB))
    config = make_config(tmp_path / "cfg", [("slurm", "sacct", [f"{data.parent}/*.txt"])])
    load(config)
    assert raw_rows(config, "slurm") == [(str(data), 2, *JOB)]


def test_file_matched_by_two_globs_loads_once(tmp_path: Path) -> None:
    data = write(tmp_path / "slurm" / "jobs.txt", sacct(JOB))
    config = make_config(tmp_path, [("slurm", "sacct", ["slurm/*.txt", "slurm/jobs.txt"])])
    summary = load(config)
    assert raw_rows(config, "slurm") == [(str(data), 2, *JOB)]
    assert summary.sources["slurm"].files_new == 1
    assert query(config, "select count(*) from raw.loads") == [(1,)]
