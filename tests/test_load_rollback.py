"""A bad file fails a strict load and rolls the whole load back (no half-loaded warehouse)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loaders import LoadError, load
from tests.helpers import (
    BATCH,
    JOB,
    PENDING,
    RUNNING,
    STEP,
    Input,
    make_config,
    sacct,
    stat_listing,
    warehouse_state,
    write,
)

# --------------------------------------------------------------------------- failures

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
