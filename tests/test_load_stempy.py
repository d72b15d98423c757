"""The stempy save-times log (stempy_log json) into exact raw rows."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import load_only, query, raw_rows

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


# --------------------------------------------------------------------------- oddities that load


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
