"""The receivers' status files (rec_status json and the wide csv) into exact raw rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import load_only, query, raw_rows

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
