"""The counting job's performance log: `{"<scan>": [{timestamp, count_time, ...}, ...]}`."""

from __future__ import annotations

import json
from pathlib import Path

from loaders import values
from loaders.errors import LoadError
from loaders.sources.common import (
    Parsed,
    SourceKind,
    decode,
    first_bad_bytes_line,
    has_bad_bytes,
    printable,
)

COLUMNS = (
    "scan_number",
    "run_index",
    "timestamp",
    "count_time",
    "total_time",
    "save_time",
    "image",
)
_NUMBERS = ("count_time", "total_time", "save_time")


def _line_of(text: str, key: str) -> int:
    """Best-effort line of a top-level key, for messages."""
    at = text.find(f'"{key}"')
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


class JsonNumber(str):
    """A JSON number kept as the text it was written as."""

    __slots__ = ()


def read_json(path: Path, data: bytes) -> Parsed:
    """One row per run; the record number counts runs through the file. Numbers keep the text
    they were written with (raw values stay as loaded)."""
    text = decode(path, data)
    if has_bad_bytes(text):
        raise LoadError(path, first_bad_bytes_line(text), "bytes that are not UTF-8")
    try:
        doc = json.loads(text, parse_float=JsonNumber, parse_int=JsonNumber)
    except json.JSONDecodeError as exc:
        raise LoadError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    if not isinstance(doc, dict):
        raise LoadError(path, 1, f"JSON is a {type(doc).__name__}, not an object of scans")
    parsed = Parsed()
    record = 0
    for scan, runs in doc.items():
        line = _line_of(text, scan)
        shown = printable(json.dumps({scan: runs})[:2000])
        if not isinstance(runs, list):
            parsed.accept(line, shown, f"scan {scan!r} does not hold a list of runs")
            continue
        if not parsed.accept(line, shown, values.integer_error(scan, "scan number")):
            continue
        for index, run in enumerate(runs):
            record += 1
            if parsed.accept(record, printable(json.dumps(run)), _run_error(scan, index, run)):
                parsed.rows.append(
                    (
                        record,
                        scan,
                        str(index),
                        None if run.get("timestamp") is None else str(run.get("timestamp")),
                        *(str(run[name]) for name in _NUMBERS),
                        None if run.get("image") is None else str(run.get("image")),
                    )
                )
    return parsed


def _run_error(scan: str, index: int, run: object) -> str | None:
    """Why a run cannot be loaded, or None."""
    if not isinstance(run, dict):
        return f"run {index} of scan {scan!r} is not an object"
    for name in _NUMBERS:
        if not isinstance(run.get(name), JsonNumber):
            return f"run {index} of scan {scan!r}: {name} is not a number"
    return None


KIND = SourceKind(columns=COLUMNS, readers={"json": read_json})
