"""Small native inputs through load and dbt: time zones, offsets, steps and repeats in staging."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Built, refresh

CONFIG = """\
warehouse = "warehouse.duckdb"
timezone = "America/Los_Angeles"

[[inputs]]
source = "slurm"
format = "sacct"
paths = ["slurm/*.txt"]

[[inputs]]
source = "distiller_db"
format = "csv"
paths = ["distiller/*.csv"]

[[inputs]]
source = "rec_status"
format = "json"
paths = ["rec/**/*.json"]

[[inputs]]
source = "nersc_counted_files"
format = "stat"
paths = ["nersc.txt"]
"""

HEADER = "JobName|JobID|Timelimit|Elapsed|Submit|Start|End|ReqNodes|QOS|User|ExitCode\n"
# submitted a minute before the spring-forward gap (2023-03-12 02:00 PST -> 03:00 PDT), started
# a minute after it: a 120 s wait, not the naive 3720 s
DST_JOB = (
    "distiller-count-1|500|00:30:00|00:01:00|2023-03-12T01:59:00|2023-03-12T03:01:00|"
    "2023-03-12T03:02:00|4|realtime_m1|dstlr|0:0\n"
)
# a job seen in two windows: still running in the first, finished in the second
RUNNING = (
    "distiller-count-2|501|00:30:00|00:05:00|2023-11-06T00:50:00|2023-11-06T00:50:10|"
    "Unknown|4|realtime_m1|dstlr|0:0\n"
)
FINISHED = (
    "distiller-count-2|501|00:30:00|00:20:00|2023-11-06T00:50:00|2023-11-06T00:50:10|"
    "2023-11-06T01:10:10|4|realtime_m1|dstlr|0:0\n"
)
STEPS = (
    "batch|500.batch||00:01:00|2023-03-12T03:01:00|2023-03-12T03:01:00|2023-03-12T03:02:00|4|||0:0\n"
    "extern|500.extern||00:01:00|2023-03-12T03:01:00|2023-03-12T03:01:00|2023-03-12T03:02:00|4|||0:0\n"
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("small")
    _write(root / "turnaround.toml", CONFIG)
    _write(root / "slurm" / "w1.txt", HEADER + DST_JOB + STEPS + RUNNING)
    _write(root / "slurm" / "w2.txt", FINISHED)  # --noheader
    _write(
        root / "distiller" / "128_128.csv", "id,slurm_id,elapsed\n7,500,00:01:01\n8,501,00:20:02\n"
    )
    # scan 2709 (a streaming experiment) as seen by the four receivers, in three spellings
    stamps = [
        "2023-10-13T16:45:09Z",
        "2023-10-13T09:45:10-07:00",
        "2023-10-13T16:45:11+00:00",
        "2023-10-13T16:45:12+0000",
    ]
    for receiver, stamp in enumerate(stamps):
        _write(
            root / "rec" / "day1" / f"4dstem_rec_status_{receiver}_scan_2709.json",
            f'{{"time": "{stamp}", "last_scan_number": 2709, "progress": 1.0, "UUID": "u1"}}',
        )
    _write(
        root / "nersc.txt",
        "/counted/FOURD_231013_0945_02209_02709.h5|2023-10-13 09:45:13.500000000 -0700\n"
        "/counted/FOURD_231013_0946_00000_02710.h5|1697215573\n"
        "/counted/notes.txt|1697215573\n",
    )
    return refresh(root / "turnaround.toml")


def test_refresh_succeeds(small: Built) -> None:
    assert small.exit_code == 0, small.output


def test_dst_crossing_naive_times_become_utc(small: Built) -> None:
    rows = small.query(
        """
        select strftime(submitted_at, '%Y-%m-%d %H:%M:%S'), strftime(started_at, '%H:%M:%S'),
            queue_time_s, elapsed_s, distiller_elapsed_s
        from marts.fct_count_jobs where job_id = 500
        """
    )
    assert rows == [("2023-03-12 09:59:00", "10:01:00", 120, 60, 61.0)]


def test_steps_dropped_and_the_finished_record_kept(small: Built) -> None:
    rows = small.query(
        "select job_id, elapsed_s, strftime(ended_at, '%H:%M:%S') from staging.stg_slurm__jobs"
        " order by job_id"
    )
    # 2023-11-06 01:10:10 PST is 09:10:10 UTC
    assert rows == [("500", 60, "10:02:00"), ("501", 1200, "09:10:10")]


def test_offsets_z_and_numeric_give_the_same_instants(small: Built) -> None:
    rows = small.query(
        "select receiver, strftime(status_at, '%H:%M:%S') from staging.stg_ncem__receiver_statuses"
        " order by receiver"
    )
    assert rows == [(0, "16:45:09"), (1, "16:45:10"), (2, "16:45:11"), (3, "16:45:12")]


def test_streaming_latency_from_first_receiver_to_counted_file(small: Built) -> None:
    rows = small.query(
        "select scan_number, distiller_id, scan_size, latency_s from marts.fct_streaming_scans"
    )
    assert rows == [(2709, 2209, 128, 4.5)]


AUTUMN_JOB = (
    "distiller-count-3|502|00:30:00|00:20:00|2023-11-05T00:50:00|2023-11-05T00:50:10|"
    "2023-11-05T01:10:10|4|realtime_m1|dstlr|0:0\n"
)


def test_another_facility_zone_is_honoured(tmp_path: Path) -> None:
    _write(tmp_path / "turnaround.toml", CONFIG.replace("America/Los_Angeles", "Europe/Berlin"))
    _write(tmp_path / "slurm" / "w1.txt", HEADER + DST_JOB)
    _write(tmp_path / "distiller" / "128_128.csv", "id,slurm_id,elapsed\n7,500,00:01:01\n")
    built = refresh(tmp_path / "turnaround.toml")
    assert built.exit_code == 0, built.output
    # 2023-03-12 is still winter time in Berlin (UTC+1): 01:59 -> 00:59 UTC, no gap to cross
    assert built.query(
        "select strftime(submitted_at, '%H:%M'), queue_time_s from marts.fct_count_jobs"
    ) == [("00:59", 3720)]


def test_the_repeated_autumn_hour_is_read_as_standard_time(tmp_path: Path) -> None:
    _write(tmp_path / "turnaround.toml", CONFIG)
    _write(tmp_path / "slurm" / "w1.txt", HEADER + AUTUMN_JOB)
    built = refresh(tmp_path / "turnaround.toml")
    assert built.exit_code == 0, built.output
    # 00:50:10 PDT = 07:50:10 UTC; the ambiguous 01:10:10 is taken as PST = 09:10:10 UTC
    assert built.query(
        "select strftime(started_at, '%H:%M:%S'), strftime(ended_at, '%H:%M:%S'), elapsed_s"
        " from staging.stg_slurm__jobs"
    ) == [("07:50:10", "09:10:10", 1200)]


RESET_CONFIG = """\
warehouse = "warehouse.duckdb"
timezone = "America/Los_Angeles"

[[inputs]]
source = "rec_status"
format = "csv"
paths = ["receivers.csv"]

[[inputs]]
source = "ncem_data_files"
format = "stat"
paths = ["data_files.txt"]

[[inputs]]
source = "nersc_counted_files"
format = "stat"
paths = ["counted.txt"]
"""


def _wide(scan: int, stamp: str) -> str:
    return f"{scan},{stamp},{stamp},{stamp},{stamp}\n"


def test_a_scan_counter_reset_inside_one_input_never_joins_across(tmp_path: Path) -> None:
    _write(tmp_path / "turnaround.toml", RESET_CONFIG)
    # one receivers' extract: scans 4860 (offload experiment) and 2709 (streaming experiment),
    # each seen again weeks later after the counter was reset
    _write(
        tmp_path / "receivers.csv",
        "scan_number,time0,time1,time2,time3\n"
        + _wide(4860, "2023-10-16T15:00:00+00:00")
        + _wide(2709, "2023-10-13T16:45:09+00:00")
        + _wide(4860, "2023-12-01T18:00:00+00:00")
        + _wide(2709, "2024-01-05T18:00:00+00:00"),
    )
    _write(
        tmp_path / "data_files.txt",
        "/d/data_scan0000004860_00.data|1697468403\n"  # 2023-10-16 15:00:03 UTC: 3 s
        "/d/data_scan0000004860_01.data|1701453900\n",  # 2023-12-01 18:05:00 UTC: the reset
    )
    _write(
        tmp_path / "counted.txt",
        "/c/FOURD_231013_0945_02209_02709.h5|1697215513\n"  # 2023-10-13 16:45:13 UTC: 4 s
        "/c/FOURD_240105_1000_09999_02709.h5|1704477900\n",  # 2024-01-05 18:05:00 UTC
    )
    built = refresh(tmp_path / "turnaround.toml")
    assert built.exit_code == 0, built.output
    assert built.query(
        "select acquisition_key, n_receivers from staging.int_receiver_scans_summarised"
        " order by acquisition_key"
    ) == [("2709/1", 4), ("2709/2", 4), ("4860/1", 4), ("4860/2", 4)]
    assert built.query("select scan_number, offload_s from marts.fct_offload_scans") == [
        (4860, 3.0)
    ]
    assert built.query(
        "select scan_number, distiller_id, latency_s from marts.fct_streaming_scans"
    ) == [(2709, 2209, 4.0)]
