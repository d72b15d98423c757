"""The Slurm loader's formats: sacct text (with and without a header, field orders, line
ends, State, sacct_format) and the Slurm CSV export, into exact raw rows.

Each test writes its own small inputs under `tmp_path` and loads them into a fresh warehouse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders import Config, ConfigError, load, load_config
from tests.helpers import (
    BATCH,
    EXTERN,
    JOB,
    PENDING,
    RUNNING,
    SACCT_FIELDS,
    SACCT_HEADER,
    STEP,
    Row,
    load_only,
    query,
    raw_rows,
    sacct,
    toml_text,
    write,
)

# --------------------------------------------------------------------------- formats: slurm


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


# --------------------------------------------------------------------------- oddities that load


def test_appended_sacct_outputs_repeat_their_header(tmp_path: Path) -> None:
    text = sacct(JOB) + sacct(PENDING)
    config = load_only(tmp_path, "slurm", "sacct", {"two.txt": text})
    src = str((tmp_path / "in" / "two.txt").resolve())
    assert raw_rows(config, "slurm") == sorted([(src, 2, *JOB), (src, 4, *PENDING)])
