"""File listings: data files written at NCEM and counted HDF5 files at NERSC.

Both come as stat listings (`<path>|<mtime>` lines), directories walked here, or CSV extracts.
A listed file whose name is not one of the source's files is skipped and counted, not loaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from loaders import values
from loaders.errors import LoadError
from loaders.sources.common import (
    Parsed,
    SourceKind,
    csv_records,
    decode,
    expect_fields,
    fail_if,
    header_index,
    numbered_lines,
)

NCEM_COLUMNS = ("file_path", "scan_number", "file_part", "mtime")
NERSC_COLUMNS = ("file_path", "distiller_id", "scan_number", "acquired_label", "mtime")
_NCEM_NAME = re.compile(r"^data_scan(\d{10})_(\d+)\.data$")
_NERSC_NAME = re.compile(r"^FOURD_(\d{6}_\d{4})_(\d{5})_(\d{5})(?:_[^/]*)?\.h5$")

NameFields = Callable[[str], tuple[str, ...] | None]


def ncem_name_fields(name: str) -> tuple[str, ...] | None:
    """(scan_number, file_part) from `data_scan<10 digits>_<part>.data`, else None."""
    match = _NCEM_NAME.match(name)
    return match.groups() if match else None


def nersc_name_fields(name: str) -> tuple[str, ...] | None:
    """(distiller_id, scan_number, acquired_label) from a FOURD_*.h5 name, else None."""
    match = _NERSC_NAME.match(name)
    if not match:
        return None
    label, distiller_id, scan = match.groups()
    return distiller_id, scan, label


def walk_listing(root: Path) -> bytes:
    """Walk a directory (symlinked folders not followed) into a stat listing `path|epoch`."""
    lines: list[str] = []
    for folder, dirs, names in os.walk(root, onerror=None, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(folder, name)
            try:
                mtime_ns = os.stat(full).st_mtime_ns
            except FileNotFoundError:
                continue  # a dangling symlink, or a file removed while walking
            except OSError as exc:
                raise LoadError(full, None, f"cannot stat: {exc.strerror}") from None
            lines.append(f"{full}|{mtime_ns // 10**9}.{mtime_ns % 10**9:09d}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def _read_listing(path: Path, data: bytes, name_fields: NameFields) -> Parsed:
    """Parse `<path>|<mtime>` lines; names the source does not know are skipped."""
    parsed = Parsed()
    for line, raw in numbered_lines(decode(path, data)):
        file_path, sep, mtime = raw.rpartition("|")
        if not sep:
            raise LoadError(path, line, "line is not <path>|<mtime>")
        fields = name_fields(os.path.basename(file_path))
        if fields is None:
            parsed.skipped += 1
            continue
        fail_if(path, line, values.mtime_error(mtime.strip()))
        parsed.rows.append((line, file_path, *fields, mtime.strip()))
    return parsed


def read_ncem_stat(path: Path, data: bytes) -> Parsed:
    """A stat listing of `data_scan*.data` files."""
    return _read_listing(path, data, ncem_name_fields)


def read_nersc_stat(path: Path, data: bytes) -> Parsed:
    """A stat listing of `FOURD_*.h5` files."""
    return _read_listing(path, data, nersc_name_fields)


def read_ncem_csv(path: Path, data: bytes) -> Parsed:
    """CSV extract with `scan_number` and `time_last_written` (ISO 8601 with offset)."""
    parsed = Parsed()
    order: list[int] | None = None
    width = 0
    for line, fields in csv_records(path, decode(path, data)):
        if order is None:
            wanted = ("scan_number", "time_last_written")
            order, width = header_index(path, line, fields, wanted), len(fields)
            continue
        expect_fields(path, line, fields, width)
        scan, written = (fields[i] for i in order)
        fail_if(path, line, values.integer_error(scan, "scan_number"))
        fail_if(path, line, values.aware_time_error(written))
        parsed.rows.append((line, None, scan, None, written))
    return parsed


def read_nersc_csv(path: Path, data: bytes) -> Parsed:
    """CSV extract `distiller_id,scan_number,datetime` (facility-local, naive)."""
    parsed = Parsed()
    order: list[int] | None = None
    width = 0
    for line, fields in csv_records(path, decode(path, data)):
        if order is None:
            wanted = ("distiller_id", "scan_number", "datetime")
            order, width = header_index(path, line, fields, wanted), len(fields)
            continue
        expect_fields(path, line, fields, width)
        distiller_id, scan, written = (fields[i] for i in order)
        fail_if(path, line, values.integer_error(distiller_id, "distiller_id"))
        fail_if(path, line, values.integer_error(scan, "scan_number"))
        fail_if(path, line, values.naive_time_error(written))
        parsed.rows.append((line, None, distiller_id, scan, None, written))
    return parsed


NCEM_KIND = SourceKind(
    columns=NCEM_COLUMNS,
    readers={"stat": read_ncem_stat, "dir": read_ncem_stat, "csv": read_ncem_csv},
)
NERSC_KIND = SourceKind(
    columns=NERSC_COLUMNS,
    readers={"stat": read_nersc_stat, "dir": read_nersc_stat, "csv": read_nersc_csv},
)
