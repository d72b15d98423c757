"""The counting job's performance log: `{"<scan>": [{timestamp, count_time, ...}, ...]}`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from loaders import checks
from loaders.errors import LoadError
from loaders.sources.common import (
    Parsed,
    SourceKind,
    decode,
    first_bad_bytes_line,
    has_bad_bytes,
    json_type,
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


class JsonObject(list[tuple[str, object]]):
    """A JSON object as its (key, value) pairs in order, so a repeated key is seen."""

    __slots__ = ()


def _as_written(value: object) -> object:
    """A parsed value back in plain JSON types: numbers as numbers, objects as dicts."""
    if isinstance(value, JsonNumber):
        number = float(value)
        return int(value) if value.lstrip("-").isdigit() else number
    if isinstance(value, JsonObject):
        return {key: _as_written(item) for key, item in value}
    if isinstance(value, list):
        return [_as_written(item) for item in value]
    return value


def _key_lines(text: str) -> dict[str, list[int]]:
    """Lines where each top-level-looking key `"<key>":` starts, in order (for messages)."""
    lines: dict[str, list[int]] = {}
    for match in re.finditer(r'"([^"\\]*)"\s*:', text):
        lines.setdefault(match.group(1), []).append(text.count("\n", 0, match.start()) + 1)
    return lines


class JsonNumber(str):
    """A JSON number kept as the text it was written as."""

    __slots__ = ()


def read_json(path: Path | str, data: bytes) -> Parsed:
    """One row per run; the record number counts runs through the file. Numbers keep the text
    they were written with (raw values stay as loaded)."""
    text = decode(path, data)
    if has_bad_bytes(text):
        raise LoadError(path, first_bad_bytes_line(text), "bytes that are not UTF-8")
    try:
        doc = json.loads(
            text, parse_float=JsonNumber, parse_int=JsonNumber, object_pairs_hook=JsonObject
        )
    except json.JSONDecodeError as exc:
        raise LoadError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    if not isinstance(doc, JsonObject):
        raise LoadError(path, 1, f"JSON is {json_type(doc)}, not an object of scans")
    parsed = Parsed()
    record = 0
    key_lines = _key_lines(text)
    seen: set[str] = set()
    for scan, runs in doc:
        found = key_lines.get(scan, [])
        line = found.pop(0) if found else 1
        shown = printable(json.dumps({scan: _as_written(runs)})[:2000])
        if scan in seen:
            parsed.accept(line, shown, f"scan {scan!r} appears again in the file")
            continue
        seen.add(scan)
        if not isinstance(runs, list) or isinstance(runs, JsonObject):
            parsed.accept(line, shown, f"scan {scan!r} does not hold a list of runs")
            continue
        if not parsed.accept(line, shown, checks.integer_error(scan, "scan number")):
            continue
        for index, run in enumerate(runs):
            record += 1
            error = _run_error(scan, index, run)
            if parsed.accept(record, printable(json.dumps(_as_written(run))), error):
                run = dict(run)
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
    if not isinstance(run, JsonObject):
        return f"run {index} of scan {scan!r} is not an object"
    run = dict(run)
    for name in _NUMBERS:
        value = run.get(name)
        if not isinstance(value, JsonNumber):
            return f"run {index} of scan {scan!r}: {name} is not a number"
        error = checks.number_error(value, name)
        if error:
            return f"run {index} of scan {scan!r}: {error}"
    return None


KIND = SourceKind(columns=COLUMNS, readers={"json": read_json})
