"""The `turnaround` command line: help, exit codes, messages, shell, lock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TURNAROUND, Built, refresh, turnaround

COMMANDS = ("load", "build", "refresh", "demo", "shell")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    done = turnaround(command, "--help")
    assert done.returncode == 0
    assert f"usage: turnaround {command}" in done.stdout


def test_no_command_is_a_usage_error() -> None:
    done = turnaround()
    assert done.returncode == 2
    assert "usage: turnaround" in done.stderr


def test_missing_config_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    done = turnaround("load", "--config", str(missing))
    assert done.returncode == 2
    assert str(missing) in done.stderr and "not found" in done.stderr
    assert "Traceback" not in done.stderr


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _config(folder: Path, inputs: str) -> Path:
    return _write(
        folder / "turnaround.toml",
        'warehouse = "warehouse.duckdb"\ntimezone = "America/Los_Angeles"\n\n' + inputs,
    )


SACCT_INPUT = '[[inputs]]\nsource = "slurm"\nformat = "sacct"\npaths = ["slurm/*.txt"]\n'
GOOD_SACCT = (
    "distiller-count-1|101|00:30:00|00:01:00|2023-05-01T10:00:00|2023-05-01T10:00:05|"
    "2023-05-01T10:01:05|4|realtime_m1|dstlr|0:0\n"
)


def test_strict_load_of_a_malformed_record_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    config = _config(tmp_path, SACCT_INPUT)
    bad = _write(tmp_path / "slurm" / "w1.txt", GOOD_SACCT + "distiller-count-2|102|oops\n")
    done = turnaround("load", "--strict", "--config", str(config))
    assert done.returncode == 2
    assert f"{bad}:2: expected 11 fields, found 3" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_a_malformed_record_is_set_aside_and_the_rest_loads(tmp_path: Path) -> None:
    config = _config(tmp_path, SACCT_INPUT)
    bad = _write(tmp_path / "slurm" / "w1.txt", GOOD_SACCT + "distiller-count-2|102|oops\n")
    done = turnaround("load", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "1 records rejected" in done.stdout
    assert "rejected      1  slurm: expected N fields, found N" in done.stdout
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select job_id from raw.slurm").fetchall() == [("101",)]
        assert con.execute(
            "select source, file_path, line_number, reason, raw_text from raw.rejected_records"
        ).fetchall() == [
            (
                "slurm",
                str(bad.relative_to(tmp_path)),
                2,
                "expected 11 fields, found 3",
                "distiller-count-2|102|oops",
            )
        ]
    finally:
        con.close()


def test_load_twice_changes_no_row_count(tmp_path: Path) -> None:
    config = _config(tmp_path, SACCT_INPUT)
    _write(tmp_path / "slurm" / "w1.txt", GOOD_SACCT)
    assert turnaround("load", "--config", str(config)).returncode == 0
    second = turnaround("load", "--config", str(config))
    assert second.returncode == 0
    assert "0 new, 0 changed, 1 unchanged files; 0 rows" in second.stdout
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from raw.slurm").fetchone() == (1,)
        assert con.execute("select count(*) from raw.loads").fetchone() == (1,)
    finally:
        con.close()


NEGATIVE_LATENCY_INPUTS = """\
[[inputs]]
source = "rec_status"
format = "csv"
paths = ["ncem/created.csv"]

[[inputs]]
source = "nersc_counted_files"
format = "csv"
paths = ["nersc/scan_times.csv"]
"""


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path: Path) -> None:
    # `turnaround load | head -0`: the pipe is closed before the summary is written
    config = _config(tmp_path, SACCT_INPUT)
    _write(tmp_path / "slurm" / "w1.txt", GOOD_SACCT)
    process = subprocess.Popen(
        [TURNAROUND, "load", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait() == 141  # what a shell reports for a command SIGPIPE ended
    assert errors == ""
    # the load had committed before it wrote its summary
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select job_id from raw.slurm").fetchall() == [("101",)]
    finally:
        con.close()


def test_refresh_exits_1_when_an_error_test_fails(tmp_path: Path) -> None:
    config = _config(tmp_path, NEGATIVE_LATENCY_INPUTS)
    t = "2023-10-13T16:45:09+00:00"
    _write(
        tmp_path / "ncem" / "created.csv",
        f"scan_number,time0,time1,time2,time3\n2709,{t},{t},{t},{t}\n",
    )
    # counted at NERSC 9 s before the receivers saw the scan: a clock error
    _write(
        tmp_path / "nersc" / "scan_times.csv",
        "distiller_id,scan_number,datetime\n02209,2709,2023-10-13 09:45:00\n",
    )
    built = refresh(config)
    assert built.exit_code == 1, built.output
    assert "streaming_latency_not_negative" in built.output
    assert built.query("select latency_s from marts.fct_streaming_scans") == [(-9.0,)]


def test_shell_opens_the_warehouse_read_only(published: Built) -> None:
    done = turnaround(
        "shell",
        "--config",
        str(published.config),
        stdin="select count(*) as jobs from marts.fct_count_jobs;\n",
    )
    assert done.returncode == 0, done.stderr
    assert "2268" in done.stdout
    write = turnaround(
        "shell", "--config", str(published.config), stdin="create table raw.x (a integer);\n"
    )
    assert "read-only" in (write.stdout + write.stderr).lower()


def test_shell_without_warehouse_says_what_to_run(tmp_path: Path) -> None:
    config = _config(tmp_path, SACCT_INPUT)
    done = turnaround("shell", "--config", str(config))
    assert done.returncode == 2
    assert "turnaround refresh" in done.stderr


def test_build_passes_arguments_to_dbt(published: Built) -> None:
    done = turnaround("build", "--config", str(published.config), "--select", "stg_stempy__runs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dbt build:" in done.stdout
    assert "view model staging.stg_stempy__runs" in done.stdout
    assert "model marts.fct_count_jobs" not in done.stdout


@pytest.mark.parametrize("scale", ["0", "1000"])
def test_demo_scale_out_of_range_is_a_usage_error(tmp_path: Path, scale: str) -> None:
    done = turnaround("demo", "--out", str(tmp_path / "d"), "--scale", scale)
    assert done.returncode == 2
    assert "--scale must be between 1 and" in done.stderr
    assert not (tmp_path / "d").exists()


def test_refresh_of_an_empty_warehouse_says_there_is_no_data(tmp_path: Path) -> None:
    built = refresh(_config(tmp_path, ""))
    assert built.exit_code == 0, built.output
    assert "(no scan size has data yet)" in built.output
    assert built.query("select count(*) from marts.transfer_comparison") == [(0,)]


@pytest.mark.parametrize(
    "command", [["load"], ["build"], ["refresh"], ["report"], ["docs"], ["shell"]]
)
def test_every_command_says_when_another_process_holds_the_warehouse(
    tmp_path: Path, command: list[str]
) -> None:
    config = _config(tmp_path, SACCT_INPUT)
    _write(tmp_path / "slurm" / "w1.txt", GOOD_SACCT)
    assert turnaround("load", "--config", str(config)).returncode == 0
    # a writer in another process (an open read-write shell, a running build)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(tmp_path / "warehouse.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        done = turnaround(*command, "--config", str(config))
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert "is in use by process" in message and f"process {holder.pid}" in message
    assert "close it or wait for it to finish" in message
    assert "Traceback" not in done.stderr


def test_an_unwritable_output_is_an_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    done = turnaround("demo", "--out", str(blocker / "demo"))
    assert done.returncode == 2
    assert str(blocker / "demo") in done.stderr or str(blocker) in done.stderr
    assert "Traceback" not in done.stderr


def test_user_vars_are_merged_with_the_configured_zone(tmp_path: Path) -> None:
    from loaders.config import load_config
    from turnaround.dbt import merge_vars

    config = load_config(_write(tmp_path / "t.toml", 'timezone = "Europe/Berlin"\n'))
    merged, rest = merge_vars(config, ["--select", "marts", "--vars", "{count_job_req_nodes: 1}"])
    assert json.loads(merged) == {"timezone": "Europe/Berlin", "count_job_req_nodes": 1}
    assert rest == ["--select", "marts"]


def test_refresh_exits_1_on_an_implausible_latency(tmp_path: Path) -> None:
    config = _config(tmp_path, NEGATIVE_LATENCY_INPUTS)
    t = "2023-10-13T16:45:09+00:00"
    _write(
        tmp_path / "ncem" / "created.csv",
        f"scan_number,time0,time1,time2,time3\n2709,{t},{t},{t},{t}\n",
    )
    # a 128 x 128 scan on the supercomputer 10 minutes after acquisition: beyond plausible_times
    _write(
        tmp_path / "nersc" / "scan_times.csv",
        "distiller_id,scan_number,datetime\n02209,2709,2023-10-13 09:55:09\n",
    )
    built = refresh(config)
    assert built.exit_code == 1, built.output
    assert "streaming_latency_implausible" in built.output
    assert "streaming_latency_not_negative" not in built.output
