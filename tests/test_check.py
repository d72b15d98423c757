"""`turnaround check` on marts written here by hand (no dbt): the lines, the exit codes, the
freshness judged at check time, and the JSON document against its schema."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import jsonschema
import pytest

from tests.conftest import turnaround
from turnaround.check import SCHEMA

LEVELS = """
create table marts.service_level_status (
    level_id varchar, workflow varchar, scan_size integer, measure varchar, statistic varchar,
    max_s double, window_days integer, severity varchar, description varchar,
    window_start_date date, window_end_date date, n bigint, measured_s double, status varchar
)
"""
FRESHNESS = """
create table marts.source_freshness (
    source_name varchar, newest_record_at timestamptz, max_age_days integer, severity varchar
)
"""
TRENDS = """
create table marts.weekly_trends (
    measure varchar, week_start_date date, iso_week varchar, workflow varchar,
    scan_size integer, n bigint, mean_s double, p50_s double, p90_s double, p99_s double,
    baseline_weeks integer, baseline_p90_s double, baseline_mad_s double, is_flagged boolean,
    flag_reason varchar
)
"""
MET = (
    "streaming_1024_p90", "streaming", 1024, "time_to_data", "p90", 150.0, 30, "error",
    "streamed 1024 scans within 150 s", "2023-09-17", "2023-10-16", 12, 101.5, "met",
)  # fmt: skip
BREACHED = (
    "file_transfer_p90", "file_transfer", None, "time_to_data", "p90", 300.0, 30, "error",
    "file transfer within 5 minutes", "2023-09-17", "2023-10-16", 40, 512.25, "breached",
)  # fmt: skip
WARNED = (
    "queue_p90", "count_job", None, "queue_time", "p90", 60.0, 30, "warn",
    "counting jobs start within a minute", "2023-09-17", "2023-10-16", 300, 75.0, "breached",
)  # fmt: skip
EMPTY = (
    "streaming_2048_p90", "streaming", 2048, "time_to_data", "p90", 400.0, 30, "error",
    "2048 scans within 400 s", None, None, 0, None, "no data",
)  # fmt: skip
FLAGGED = (
    "time_to_data", "2023-10-09", "2023-W41", "file_transfer", 512, 6, 300.0, 250.0, 290.0,
    299.0, 8, 140.0, 10.0, True, "p90 2.1 × the baseline's",
)  # fmt: skip
OLD_FLAG = (
    "time_to_data", "2023-01-02", "2023-W01", "file_transfer", 512, 6, 300.0, 250.0, 290.0,
    299.0, 8, 140.0, 10.0, True, "p90 2.1 × the baseline's",
)  # fmt: skip


def marks(n: int) -> str:
    return ", ".join(["?"] * n)


def warehouse(folder: Path, levels: list[tuple[object, ...]], newest: str | None) -> Path:
    """A config and a warehouse holding the three marts `check` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "turnaround.toml").write_text('warehouse = "w.duckdb"\n', encoding="utf-8")
    con = duckdb.connect(str(folder / "w.duckdb"))
    try:
        con.execute("create schema marts")
        for ddl in (LEVELS, FRESHNESS, TRENDS):
            con.execute(ddl)
        if levels:
            con.executemany(f"insert into marts.service_level_status values ({marks(14)})", levels)
        con.execute(
            "insert into marts.source_freshness values ('slurm', ?::timestamptz, 7, 'error'), "
            "('stempy_log', null, 30, 'warn')",
            [newest],
        )
        con.executemany(
            f"insert into marts.weekly_trends values ({marks(15)})", [FLAGGED, OLD_FLAG]
        )
    finally:
        con.close()
    return folder / "turnaround.toml"


def check(config: Path, *args: str) -> tuple[int, str, str]:
    done = turnaround("check", "--config", str(config), *args)
    return done.returncode, done.stdout, done.stderr


def test_all_met_or_without_data_and_fresh_exits_0(tmp_path: Path) -> None:
    config = warehouse(tmp_path, [MET, EMPTY, WARNED], "2023-10-16T09:00:00+00:00")
    code, out, err = check(config, "--as-of", "2023-10-20")
    assert code == 0, out + err
    lines = out.splitlines()
    # levels by id
    assert lines[0].startswith("breached  warn  queue_p90")  # a warn level does not fail
    assert lines[1].startswith("met       error streaming_1024_p90: streaming 1024 × 1024")
    assert "101.5 s ≤ 150 s promised (30 days to 2023-10-16, n=12)" in lines[1]
    assert "no samples, 400 s promised" in lines[2]
    assert lines[3].startswith("fresh     error source slurm: newest record 2023-10-16")
    assert lines[4].startswith("no data   warn  source stempy_log: no records")
    # only the flagged week within the last window is named, not January's
    assert [line for line in lines if line.startswith("flagged")] == [
        "flagged         week 2023-W41: file transfer 512 × 512 time to data p90 290.0 s vs "
        "140.0 s before (p90 2.1 × the baseline's; n=6)"
    ]
    assert lines[-1].endswith("every level met or without data")


def test_a_breached_error_level_exits_1_naming_it(tmp_path: Path) -> None:
    config = warehouse(tmp_path, [MET, BREACHED], "2023-10-16T09:00:00+00:00")
    code, out, _ = check(config, "--as-of", "2023-10-17T00:00:00+00:00")
    assert code == 1
    assert "breached  error file_transfer_p90: file transfer all sizes time to data p90: " in out
    assert "512.2 s > 300 s promised" in out
    assert out.splitlines()[-1].endswith(": level file_transfer_p90 breached")


def test_a_source_older_than_its_age_is_stale_at_check_time(tmp_path: Path) -> None:
    config = warehouse(tmp_path, [MET], "2023-10-16T09:00:00+00:00")
    assert check(config, "--as-of", "2023-10-23T08:59:00+00:00")[0] == 0  # 6.99 days
    code, out, _ = check(config, "--as-of", "2023-10-23T09:01:00+00:00")
    assert code == 1
    assert (
        "stale     error source slurm: newest record 2023-10-16T09:00:00+00:00, 7.0 days old" in out
    )
    assert out.splitlines()[-1].endswith(": source slurm stale")


def test_json_is_one_document_valid_against_the_schema(tmp_path: Path) -> None:
    config = warehouse(tmp_path, [MET, BREACHED, EMPTY, WARNED], "2023-10-16T09:00:00+00:00")
    code, out, _ = check(config, "--json", "--as-of", "2023-10-20")
    assert code == 1
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert document["status"] == "failing" and document["exit_code"] == 1
    assert document["failures"] == ["level file_transfer_p90 breached"]
    assert [level["status"] for level in document["levels"]] == [
        "breached", "breached", "met", "no data"
    ]  # fmt: skip
    assert document["flagged_weeks"][0]["iso_week"] == "2023-W41"


def test_the_schema_refuses_a_document_that_breaks_it(tmp_path: Path) -> None:
    config = warehouse(tmp_path, [MET], "2023-10-16T09:00:00+00:00")
    document = json.loads(check(config, "--json")[1])
    document["levels"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_without_the_marts_it_says_to_refresh(tmp_path: Path) -> None:
    (tmp_path / "turnaround.toml").write_text('warehouse = "w.duckdb"\n', encoding="utf-8")
    duckdb.connect(str(tmp_path / "w.duckdb")).close()
    code, _, err = check(tmp_path / "turnaround.toml")
    assert code == 2
    assert "run `turnaround refresh`" in err and "Traceback" not in err


def test_an_unreadable_as_of_is_a_usage_error(tmp_path: Path) -> None:
    config = warehouse(tmp_path, [MET], None)
    code, _, err = check(config, "--as-of", "yesterday")
    assert code == 2
    assert "--as-of 'yesterday' is not a date" in err
