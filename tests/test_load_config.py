"""The config file (turnaround.toml): its errors, how paths resolve, globs matching nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import ConfigError, load, load_config
from tests.helpers import JOB, make_config, query, raw_rows, sacct, toml_text, write

# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "not found"),
        ('warehouse = "w.duckdb\n[[inputs]\n', "invalid TOML"),
        (toml_text([("slurmm", "sacct", ["x"])]), "'slurmm'"),
        (toml_text([("slurm", "json", ["x"])]), "format 'json'"),
        (toml_text([("distiller_db", "sacct", ["x"])]), "format 'sacct'"),
        (toml_text([], timezone="Mars/Olympus"), "unknown timezone 'Mars/Olympus'"),
    ],
    ids=[
        "missing",
        "bad-toml",
        "unknown-source",
        "unknown-format",
        "format-of-another-source",
        "bad-tz",
    ],
)
def test_config_errors_name_the_file(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "turnaround.toml"
    if text is not None:
        write(path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in caught.value.message


def test_relative_warehouse_and_globs_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "project"
    data = write(folder / "slurm" / "jobs.txt", sacct(JOB))
    write(
        folder / "turnaround.toml",
        toml_text([("slurm", "sacct", ["slurm/*.txt"])], warehouse="db/w.duckdb"),
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path("..") / "project" / "turnaround.toml")
    assert config.warehouse == folder.resolve() / "db" / "w.duckdb"
    assert config.path == (folder / "turnaround.toml").resolve()
    assert config.timezone == "America/Los_Angeles"
    load(config)
    assert (folder / "db" / "w.duckdb").is_file()
    assert not (elsewhere / "db").exists()
    assert raw_rows(config, "slurm") == [(str(data), 2, *JOB)]


def test_absolute_warehouse_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "warehouses" / "abs.duckdb"
    config = make_config(tmp_path / "cfg", [], warehouse=str(target))
    assert config.warehouse == target
    assert config.inputs == ()


def test_glob_matching_nothing_is_reported_unmatched(tmp_path: Path) -> None:
    write(tmp_path / "slurm" / "jobs.txt", sacct(JOB))
    config = make_config(
        tmp_path,
        [("slurm", "sacct", ["slurm/*.txt"]), ("distiller_db", "csv", ["distiller/*.csv"])],
    )
    summary = load(config)
    assert summary.unmatched == ["distiller_db: distiller/*.csv"]
    assert summary.sources["slurm"].files_new == 1
    assert query(config, "select count(*) from raw.distiller_db") == [(0,)]


def test_each_glob_matching_nothing_is_reported_even_beside_one_that_matches(
    tmp_path: Path,
) -> None:
    write(tmp_path / "slurm" / "jobs.txt", sacct(JOB))
    config = make_config(tmp_path, [("slurm", "sacct", ["slurm/*.txt", "slurm_typo/*.txt"])])
    summary = load(config)
    assert summary.sources["slurm"].files_new == 1
    assert summary.unmatched == ["slurm: slurm_typo/*.txt"]


def test_load_of_unknown_source_is_a_config_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, [])
    with pytest.raises(ConfigError) as caught:
        load(config, ["bogus"])
    assert caught.value.path == str(config.path)
    assert "'bogus'" in caught.value.message
