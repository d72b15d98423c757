"""How an input's globs find files: `**`, absolute paths, a file matched twice."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from loaders import load
from loaders.globs import resolve_hits
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


def test_listed_globs_find_what_glob_finds(tmp_path: Path) -> None:
    """The usual forms are listed with scandir (loaders.globs._scan): the same regular files,
    as real paths, as glob.glob finds, through links, past hidden names and folders."""
    root = tmp_path / "in"
    for name in ("a/s_1.json", "a/b/s_2.json", "s_3.json", ".h/s_4.json", "a/.s_5.json", "x.json"):
        write(root / name, "{}")
    write(tmp_path / "out/s_6.json", "{}")
    (root / "a/s_7.json").mkdir()  # a folder with a file's name
    links = {
        "a/s_8.json": tmp_path / "out/s_6.json",  # to a file outside
        "b/s_9.json": root / "s_3.json",  # to a file found anyway
        "c": root / "a",  # to a folder inside: its files again
        "d": tmp_path / "out",  # to a folder outside
        "s_10.json": tmp_path / "gone.json",  # dangling
    }
    for name, target in links.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / name)
    for pattern in ("**/s_*.json", "s_*.json", "a/s_*.json", "**/s_?.json", "**/*"):
        full = f"{root}/{pattern}"
        found = {os.path.realpath(hit) for hit in glob.glob(full, recursive=True)}
        expected = sorted(path for path in found if os.path.isfile(path))
        assert resolve_hits("json", (full,), str).paths == expected, pattern
