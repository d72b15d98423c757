"""The quick reader of receiver status files (loaders.quick) against read_json, the contract:
every file the quick reader takes gives read_json's row, written as CSV, and no reject; and a
load gives the same warehouse whichever way the files are read."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import load
from loaders import workers as loader_workers
from loaders.batch import Batch
from loaders.sources import rec_status
from tests.helpers import make_config, query, write

NAME = "4dstem_rec_status_2_scan_1234.json"


def as_csv(row: str) -> list[str | None]:
    """CSV fields as the writer's read_csv takes them: empty is NULL, quoted is text."""
    (fields,) = csv.reader(io.StringIO(row))
    quoted = [part.startswith('"') for part in _split_fields(row)]
    return [
        None if field == "" and not q else field for field, q in zip(fields, quoted, strict=True)
    ]


def _split_fields(row: str) -> list[str]:
    """The raw fields of a quick row (no quoted field holds a quote)."""
    parts, quoted, start = [], False, 0
    for at, char in enumerate(row):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append(row[start:at])
            start = at + 1
    return [*parts, row[start:]]


def check_same(name: str, data: bytes) -> bool:
    """When the quick reader takes the file, its row is read_json's (True: it took it)."""
    row = rec_status.quick_json(name, data)
    if row is None:
        return False
    parsed = rec_status.read_json(f"/in/{name}", data)
    assert not parsed.rejects
    assert [tuple(as_csv(row))] == [tuple(r[1:]) for r in parsed.rows]
    return True


USUAL = {
    "time": "2023-10-13T16:45:09+00:00",
    "last_scan_number": 1234,
    "progress": 1.0,
    "UUID": "50378fd5-4c28-2782-6ca1-4a46bb20c282",
}


@pytest.mark.parametrize(
    ("name", "data", "quick"),
    [
        (NAME, json.dumps(USUAL) + "\n", True),
        (NAME, json.dumps(USUAL, indent=2), True),
        (NAME, json.dumps({k: USUAL[k] for k in ("time", "last_scan_number")}), True),
        (NAME, json.dumps({k: USUAL[k] for k in ("time", "UUID")}), True),
        (NAME, json.dumps({**USUAL, "progress": 0.1 + 0.2}), True),
        (NAME, json.dumps({**USUAL, "progress": 1}), True),
        (NAME, json.dumps({**USUAL, "progress": -0.0}), True),
        (NAME, json.dumps({**USUAL, "UUID": ""}), True),
        (NAME, json.dumps({**USUAL, "UUID": "a,b c"}), True),
        (NAME, json.dumps({**USUAL, "time": "2023-10-13 16:45:09.123456789Z"}), True),
        (NAME, json.dumps({**USUAL, "last_scan_number": -2147483648}), True),
        (NAME, json.dumps({**USUAL, "last_scan_number": 2147483648}), False),
        (NAME, json.dumps({**USUAL, "time": "2023-02-30T16:45:09+00:00"}), False),
        (NAME, json.dumps({**USUAL, "time": "2023-10-13T24:45:09+00:00"}), False),
        (NAME, json.dumps({**USUAL, "time": "2023-10-13T16:45:09+24:00"}), False),
        (NAME, json.dumps({**USUAL, "time": "2023-10-13T16:45:09"}), False),
        (NAME, json.dumps({**USUAL, "UUID": 'a"b'}), False),
        (NAME, json.dumps({**USUAL, "UUID": "é"}), False),
        (NAME, json.dumps({**USUAL, "UUID": None}), False),
        (NAME, json.dumps({**USUAL, "progress": 1e-7}), False),
        (NAME, json.dumps({**USUAL, "progress": "1.0"}), False),
        (NAME, json.dumps({"last_scan_number": 1, "time": USUAL["time"]}), False),
        (NAME, json.dumps(USUAL).replace('"time"', '"\\u0074ime"'), False),
        (NAME, "\ufeff" + json.dumps(USUAL), False),
        (NAME, json.dumps(USUAL) + "\f", False),
        (NAME, json.dumps(USUAL) + "{}", False),
        (NAME, '{"time": "2023-10-13T16:45:09Z", "last_scan_number": 007}', False),
        (NAME, '{"time": "2023-10-13T16:45:09Z", "last_scan_number": -0}', False),
        ("4dstem_rec_status_4_scan_1.json", json.dumps(USUAL), False),
        ("4dstem_rec_status_0_scan_1234567890.json", json.dumps(USUAL), False),
    ],
)
def test_the_quick_reader_takes_the_usual_form_only(name: str, data: str, quick: bool) -> None:
    assert check_same(name, data.encode("utf-8")) is quick


numbers = st.one_of(
    st.integers(-(2**31) - 2, 2**31 + 1),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    st.none(),
)
real_times = st.builds(
    lambda moment, sep, fraction, offset: (
        moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + fraction + offset
    ),
    st.datetimes(min_value=datetime(1000, 1, 1)),
    st.sampled_from("T "),
    st.from_regex(r"\A(\.[0-9]{1,10})?\Z"),
    st.from_regex(r"\A(Z|[+-]([01][0-9]|2[0-5]):?[0-6][0-9]|)\Z"),
)
any_times = st.from_regex(
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,10})?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2}|)\Z"
)


@given(
    time=st.one_of(real_times, any_times),
    last_scan=numbers,
    progress=numbers,
    uuid=st.one_of(st.text(max_size=8), st.from_regex(r"\A[-0-9a-f]{0,36}\Z"), st.none()),
    keys=st.sets(st.sampled_from(("last_scan_number", "progress", "UUID"))),
    ascii_only=st.booleans(),
    indent=st.sampled_from((None, 0, 1)),
)
@settings(max_examples=400, deadline=None)
def test_a_status_the_quick_reader_takes_reads_as_read_json_reads_it(
    time: str,
    last_scan: object,
    progress: object,
    uuid: str | None,
    keys: set[str],
    ascii_only: bool,
    indent: int | None,
) -> None:
    doc = {"time": time, "last_scan_number": last_scan, "progress": progress, "UUID": uuid}
    doc = {k: v for k, v in doc.items() if k == "time" or k in keys}
    data = json.dumps(doc, ensure_ascii=ascii_only, indent=indent).encode("utf-8")
    check_same(NAME, data)


def status_folder(folder: Path) -> None:
    """Status files in their usual form (some without a UUID), three without a time; paths to
    quote and to escape; an empty UUID (text, not NULL); a time with a space."""
    for n in range(30):
        doc = {**USUAL, "last_scan_number": n, "progress": n / 7}
        if n % 5 == 1:
            del doc["UUID"]
        body = json.dumps(doc) if n % 11 else '{"time": "soon"}'
        write(folder / f"d{n % 2}/4dstem_rec_status_{n % 4}_scan_{n}.json", body)
    write(folder / 'd"1,\\x/4dstem_rec_status_1_scan_7.json', json.dumps(USUAL))
    write(folder / "é/4dstem_rec_status_2_scan_40.json", json.dumps({**USUAL, "UUID": ""}))
    spaced = json.dumps({**USUAL, "time": "2023-10-13 16:45:09Z"})
    write(folder / "x\udcff/4dstem_rec_status_3_scan_41.json", spaced)


def test_a_load_is_the_same_read_quick_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_rows: list[int] = []
    real = loader_workers.read_quick

    def counted(*args: Any) -> Batch:
        batch = real(*args)
        quick_rows.append(batch.spooled_rows)
        return batch

    monkeypatch.setattr(loader_workers, "read_quick", counted)
    outcomes = []
    for quick in (True, False):
        folder = tmp_path / ("quick" if quick else "slow")
        status_folder(folder / "in")
        config = make_config(folder, [("rec_status", "json", ["in/**/4dstem_rec_status_*.json"])])
        if not quick:
            monkeypatch.setattr(loader_workers, "quick_reader", lambda job: None)
        load(config)
        rows = query(
            config, "select * exclude (_loaded_at) from raw.rec_status order by _source_file"
        )
        ledger = query(
            config,
            "select path, size_bytes, sha256, rows, skipped, status, error, rejected, "
            "mtime_ns > 0, reading, started_at <= finished_at from raw.loads order by path",
        )
        rejects = query(config, "select * exclude (loaded_at) from raw.rejected_records")
        outcomes.append(repr((rows, ledger, rejects)))
        assert sum(quick_rows) == 30  # read the quick way: all but the three without a time
    assert outcomes[0] == outcomes[1]
