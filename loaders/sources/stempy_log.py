"""The counting job's performance log: `{"<scan>": [{timestamp, count_time, ...}, ...]}`."""

from __future__ import annotations

import json
from pathlib import Path

from loaders import values
from loaders.errors import LoadError
from loaders.sources.common import Parsed, SourceKind, decode, fail_if

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
        fail_if(path, line, values.integer_error(scan, "scan number"))
        if not isinstance(runs, list):
            raise LoadError(path, line, f"scan {scan!r} does not hold a list of runs")
        for index, run in enumerate(runs):
            record += 1
            if not isinstance(run, dict):
                raise LoadError(path, line, f"run {index} of scan {scan!r} is not an object")
            for name in _NUMBERS:
                if not isinstance(run.get(name), JsonNumber):
                    raise LoadError(
                        path, line, f"run {index} of scan {scan!r}: {name} is not a number"
                    )
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


KIND = SourceKind(columns=COLUMNS, readers={"json": read_json})
