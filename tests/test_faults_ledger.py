"""The ledger and how an input is read: a file read one way and now configured another is
read again, so the warehouse never differs from a fresh load of the same config."""

from __future__ import annotations

import shutil
from contextlib import closing
from pathlib import Path

import duckdb

from loaders import load, load_config
from tests.helpers import query, toml_text, write

JOB = (
    "count|9001|00:30:00|00:01:02|2023-03-12T01:59:30|2023-03-12T02:00:00|2023-03-12T02:01:02"
    "|1|realtime|alice|0:0"
)
RAW = "select job_id, submit_time, _time_zone from raw.slurm order by all"


def config_with(folder: Path, extra: str) -> Path:
    text = toml_text([("slurm", "sacct", ["in/*.txt"])]) + extra
    return write(folder / "turnaround.toml", text)


def test_a_changed_input_zone_reads_its_files_again(tmp_path: Path) -> None:
    write(tmp_path / "site" / "in" / "jobs.txt", JOB + "\n")
    first = load_config(config_with(tmp_path / "site", 'timezone = "UTC"\n'))
    load(first)
    assert query(first, RAW) == [("9001", "2023-03-12T01:59:30", "UTC")]
    again = load_config(config_with(tmp_path / "site", 'timezone = "America/New_York"\n'))
    summary = load(again)
    assert summary.sources["slurm"].files_replaced == 1
    assert query(again, RAW) == [("9001", "2023-03-12T01:59:30", "America/New_York")]
    # the same as a fresh load of the new config
    write(tmp_path / "fresh" / "in" / "jobs.txt", JOB + "\n")
    fresh = load_config(config_with(tmp_path / "fresh", 'timezone = "America/New_York"\n'))
    load(fresh)
    assert query(fresh, RAW) == query(again, RAW)
    # and once read the new way, unchanged again
    assert load(again).sources["slurm"].files_unchanged == 1


def test_new_sacct_fields_read_the_files_again(tmp_path: Path) -> None:
    fields = "JobID,JobName,Timelimit,Elapsed,Submit,Start,End,ReqNodes,QOS,User,ExitCode"
    swapped = JOB.split("|")
    swapped[0], swapped[1] = swapped[1], swapped[0]
    write(tmp_path / "in" / "jobs.txt", "|".join(swapped) + "\n")
    before = load_config(config_with(tmp_path, ""))
    load(before)
    assert query(before, "select job_id from raw.slurm") == [("count",)]
    after = load_config(config_with(tmp_path, f'sacct_format = "{fields}"\n'))
    assert load(after).sources["slurm"].files_replaced == 1
    assert query(after, "select job_id, job_name from raw.slurm") == [("9001", "count")]


STATUS = '{{"time": "2023-10-16T15:30:4{r}Z", "last_scan_number": 7, "progress": 100}}'


def small_project(folder: Path) -> Path:
    """A project with its inputs inside its folder: a sacct file and four receiver statuses."""
    write(folder / "in" / "jobs.txt", JOB + "\n")
    for receiver in range(4):
        write(
            folder / "rec" / f"4dstem_rec_status_{receiver}_scan_7.json",
            STATUS.format(r=receiver),
        )
    text = toml_text([("slurm", "sacct", ["in/*.txt"]), ("rec_status", "json", ["rec/*.json"])])
    return write(folder / "turnaround.toml", text)


COUNTS = (
    "select (select count(*) from raw.slurm), (select count(*) from raw.rec_status), "
    "(select count(*) from raw.loads)"
)


def test_a_moved_project_keeps_its_ledger(tmp_path: Path) -> None:
    config = load_config(small_project(tmp_path / "here"))
    load(config)
    counts = query(config, COUNTS)
    assert counts == [(1, 4, 5)]
    assert query(config, "select distinct _source_file from raw.slurm") == [("in/jobs.txt",)]
    shutil.copytree(tmp_path / "here", tmp_path / "elsewhere", symlinks=True)  # as cp -a
    moved = load_config(tmp_path / "elsewhere" / "turnaround.toml")
    summary = load(moved)
    assert {s: (t.files_new, t.files_replaced) for s, t in summary.sources.items()} == {
        "slurm": (0, 0),
        "rec_status": (0, 0),
    }
    assert query(moved, COUNTS) == counts


def test_absolute_keys_of_an_earlier_version_become_relative(tmp_path: Path) -> None:
    config = load_config(small_project(tmp_path))
    load(config)
    folder = str(config.path.parent) + "/"
    with closing(duckdb.connect(str(config.warehouse))) as con:  # as an earlier version kept them
        con.execute("update raw.loads set path = ? || path", [folder])
        con.execute("update raw.slurm set _source_file = ? || _source_file", [folder])
        con.execute("update raw.rec_status set _source_file = ? || _source_file", [folder])
    summary = load(config)
    assert summary.sources["slurm"].files_unchanged == 1
    assert query(config, COUNTS) == [(1, 4, 5)]
    assert query(config, "select count(*) from raw.loads where path like '/%'") == [(0,)]
