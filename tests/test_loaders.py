"""The loaders: every source format into exact raw rows, the load ledger, failures, the config.

Each test writes its own small inputs under `tmp_path` and loads them into a fresh warehouse.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from loaders import Config, ConfigError, LoadError, LoadSummary, load, load_config
from loaders.sources import KINDS
from tests.helpers import Input, Row, make_config, query, toml_text, write

# --------------------------------------------------------------------------- helpers

TABLES = (*KINDS, "loads")


#: raw columns only some inputs fill (sacct's optional State; a database pull's job id and type)
OPTIONAL_COLUMNS = {"slurm": ("state",), "distiller_db": ("job_id", "job_type")}


def raw_rows(config: Config, source: str) -> list[Row]:
    """(_source_file, _record_number, value columns...) of a raw table, sorted; the columns
    only some inputs fill are left out (their own tests read them)."""
    optional = OPTIONAL_COLUMNS.get(source, ())
    columns = ", ".join(c for c in KINDS[source].columns if c not in optional)
    path = as_path(config, "_source_file")
    return query(config, f"select {path}, _record_number, {columns} from raw.{source} order by all")


def as_path(config: Config, column: str) -> str:
    """SQL giving a stored file key as an absolute path (keys of files in the config's folder
    are relative to it)."""
    folder = str(config.path.parent).replace("'", "''")
    return f"(case when {column} like '/%' then {column} else '{folder}/' || {column} end)"


def ledger(config: Config) -> list[Row]:
    """The ledger without its timestamps, sorted."""
    return query(
        config,
        f"select load_id, source, format, {as_path(config, 'path')}, size_bytes, sha256, rows, "
        "skipped, status, error from raw.loads order by all",
    )


def warehouse_state(config: Config) -> dict[str, list[Row]]:
    """Full contents of every raw table and of the ledger."""
    with closing(duckdb.connect(str(config.warehouse), read_only=True)) as con:
        return {
            table: con.execute(f"select * from raw.{table} order by all").fetchall()
            for table in TABLES
        }


def load_only(tmp_path: Path, source: str, fmt: str, files: dict[str, str | bytes]) -> Config:
    """Write `files` under tmp_path/in, load them as one input, return the config."""
    for name, content in files.items():
        write(tmp_path / "in" / name, content)
    config = make_config(tmp_path, [(source, fmt, ["in/*"])])
    load(config)
    return config


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- sample inputs

SACCT_FIELDS = (
    "JobName",
    "JobID",
    "Timelimit",
    "Elapsed",
    "Submit",
    "Start",
    "End",
    "ReqNodes",
    "QOS",
    "User",
    "ExitCode",
)
SACCT_HEADER = "|".join(SACCT_FIELDS)
JOB = (
    "count",
    "9001",
    "00:30:00",
    "00:01:02",
    "2023-03-12T01:59:30",
    "2023-03-12T02:00:00",
    "2023-03-12T02:01:02",
    "1",
    "realtime",
    "alice",
    "0:0",
)
BATCH = (
    "batch",
    "9001.batch",
    "",
    "00:01:02",
    "2023-03-12T02:00:00",
    "2023-03-12T02:00:00",
    "2023-03-12T02:01:02",
    "1",
    "",
    "",
    "0:0",
)
EXTERN = (
    "extern",
    "9001.extern",
    "",
    "00:01:03",
    "2023-03-12T02:00:00",
    "2023-03-12T02:00:00",
    "2023-03-12T02:01:03",
    "1",
    "",
    "",
    "0:0",
)
STEP = (
    "python",
    "9001.0",
    "",
    "00:00:59",
    "2023-03-12T02:00:01",
    "2023-03-12T02:00:01",
    "2023-03-12T02:01:00",
    "1",
    "",
    "",
    "0:0",
)
PENDING = (
    "zählung",
    "9002",
    "UNLIMITED",
    "00:00:00",
    "2023-03-12T03:00:00",
    "Unknown",
    "Unknown",
    "2",
    "debug",
    "bob",
    "0:0",
)
RUNNING = (
    "count",
    "9003",
    "Partition_Limit",
    "1-02:03:04",
    "2023-03-10T00:00:00",
    "2023-03-10T00:00:01",
    "None",
    "",
    "regular",
    "alice",
    "1:0",
)


def sacct(*rows: Sequence[str], header: bool = True, newline: str = "\n") -> str:
    """sacct --parsable2 text of `rows` (a row of one empty field is a blank line)."""
    lines = [SACCT_HEADER] if header else []
    lines += ["|".join(row) for row in rows]
    return newline.join(lines) + newline


def stat_listing(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


# --------------------------------------------------------------------------- 1. formats: slurm


def test_sacct_with_header_keeps_job_steps(tmp_path: Path) -> None:
    config = load_only(
        tmp_path, "slurm", "sacct", {"jobs.txt": sacct(JOB, BATCH, EXTERN, STEP, PENDING, RUNNING)}
    )
    src = str((tmp_path / "in" / "jobs.txt").resolve())
    assert raw_rows(config, "slurm") == [
        (src, 2, *JOB),
        (src, 3, *BATCH),
        (src, 4, *EXTERN),
        (src, 5, *STEP),
        (src, 6, *PENDING),
        (src, 7, *RUNNING),
    ]
    assert query(config, "select source, format, rows, skipped, status from raw.loads") == [
        ("slurm", "sacct", 6, 0, "loaded")
    ]


def test_sacct_without_header(tmp_path: Path) -> None:
    config = load_only(
        tmp_path, "slurm", "sacct", {"jobs.txt": sacct(JOB, BATCH, PENDING, header=False)}
    )
    src = str((tmp_path / "in" / "jobs.txt").resolve())
    assert raw_rows(config, "slurm") == [(src, 1, *JOB), (src, 2, *BATCH), (src, 3, *PENDING)]


@pytest.mark.parametrize(
    "order",
    [
        pytest.param([0, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1], id="jobname-first-rest-reversed"),
        pytest.param([1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10], id="jobid-first"),
        pytest.param(list(range(10, -1, -1)), id="fully-reversed"),
    ],
)
def test_sacct_header_in_another_column_order(tmp_path: Path, order: list[int]) -> None:
    text = "\n".join("|".join(fields[i] for i in order) for fields in (SACCT_FIELDS, JOB, PENDING))
    config = load_only(tmp_path, "slurm", "sacct", {"jobs.txt": text + "\n"})
    src = str((tmp_path / "in" / "jobs.txt").resolve())
    assert raw_rows(config, "slurm") == [(src, 2, *JOB), (src, 3, *PENDING)]


def test_sacct_header_with_an_extra_column(tmp_path: Path) -> None:
    text = f"{SACCT_HEADER}|State\n" + "|".join(JOB) + "|COMPLETED\n"
    config = load_only(tmp_path, "slurm", "sacct", {"jobs.txt": text})
    src = str((tmp_path / "in" / "jobs.txt").resolve())
    assert raw_rows(config, "slurm") == [(src, 2, *JOB)]


def states(config: Config) -> list[Row]:
    return query(config, "select job_id, state from raw.slurm order by _record_number")


@pytest.mark.parametrize("bar", ["", "|"], ids=["parsable2", "parsable"])
def test_sacct_state_is_read_where_the_header_names_it(tmp_path: Path, bar: str) -> None:
    fields = [*SACCT_FIELDS]
    fields.insert(3, "State")
    record = dict(zip(SACCT_FIELDS, JOB, strict=True)) | {"State": "CANCELLED by 0"}
    text = "|".join(fields) + bar + "\n" + "|".join(record[f] for f in fields) + bar + "\n"
    config = load_only(tmp_path, "slurm", "sacct", {"jobs.txt": text})
    src = str((tmp_path / "in" / "jobs.txt").resolve())
    assert raw_rows(config, "slurm") == [(src, 2, *JOB)]
    assert states(config) == [(JOB[1], "CANCELLED by 0")]


def test_sacct_format_names_the_order_of_headerless_lines(tmp_path: Path) -> None:
    fields = ["JobID", "State", *(f for f in SACCT_FIELDS if f != "JobID"), "NodeList"]
    record = dict(zip(SACCT_FIELDS, JOB, strict=True)) | {"State": "TIMEOUT", "NodeList": "n[1-4]"}
    write(tmp_path / "in" / "jobs.txt", "|".join(record[f] for f in fields) + "|\n")
    text = toml_text([("slurm", "sacct", ["in/*"])]) + f'sacct_format = "{",".join(fields)}"\n'
    config = load_config(write(tmp_path / "turnaround.toml", text))
    assert config.inputs[0].sacct_format == tuple(fields)
    load(config, strict=True)
    src = str((tmp_path / "in" / "jobs.txt").resolve())
    assert raw_rows(config, "slurm") == [(src, 1, *JOB)]
    assert states(config) == [(JOB[1], "TIMEOUT")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"JobID,JobName"', "'sacct_format' lacks Timelimit, Elapsed"),
        ("3", "'sacct_format' must be a list of sacct field names"),
    ],
)
def test_sacct_format_must_hold_every_field(tmp_path: Path, value: str, message: str) -> None:
    text = toml_text([("slurm", "sacct", ["in/*"])]) + f"sacct_format = {value}\n"
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path / "turnaround.toml", text))


@pytest.mark.parametrize(
    ("newline", "bom"),
    [("\n", False), ("\r\n", False), ("\n", True), ("\r\n", True)],
    ids=["lf", "crlf", "bom-lf", "bom-crlf"],
)
def test_sacct_line_ends_bom_and_utf8_name(tmp_path: Path, newline: str, bom: bool) -> None:
    # a blank line in the middle: record numbers stay physical lines
    text = sacct(JOB, PENDING, ("",), STEP, newline=newline)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    config = load_only(tmp_path, "slurm", "sacct", {"jobs.txt": data})
    src = str((tmp_path / "in" / "jobs.txt").resolve())
    assert raw_rows(config, "slurm") == [(src, 2, *JOB), (src, 3, *PENDING), (src, 5, *STEP)]
    assert query(config, "select job_name from raw.slurm where job_id = '9002'") == [("zählung",)]


def test_sacct_line_numbers_count_only_newlines(tmp_path: Path) -> None:
    # U+2028 (LINE SEPARATOR) is legal inside a job name; it does not end a sacct line
    odd = ("count\u2028x", *JOB[1:])
    config = load_only(tmp_path, "slurm", "sacct", {"jobs.txt": sacct(odd, PENDING)})
    src = str((tmp_path / "in" / "jobs.txt").resolve())
    assert raw_rows(config, "slurm") == [(src, 2, *odd), (src, 3, *PENDING)]


def test_same_job_in_two_overlapping_sacct_files_is_kept_twice(tmp_path: Path) -> None:
    config = load_only(
        tmp_path,
        "slurm",
        "sacct",
        {"day1.txt": sacct(JOB, BATCH), "day2.txt": sacct(JOB, header=False)},
    )
    day1 = str((tmp_path / "in" / "day1.txt").resolve())
    day2 = str((tmp_path / "in" / "day2.txt").resolve())
    assert raw_rows(config, "slurm") == [(day1, 2, *JOB), (day1, 3, *BATCH), (day2, 1, *JOB)]
    assert query(config, "select count(*) from raw.slurm where job_id = '9001'") == [(2,)]


def test_slurm_csv(tmp_path: Path) -> None:
    header = "Job Name,Job ID,Timelimit,Elapsed,Submit,Start,End,ReqNodes,QOS,User,ExitCode"
    text = (
        f"{header}\r\n"
        '"count, fast",9001,00:30:00,00:01:02,2023-03-12T01:59:30,2023-03-12T02:00:00,'
        "2023-03-12T02:01:02,1,realtime,alice,0:0\r\n"
        "\r\n"
        "batch,9001.batch,,00:01:02,2023-03-12T02:00:00,2023-03-12T02:00:00,"
        "2023-03-12T02:01:02,1,,,0:0\r\n"
    )
    config = load_only(tmp_path, "slurm", "csv", {"jobs.csv": text})
    src = str((tmp_path / "in" / "jobs.csv").resolve())
    assert raw_rows(config, "slurm") == [
        (src, 2, "count, fast", *JOB[1:]),
        (src, 4, *BATCH),
    ]


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


# --------------------------------------------------------------------------- formats: rec_status


@pytest.mark.parametrize(
    "stamp",
    ["2023-10-16T15:30:45.123456Z", "2023-10-16T08:30:45.123456-07:00"],
    ids=["utc-z", "offset"],
)
def test_rec_status_json(tmp_path: Path, stamp: str) -> None:
    full = json.dumps(
        {"time": stamp, "last_scan_number": 41, "progress": 1.0, "UUID": "c0ffee-01"}, indent=2
    )
    bare = json.dumps({"time": stamp})
    config = load_only(
        tmp_path,
        "rec_status",
        "json",
        {"4dstem_rec_status_2_scan_42.json": full, "4dstem_rec_status_3_scan_42.json": bare},
    )
    two = str((tmp_path / "in" / "4dstem_rec_status_2_scan_42.json").resolve())
    three = str((tmp_path / "in" / "4dstem_rec_status_3_scan_42.json").resolve())
    assert raw_rows(config, "rec_status") == [
        (two, 1, "42", "2", stamp, "41", "1.0", "c0ffee-01"),
        (three, 1, "42", "3", stamp, None, None, None),
    ]


@pytest.mark.parametrize("last_written", [False, True], ids=["four-times", "with-last-written"])
def test_rec_status_wide_csv_gives_four_rows_a_line(tmp_path: Path, last_written: bool) -> None:
    header = "scan_number,time0,time1,time2,time3" + (",time_last_written" if last_written else "")
    tail = ",2023-10-16T08:31:00-07:00" if last_written else ""
    text = (
        f"{header}\n"
        "100,2023-10-16T08:30:45+00:00,2023-10-16T08:30:46Z,"
        f"2023-10-16T08:30:47.5-07:00,2023-10-16 08:30:48+0000{tail}\n"
        "\n"
        "101,2023-10-16T09:00:00Z,2023-10-16T09:00:01Z,2023-10-16T09:00:02Z,"
        f"2023-10-16T09:00:03Z{tail}\n"
    )
    config = load_only(tmp_path, "rec_status", "csv", {"wide.csv": text})
    src = str((tmp_path / "in" / "wide.csv").resolve())
    assert raw_rows(config, "rec_status") == [
        (src, 2, "100", "0", "2023-10-16T08:30:45+00:00", None, None, None),
        (src, 2, "100", "1", "2023-10-16T08:30:46Z", None, None, None),
        (src, 2, "100", "2", "2023-10-16T08:30:47.5-07:00", None, None, None),
        (src, 2, "100", "3", "2023-10-16 08:30:48+0000", None, None, None),
        (src, 4, "101", "0", "2023-10-16T09:00:00Z", None, None, None),
        (src, 4, "101", "1", "2023-10-16T09:00:01Z", None, None, None),
        (src, 4, "101", "2", "2023-10-16T09:00:02Z", None, None, None),
        (src, 4, "101", "3", "2023-10-16T09:00:03Z", None, None, None),
    ]
    assert query(config, "select rows from raw.loads") == [(8,)]


# --------------------------------------------------------------------------- formats: file lists


def test_ncem_stat_listing_epochs_stat_y_and_skipped_names(tmp_path: Path) -> None:
    text = stat_listing(
        "/data/scan/data_scan0000012345_00.data|1697470245",
        "/data/scan/data_scan0000012345_01.data|1697470245.123456789",
        "",
        "/data/scan/data_scan0000012346_00.data|2023-10-16 08:30:45.123456789 -0700",
        "/data/scan/notes.txt|1697470245",
        "/data/scan/data_scan12_00.data|1697470245",
        "/data/we|ird/data_scan0000012347_02.data|1697470246",
    )
    config = load_only(tmp_path, "ncem_data_files", "stat", {"listing.txt": text})
    src = str((tmp_path / "in" / "listing.txt").resolve())
    assert raw_rows(config, "ncem_data_files") == [
        (src, 1, "/data/scan/data_scan0000012345_00.data", "0000012345", "00", "1697470245"),
        (
            src,
            2,
            "/data/scan/data_scan0000012345_01.data",
            "0000012345",
            "01",
            "1697470245.123456789",
        ),
        (
            src,
            4,
            "/data/scan/data_scan0000012346_00.data",
            "0000012346",
            "00",
            "2023-10-16 08:30:45.123456789 -0700",
        ),
        (src, 7, "/data/we|ird/data_scan0000012347_02.data", "0000012347", "02", "1697470246"),
    ]
    # data_scan12_00.data is a data file with a broken name: rejected, not skipped
    assert query(config, "select rows, skipped, rejected from raw.loads") == [(4, 1, 1)]
    assert query(config, "select line_number, reason from raw.rejected_records") == [
        (6, "file name is not data_scan<scan, 10 digits>_<part>.data")
    ]


def test_ncem_dir_walk_nested_without_following_symlinked_dirs(tmp_path: Path) -> None:
    root = tmp_path / "ncem"
    first = write(root / "data_scan0000000001_00.data", b"x")
    write(root / "notes.txt", b"x")
    second = write(root / "b" / "data_scan0000000002_01.data", b"x")
    third = write(root / "b" / "c" / "data_scan0000000002_02.data", b"x")
    outside = write(tmp_path / "outside" / "data_scan0000000099_00.data", b"x")
    (root / "linked").symlink_to(outside.parent, target_is_directory=True)
    os.utime(first, ns=(1697470245_123456789, 1697470245_123456789))
    os.utime(second, ns=(1697470246_000000001, 1697470246_000000001))
    os.utime(third, ns=(1697470247_000000000, 1697470247_000000000))
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["ncem"])])
    summary = load(config)
    src = str(root.resolve())
    assert raw_rows(config, "ncem_data_files") == [
        (src, 1, str(first), "0000000001", "00", "1697470245.123456789"),
        (src, 3, str(second), "0000000002", "01", "1697470246.000000001"),
        (src, 4, str(third), "0000000002", "02", "1697470247.000000000"),
    ]
    path = as_path(config, "path")
    assert query(config, f"select {path}, format, rows, skipped from raw.loads") == [
        (src, "dir", 3, 1)
    ]
    assert (
        summary.sources["ncem_data_files"].rows,
        summary.sources["ncem_data_files"].skipped,
    ) == (
        3,
        1,
    )


def test_ncem_csv(tmp_path: Path) -> None:
    text = (
        "time_last_written,host,scan_number\n"
        "2023-10-16T08:30:45.123456789-07:00,ncem-0,12345\n"
        "2023-10-16T15:31:00Z,ncem-1,12346\n"
    )
    config = load_only(tmp_path, "ncem_data_files", "csv", {"write_times.csv": text})
    src = str((tmp_path / "in" / "write_times.csv").resolve())
    assert raw_rows(config, "ncem_data_files") == [
        (src, 2, None, "12345", None, "2023-10-16T08:30:45.123456789-07:00"),
        (src, 3, None, "12346", None, "2023-10-16T15:31:00Z"),
    ]


def test_nersc_stat_suffix_and_distiller_zero(tmp_path: Path) -> None:
    text = stat_listing(
        "/pscratch/FOURD_231016_0830_01234_00042.h5|1697470245",
        "/pscratch/FOURD_231016_0830_01234_00042_centered.h5|1697470245.5",
        "/pscratch/FOURD_231016_0831_00000_00043.h5|2023-10-16 08:31:00 -0700",
        "/pscratch/FOURD_231016_0831_01235_00043.txt|1697470245",
        "/pscratch/FOURD_231016_0831_1235_00043.h5|1697470245",
    )
    config = load_only(tmp_path, "nersc_counted_files", "stat", {"counted.txt": text})
    src = str((tmp_path / "in" / "counted.txt").resolve())
    assert raw_rows(config, "nersc_counted_files") == [
        (
            src,
            1,
            "/pscratch/FOURD_231016_0830_01234_00042.h5",
            "01234",
            "00042",
            "231016_0830",
            "1697470245",
        ),
        (
            src,
            2,
            "/pscratch/FOURD_231016_0830_01234_00042_centered.h5",
            "01234",
            "00042",
            "231016_0830",
            "1697470245.5",
        ),
        (
            src,
            3,
            "/pscratch/FOURD_231016_0831_00000_00043.h5",
            "00000",
            "00043",
            "231016_0831",
            "2023-10-16 08:31:00 -0700",
        ),
    ]
    assert query(config, "select rows, skipped, rejected from raw.loads") == [(3, 1, 1)]


def test_nersc_dir_walk(tmp_path: Path) -> None:
    root = tmp_path / "pscratch"
    one = write(root / "2023" / "FOURD_231016_0830_01234_00042_centered.h5", b"h5")
    write(root / "2023" / "FOURD_231016_0830_01234_00042.log", b"log")
    os.utime(one, ns=(1697470300_500000000, 1697470300_500000000))
    config = make_config(tmp_path, [("nersc_counted_files", "dir", ["pscratch"])])
    load(config)
    assert raw_rows(config, "nersc_counted_files") == [
        (
            str(root.resolve()),
            2,
            str(one),
            "01234",
            "00042",
            "231016_0830",
            "1697470300.500000000",
        )
    ]
    assert query(config, "select rows, skipped from raw.loads") == [(1, 1)]


def test_nersc_csv(tmp_path: Path) -> None:
    text = (
        "distiller_id,scan_number,datetime\n1234,42,2023-10-16 08:30:45\n0,43,2023-10-16T08:31:00\n"
    )
    config = load_only(tmp_path, "nersc_counted_files", "csv", {"scan_times_1.csv": text})
    src = str((tmp_path / "in" / "scan_times_1.csv").resolve())
    assert raw_rows(config, "nersc_counted_files") == [
        (src, 2, None, "1234", "42", None, "2023-10-16 08:30:45"),
        (src, 3, None, "0", "43", None, "2023-10-16T08:31:00"),
    ]


# --------------------------------------------------------------------------- formats: stempy


def test_stempy_log_runs_numbered(tmp_path: Path) -> None:
    doc = {
        "12": [
            {
                "timestamp": "2023-10-16T08:30:45",
                "count_time": 1.5,
                "total_time": 2.25,
                "save_time": 0.5,
                "image": "a.h5",
            },
            {
                "timestamp": "2023-10-16T08:35:00",
                "count_time": 1.25,
                "total_time": 3.5,
                "save_time": 0.75,
                "image": None,
            },
        ],
        "13": [
            {
                "timestamp": "2023-10-16T09:00:00",
                "count_time": 10.5,
                "total_time": 20.125,
                "save_time": 4.5,
                "image": "c.h5",
            }
        ],
    }
    config = load_only(tmp_path, "stempy_log", "json", {"save_times.json": json.dumps(doc)})
    src = str((tmp_path / "in" / "save_times.json").resolve())
    assert raw_rows(config, "stempy_log") == [
        (src, 1, "12", "0", "2023-10-16T08:30:45", "1.5", "2.25", "0.5", "a.h5"),
        (src, 2, "12", "1", "2023-10-16T08:35:00", "1.25", "3.5", "0.75", None),
        (src, 3, "13", "0", "2023-10-16T09:00:00", "10.5", "20.125", "4.5", "c.h5"),
    ]


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


# --------------------------------------------------------------------------- 2. ledger


def two_sacct_files(tmp_path: Path) -> tuple[Config, Path, Path]:
    """A config over slurm/a.txt and slurm/b.txt, loaded once."""
    a = write(tmp_path / "slurm" / "a.txt", sacct(JOB, BATCH))
    b = write(tmp_path / "slurm" / "b.txt", sacct(PENDING, header=False))
    config = make_config(tmp_path, [("slurm", "sacct", ["slurm/*.txt"])])
    load(config)
    return config, a, b


def test_ledger_sha256_size_and_counts_match_the_files(tmp_path: Path) -> None:
    config, a, b = two_sacct_files(tmp_path)
    assert ledger(config) == [
        (1, "slurm", "sacct", str(a), a.stat().st_size, sha256(a), 2, 0, "loaded", None),
        (1, "slurm", "sacct", str(b), b.stat().st_size, sha256(b), 1, 0, "loaded", None),
    ]
    assert query(config, "select count(*) from raw.loads where finished_at >= started_at") == [(2,)]
    assert query(
        config,
        "select count(*) from raw.slurm s join raw.loads l "
        "on s._source_file = l.path and s._load_id = l.load_id",
    ) == [(3,)]
    assert query(config, "select distinct _load_id from raw.slurm") == [(1,)]


def test_reloading_unchanged_files_writes_nothing(tmp_path: Path) -> None:
    config, _, _ = two_sacct_files(tmp_path)
    before = warehouse_state(config)
    summary = load(config)
    tally = summary.sources["slurm"]
    assert (tally.files_new, tally.files_replaced, tally.files_unchanged, tally.rows) == (
        0,
        0,
        2,
        0,
    )
    assert warehouse_state(config) == before
    assert len(before["loads"]) == 2
    assert len(before["slurm"]) == 3


def test_changed_file_replaces_only_its_rows(tmp_path: Path) -> None:
    config, a, b = two_sacct_files(tmp_path)
    b_before = query(
        config,
        f"select * from raw.slurm where {as_path(config, '_source_file')} = '{b}' order by all",
    )
    write(a, sacct(RUNNING))
    summary = load(config)
    tally = summary.sources["slurm"]
    assert (tally.files_new, tally.files_replaced, tally.files_unchanged, tally.rows) == (
        0,
        1,
        1,
        1,
    )
    assert raw_rows(config, "slurm") == [(str(a), 2, *RUNNING), (str(b), 1, *PENDING)]
    assert query(
        config, f"select _load_id from raw.slurm where {as_path(config, '_source_file')} = '{a}'"
    ) == [(2,)]
    assert (
        query(
            config,
            f"select * from raw.slurm where {as_path(config, '_source_file')} = '{b}' order by all",
        )
        == b_before
    )
    assert ledger(config)[2:] == [
        (2, "slurm", "sacct", str(a), a.stat().st_size, sha256(a), 1, 0, "replaced", None)
    ]
    assert len(ledger(config)) == 3


def test_new_file_adds_only_its_rows(tmp_path: Path) -> None:
    config, a, b = two_sacct_files(tmp_path)
    before = warehouse_state(config)
    c = write(tmp_path / "slurm" / "c.txt", sacct(RUNNING, STEP))
    summary = load(config)
    assert summary.load_id == 2
    assert (summary.sources["slurm"].files_new, summary.sources["slurm"].files_unchanged) == (1, 2)
    after = warehouse_state(config)
    assert after["loads"][:2] == before["loads"]
    assert ledger(config)[2:] == [
        (2, "slurm", "sacct", str(c), c.stat().st_size, sha256(c), 2, 0, "loaded", None)
    ]
    assert raw_rows(config, "slurm") == [
        (str(a), 2, *JOB),
        (str(a), 3, *BATCH),
        (str(b), 1, *PENDING),
        (str(c), 2, *RUNNING),
        (str(c), 3, *STEP),
    ]
    assert query(config, "select _load_id, count(*) from raw.slurm group by 1 order by 1") == [
        (1, 3),
        (2, 2),
    ]


def test_changing_back_to_earlier_content_is_replaced_again(tmp_path: Path) -> None:
    config, a, _ = two_sacct_files(tmp_path)
    original = a.read_bytes()
    write(a, sacct(RUNNING))
    load(config)
    write(a, original)
    summary = load(config)
    assert summary.sources["slurm"].files_replaced == 1
    assert query(
        config,
        f"select load_id, rows, status from raw.loads where {as_path(config, 'path')} = '{a}' "
        "order by 1",
    ) == [(1, 2, "loaded"), (2, 1, "replaced"), (3, 2, "replaced")]
    assert raw_rows(config, "slurm")[:2] == [(str(a), 2, *JOB), (str(a), 3, *BATCH)]


def test_dir_input_is_replaced_when_a_file_mtime_changes(tmp_path: Path) -> None:
    root = tmp_path / "ncem"
    data = write(root / "data_scan0000000001_00.data", b"x")
    os.utime(data, ns=(1697470245_000000000, 1697470245_000000000))
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["ncem"])])
    load(config)
    assert load(config).sources["ncem_data_files"].files_unchanged == 1
    os.utime(data, ns=(1697470999_250000000, 1697470999_250000000))
    summary = load(config)
    assert summary.sources["ncem_data_files"].files_replaced == 1
    new_id = summary.load_id
    assert query(config, "select mtime, _load_id from raw.ncem_data_files") == [
        ("1697470999.250000000", new_id)
    ]
    assert query(config, "select load_id, status, rows from raw.loads order by 1") == [
        (1, "loaded", 1),
        (new_id, "replaced", 1),
    ]


# --------------------------------------------------------------------------- 3. failures

BadCase = tuple[str, str, str, Callable[[], bytes], int | None, str]


def _latin1_line3(bom: bool) -> bytes:
    head = b"\xef\xbb\xbf" if bom else b""
    rest = sacct(JOB, BATCH, STEP, header=False).encode()
    return head + rest.replace(b"python", b"\xe9t\xe9")


BAD_CASES: list[BadCase] = [
    # (source, format, file name, content, expected line, text in the message)
    (
        "slurm",
        "sacct",
        "z.txt",
        lambda: (sacct(JOB, BATCH) + "|".join(STEP[:10]) + "\n").encode(),
        4,
        "expected 11 fields, found 10",
    ),
    (
        "slurm",
        "sacct",
        "z.txt",
        lambda: sacct(JOB, (*BATCH[:4], "2023-02-30T10:00:00", *BATCH[5:])).encode(),
        3,
        "2023-02-30T10:00:00",
    ),
    (
        "slurm",
        "sacct",
        "z.txt",
        lambda: sacct(JOB, BATCH, (*STEP[:3], "12:34", *STEP[4:]), header=False).encode(),
        3,
        "'12:34'",
    ),
    ("slurm", "sacct", "z.txt", lambda: _latin1_line3(bom=False), 3, "not UTF-8"),
    ("slurm", "sacct", "z.txt", lambda: _latin1_line3(bom=True), 3, "not UTF-8"),
    (
        "distiller_db",
        "csv",
        "512_512.csv",
        lambda: b"id,slurm,elapsed\n1,2,00:00:01\n",
        1,
        "header is not id,slurm_id,elapsed",
    ),
    (
        "distiller_db",
        "csv",
        "big.csv",
        lambda: b"id,slurm_id,elapsed\n1,2,00:00:01\n",
        None,
        "<W>_<H>.csv",
    ),
    (
        "rec_status",
        "json",
        "4dstem_rec_status_1_scan_9.json",
        lambda: b'[{"time": "2023-10-16T08:30:45Z"}]',
        1,
        "not an object",
    ),
    (
        "rec_status",
        "json",
        "4dstem_rec_status_1_scan_9.json",
        lambda: b'{"progress": 1.0}',
        1,
        "'time'",
    ),
    (
        "rec_status",
        "csv",
        "wide.csv",
        lambda: (
            b"scan_number,time0,time1,time2,time3\n"
            b"1,2023-10-16T08:30:45Z,2023-10-16T08:30:45Z,2023-10-16T08:30:45Z,"
            b"2023-10-16T08:30:45Z\n"
            b"2,2023-10-16T08:30:45Z,2023-10-16T08:30:45,2023-10-16T08:30:45Z,"
            b"2023-10-16T08:30:45Z\n"
        ),
        3,
        "'2023-10-16T08:30:45'",
    ),
    (
        "ncem_data_files",
        "stat",
        "listing.txt",
        lambda: stat_listing(
            "/d/data_scan0000000001_00.data|1697470245",
            "/d/data_scan0000000001_01.data|yesterday",
        ).encode(),
        2,
        "'yesterday'",
    ),
    (
        "stempy_log",
        "json",
        "save_times.json",
        lambda: b'{\n  "12": [\n    {"count_time": 1.0,}\n  ]\n}\n',
        3,
        "invalid JSON",
    ),
]
BAD_IDS = [
    "sacct-10-fields",
    "sacct-feb-30",
    "sacct-elapsed-mm-ss",
    "sacct-latin1-line3",
    "sacct-bom-latin1-line3",
    "distiller-bad-header",
    "distiller-bad-name",
    "rec-json-array",
    "rec-json-no-time",
    "rec-wide-naive-time",
    "stat-mtime-yesterday",
    "stempy-bad-json",
]


def good_inputs(tmp_path: Path) -> list[Input]:
    """Good files of several sources (the first load), returning their inputs."""
    write(tmp_path / "good" / "slurm" / "a.txt", sacct(JOB, BATCH))
    write(tmp_path / "good" / "slurm" / "b.txt", sacct(PENDING))
    write(tmp_path / "good" / "distiller" / "128_128.csv", "id,slurm_id,elapsed\n7,9001,00:00:05\n")
    write(
        tmp_path / "good" / "rec" / "4dstem_rec_status_0_scan_7.json",
        '{"time": "2023-03-12T09:59:30Z"}',
    )
    write(
        tmp_path / "good" / "stempy" / "save_times.json",
        '{"7": [{"timestamp": "t", "count_time": 1.5, "total_time": 2.5, "save_time": 0.5}]}',
    )
    write(
        tmp_path / "good" / "ncem.txt",
        stat_listing("/d/data_scan0000000007_00.data|1697470245", "/d/x.txt|1"),
    )
    return [
        ("slurm", "sacct", ["good/slurm/*.txt"]),
        ("distiller_db", "csv", ["good/distiller/*.csv"]),
        ("rec_status", "json", ["good/rec/*.json"]),
        ("stempy_log", "json", ["good/stempy/*.json"]),
        ("ncem_data_files", "stat", ["good/ncem.txt"]),
    ]


@pytest.mark.parametrize(
    ("source", "fmt", "name", "content", "line", "message"), BAD_CASES, ids=BAD_IDS
)
def test_bad_last_file_rolls_back_the_whole_load(
    tmp_path: Path,
    source: str,
    fmt: str,
    name: str,
    content: Callable[[], bytes],
    line: int | None,
    message: str,
) -> None:
    inputs = good_inputs(tmp_path)
    config = make_config(tmp_path, inputs)
    load(config)
    before = warehouse_state(config)
    assert len(before["slurm"]) == 3
    assert len(before["loads"]) == 6
    # the second load replaces a.txt, adds c.txt and a new scan size, then meets the bad file
    write(tmp_path / "good" / "slurm" / "a.txt", sacct(RUNNING))
    write(tmp_path / "good" / "slurm" / "c.txt", sacct(STEP))
    write(tmp_path / "good" / "distiller" / "256_256.csv", "id,slurm_id,elapsed\n8,,\n")
    bad = write(tmp_path / "bad" / name, content())
    config = make_config(tmp_path, [*inputs, (source, fmt, [f"bad/{name}"])])
    with pytest.raises(LoadError) as caught:
        load(config, strict=True)
    err = caught.value
    assert err.path == str(bad)
    assert err.line == line
    assert message in err.message
    where = f"{bad}:{line}" if line is not None else str(bad)
    assert str(err) == f"{where}: {err.message}"
    assert warehouse_state(config) == before


def test_bad_file_after_good_ones_of_the_same_input(tmp_path: Path) -> None:
    write(tmp_path / "slurm" / "a.txt", sacct(JOB))
    config = make_config(tmp_path, [("slurm", "sacct", ["slurm/*.txt"])])
    load(config)
    before = warehouse_state(config)
    write(tmp_path / "slurm" / "a.txt", sacct(RUNNING))
    write(tmp_path / "slurm" / "b.txt", sacct(PENDING))
    bad = write(tmp_path / "slurm" / "c.txt", sacct(JOB, ("x", "1", "", "12:34", *JOB[4:])))
    with pytest.raises(LoadError) as caught:
        load(config, strict=True)
    assert (caught.value.path, caught.value.line) == (str(bad), 3)
    assert warehouse_state(config) == before
    # once the bad file is fixed the same load goes through
    write(bad, sacct(STEP))
    summary = load(config)
    tally = summary.sources["slurm"]
    assert (tally.files_new, tally.files_replaced, tally.rows) == (2, 1, 3)


def test_failed_first_load_leaves_no_warehouse(tmp_path: Path) -> None:
    write(tmp_path / "slurm" / "a.txt", sacct(JOB))
    write(tmp_path / "slurm" / "b.txt", sacct(JOB, header=False) + "only|three|fields\n")
    config = make_config(tmp_path, [("slurm", "sacct", ["slurm/*.txt"])])
    with pytest.raises(LoadError) as caught:
        load(config, strict=True)
    assert caught.value.line == 2
    assert not config.warehouse.exists()
    assert list(config.warehouse.parent.glob("warehouse.duckdb*")) == []


# --------------------------------------------------------------------------- 4. config


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


# --------------------------------------------------------------------------- 5. source filter


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


# --------------------------------------------------------------------------- oddities that load


def test_appended_sacct_outputs_repeat_their_header(tmp_path: Path) -> None:
    text = sacct(JOB) + sacct(PENDING)
    config = load_only(tmp_path, "slurm", "sacct", {"two.txt": text})
    src = str((tmp_path / "in" / "two.txt").resolve())
    assert raw_rows(config, "slurm") == sorted([(src, 2, *JOB), (src, 4, *PENDING)])


def test_stempy_numbers_keep_the_text_they_were_written_with(tmp_path: Path) -> None:
    text = (
        '{"00014": [{"timestamp": "240503_0733", "count_time": 1, "total_time": 1e-07,'
        ' "save_time": 12345678901234567890, "image": "x"}]}'
    )
    config = load_only(tmp_path, "stempy_log", "json", {"save_times.json": text})
    assert query(config, "select count_time, total_time, save_time from raw.stempy_log") == [
        ("1", "1e-07", "12345678901234567890")
    ]


def test_stempy_number_given_as_a_string_is_rejected(tmp_path: Path) -> None:
    text = (
        '{"14": [{"count_time": "1.5", "total_time": 2, "save_time": 0.5},'
        ' {"count_time": 1.5, "total_time": 2, "save_time": 0.5}]}'
    )
    config = load_only(tmp_path, "stempy_log", "json", {"save_times.json": text})
    assert query(config, "select run_index, count_time from raw.stempy_log") == [("1", "1.5")]
    assert query(config, "select line_number, reason from raw.rejected_records") == [
        (1, "run 0 of scan '14': count_time is not a number")
    ]


def test_dir_walk_skips_dangling_symlinks(tmp_path: Path) -> None:
    good = write(tmp_path / "in" / "data_scan0000004728_00.data", "x")
    (tmp_path / "in" / "data_scan0000004728_01.data").symlink_to(tmp_path / "gone")
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["in"])])
    load(config)
    assert query(config, "select file_path from raw.ncem_data_files") == [(str(good),)]


def test_nested_folders_matched_by_one_dir_glob_are_walked_once(tmp_path: Path) -> None:
    write(tmp_path / "in" / "data_scan0000004728_00.data", "x")
    write(tmp_path / "in" / "sub" / "data_scan0000004728_01.data", "x")
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["in/**"])])
    load(config)
    assert query(
        config, "select count(*), count(distinct _source_file) from raw.ncem_data_files"
    ) == [(2, 1)]
