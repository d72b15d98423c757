"""Receiver status files `4dstem_rec_status_<r>_scan_<n>.json` and the wide CSV extract.

One row per receiver status: a JSON file gives one, a wide CSV row gives four.
"""

from __future__ import annotations

import functools
import json
import math
import re
from pathlib import Path

from loaders import checks
from loaders.errors import LoadError
from loaders.sources.common import (
    TOO_DEEP,
    Parsed,
    SourceKind,
    csv_records,
    decode,
    fail_if,
    field_count_error,
    first_bad_bytes_line,
    has_bad_bytes,
    header_index,
    json_type,
)

COLUMNS = ("scan_number", "receiver", "time", "last_scan_number", "progress", "uuid")
RECEIVERS = 4
WIDE_FIELDS = ("scan_number", "time0", "time1", "time2", "time3")
_DECODER = json.JSONDecoder()
_NAME = re.compile(r"^4dstem_rec_status_([0-3])_scan_(\d+)\.json\Z", re.ASCII)


def _text(value: object) -> str | None:
    """A JSON scalar as text (None stays NULL)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if type(value) is int:
        return str(value)  # what json.dumps writes, at a tenth of its cost
    return json.dumps(value)


def read_json(path: Path | str, data: bytes) -> Parsed:
    """Parse one receiver's status file; receiver and scan come from its name."""
    match = _NAME.match(path.rpartition("/")[2] if isinstance(path, str) else path.name)
    if not match:
        raise LoadError(
            path, None, "file name is not 4dstem_rec_status_<receiver 0-3>_scan_<scan>.json"
        )
    receiver, scan = match.groups()
    if len(scan) > 9:  # digits by the name's pattern: fewer than ten always fit
        fail_if(path, None, checks.integer_error(scan, "scan number in the file name"))
    if data.isascii():  # the usual case, and the cheap one: no BOM, nothing to check
        text = data.decode("ascii")
    else:
        text = decode(path, data)
        if has_bad_bytes(text):
            raise LoadError(path, first_bad_bytes_line(text), "bytes that are not UTF-8")
    if not text or text.isspace():
        raise LoadError(path, 1, "empty file, not a JSON object")
    try:
        doc = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise LoadError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:  # arrays or objects nested deeper than the parser descends
        raise LoadError(path, 1, TOO_DEEP) from None
    if not isinstance(doc, dict):
        raise LoadError(path, 1, f"JSON is {json_type(doc)}, not an object")
    stamp = doc.get("time")
    if not isinstance(stamp, str):
        raise LoadError(path, 1, "JSON object has no string 'time'")
    fail_if(path, 1, checks.aware_time_error(stamp))
    last_scan, progress = doc.get("last_scan_number"), doc.get("progress")
    # a JSON integer in range and a finite JSON number pass their checks as they are
    if type(last_scan) is int and -checks.INT32 - 1 <= last_scan <= checks.INT32:
        last_scan = str(last_scan)
    else:
        last_scan = _text(last_scan)
        if last_scan is not None:
            fail_if(path, 1, checks.integer_error(last_scan, "last_scan_number"))
    if type(progress) is float and math.isfinite(progress):
        progress = repr(progress)  # what json.dumps writes for a finite float
    else:
        progress = _text(progress)
        if progress is not None:
            fail_if(path, 1, checks.number_error(progress, "progress"))
    row = (
        1,
        scan,
        receiver,
        stamp,
        last_scan,
        progress,
        _text(doc.get("UUID")),
    )
    return Parsed(rows=[row])


def read_csv(path: Path | str, data: bytes) -> Parsed:
    """Parse the wide extract `scan_number,time0..time3[,time_last_written]`, four rows a line."""
    parsed = Parsed()
    order: list[int] | None = None
    width = 0
    text = decode(path, data)
    for line, fields, raw in csv_records(path, text):
        if order is None:
            order, width = header_index(path, line, fields, WIDE_FIELDS), len(fields)
            continue
        if not parsed.accept(line, raw, field_count_error(fields, width)):
            continue
        scan, *times = (fields[i] for i in order)
        errors = [checks.integer_error(scan, "scan_number")]
        errors += [checks.aware_time_error(stamp) for stamp in times]
        if parsed.accept(line, raw, *errors):
            parsed.rows.extend(
                (line, scan, str(receiver), stamp, None, None, None)
                for receiver, stamp in enumerate(times)
            )
    return parsed


# A status file as the receivers write it (json.dumps of the object, in this order; all but
# the time may be missing), whose values JSON reads as they are written: the time of the form
# checks.AWARE_TIME, no escape in a string. Any other file goes to read_json.
_WS = r"[ \t\n\r]*"  # JSON's whitespace (not \s: a form feed is no JSON)


def _status_form(colon: str, comma: str, around: str, end: str) -> re.Pattern[str]:
    """A status object with its separators `colon` and `comma`, `around` its braces (and
    `end` after it): one group per value, and two for the time's offset and the progress's
    fraction."""
    return re.compile(
        rf'{around}\{{{around}"time"{colon}"({checks.AWARE_TIME})"'
        rf'(?:{comma}"last_scan_number"{colon}(0|-?[1-9][0-9]{{0,9}}))?'
        rf'(?:{comma}"progress"{colon}(-?(?:0|[1-9][0-9]{{0,15}})(\.[0-9]{{1,17}})?))?'
        rf'(?:{comma}"UUID"{colon}"([ !#-\[\]-~]*)")?{around}\}}{end}',
        re.ASCII,
    )


# json.dumps' own separators first: half the time of the form with any whitespace
_QUICK_FORMS = (
    _status_form(": ", ", ", "", "\n?"),
    _status_form(f"{_WS}:{_WS}", f"{_WS},{_WS}", _WS, _WS),
)


@functools.lru_cache(maxsize=256)
def _number_text(number: str, fraction: bool) -> str:
    """A JSON number as read_json writes it back (`_text` of what JSON reads)."""
    return repr(float(number)) if fraction else str(int(number))


def quick_json(name: str, data: bytes) -> str | None:
    """The row of a status file in its usual form, as CSV fields (SourceKind.quick): what
    read_json gives it, without parsing JSON; None for any other file."""
    named = _NAME.match(name)
    if named is None or not data.isascii():
        return None
    text = data.decode("ascii")
    found = _QUICK_FORMS[0].fullmatch(text) or _QUICK_FORMS[1].fullmatch(text)
    if found is None:
        return None
    stamp, offset, last_scan, progress, fraction, uuid = found.groups()
    receiver, scan = named.groups()
    if (
        len(scan) > 9
        or (
            last_scan is not None
            and len(last_scan) > 9
            and not -checks.INT32 - 1 <= int(last_scan) <= checks.INT32
        )
        or not checks.aware_time_valid(stamp, offset)
    ):
        return None
    if progress is not None:
        progress = _number_text(progress, fraction is not None)
    uuid = "" if uuid is None else f'"{uuid}"'  # a comma in it is text; no " in it
    return f"{scan},{receiver},{stamp},{last_scan or ''},{progress or ''},{uuid}"


KIND = SourceKind(
    columns=COLUMNS,
    readers={"json": read_json, "csv": read_csv},
    quick={"json": quick_json},
)
