"""File listings: data files written at NCEM and counted HDF5 files at NERSC.

Both come as stat listings (`<path>|<mtime>` lines), directories walked here, or CSV extracts.
A listed file whose name is not one of the source's files is skipped and counted, not loaded.
A walk writes the same lines, one per regular file, and a line `<path>\t<why>` (no `|`) for an
entry it refuses, which the reader rejects naming it: no name can forge or merge lines.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loaders import checks
from loaders.errors import LoadError
from loaders.sources.common import (
    Parsed,
    SourceKind,
    csv_records,
    decode,
    escaped,
    field_count_error,
    has_bad_bytes,
    has_control,
    header_index,
    numbered_lines,
)

NCEM_COLUMNS = ("file_path", "scan_number", "file_part", "mtime")
NERSC_COLUMNS = ("file_path", "distiller_id", "scan_number", "acquired_label", "mtime")
_NCEM_NAME = re.compile(r"^data_scan(\d{10})_(\d+)\.data\Z", re.ASCII)
_NERSC_NAME = re.compile(r"^FOURD_(\d{6}_\d{4})_(\d{5})_(\d{5})(?:_[^/]*)?\.h5\Z", re.ASCII)


@dataclass(frozen=True)
class FileNames:
    """The names of a source's files: how to read fields from one, and what a near miss looks
    like (a name of the source's kind that breaks its pattern is rejected, not skipped)."""

    pattern: re.Pattern[str]
    prefix: str
    suffix: str
    described: str
    #: what each field the loader reads from a name is ("" for text that is not a number)
    number_names: tuple[str, ...] = ()

    def fields(self, name: str) -> tuple[str, ...] | None:
        match = self.pattern.match(name)
        return match.groups() if match else None

    def near_miss(self, name: str) -> bool:
        return name.startswith(self.prefix) and name.endswith(self.suffix)


NCEM_NAMES = FileNames(
    _NCEM_NAME,
    "data_scan",
    ".data",
    "data_scan<scan, 10 digits>_<part>.data",
    ("scan number", "part"),
)
NERSC_NAMES = FileNames(
    _NERSC_NAME,
    "FOURD_",
    ".h5",
    "FOURD_<yymmdd>_<hhmm>_<distiller id, 5>_<scan, 5>[_*].h5",
    ("", "distiller id", "scan number"),
)


def ncem_name_fields(name: str) -> tuple[str, ...] | None:
    """(scan_number, file_part) from `data_scan<10 digits>_<part>.data`, else None."""
    return NCEM_NAMES.fields(name)


def nersc_name_fields(name: str) -> tuple[str, ...] | None:
    """(distiller_id, scan_number, acquired_label) from a FOURD_*.h5 name, else None."""
    fields = NERSC_NAMES.fields(name)
    if fields is None:
        return None
    label, distiller_id, scan = fields
    return distiller_id, scan, label


NameFields = Callable[[str], tuple[str, ...] | None]


def walk_listing(root: Path) -> bytes:
    """Walk a directory (symlinked folders not followed) into a stat listing: a line per
    entry, as `stat_line` writes it. FileNotFoundError when `root` is gone; a subfolder gone
    while walking has nothing in it; one that cannot be listed fails the walk (a LoadError:
    its files' rows are kept, not dropped)."""
    lines: list[str] = []

    def unreadable(error: OSError) -> None:
        if isinstance(error, FileNotFoundError | NotADirectoryError):
            if error.filename != os.fspath(root):
                return
            raise error
        raise LoadError(error.filename or root, None, f"cannot read: {error.strerror}")

    for folder, dirs, names in os.walk(root, onerror=unreadable, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            line = stat_line(os.path.join(folder, name))
            if line is not None:
                lines.append(line)
    return "".join(lines).encode("utf-8", "surrogateescape")


#: why a walked entry is refused (`refused_line`): the listing cannot hold its path as it is
PATH_NOT_UTF8 = "path is not UTF-8"
PATH_CONTROL = "path holds a control character"
_REFUSED = re.compile(f"([^\t|]*)\t({PATH_NOT_UTF8}|{PATH_CONTROL}|cannot stat: [^\t|]*)")


def stat_line(path: str) -> str | None:
    """One walked entry's listing line. A regular file (or a link to one: its target's mtime)
    is `path|epoch.nanoseconds`. An entry that is no file of data is not listed (None): gone
    since the folder was read, a dangling link, a FIFO, socket or device (only a regular file
    holds data; opening a FIFO would block, and folders are walked, not listed). An entry that
    cannot be stat'ed (a link to itself) or whose path a listing line cannot hold (not UTF-8,
    a control character: a newline would forge a line) is refused by a line of its own
    (`refused_line`), which the listing's reader rejects naming it."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return refused_line(path, f"cannot stat: {exc.strerror}")
    if not stat.S_ISREG(info.st_mode):
        return None
    if not path.isprintable():  # nearly every path is: one test, then the two that matter
        if has_bad_bytes(path):
            return refused_line(path, PATH_NOT_UTF8)
        if has_control(path):
            return refused_line(path, PATH_CONTROL)
    mtime_ns = info.st_mtime_ns
    return f"{path}|{mtime_ns // 10**9}.{mtime_ns % 10**9:09d}\n"


def refused_line(path: str, why: str) -> str:
    """A listing line that stands for a refused entry: `<path>\\t<why>`, the path escaped
    (`escaped`, `|` too), so the line has no `|`: DuckDB's reader hands it to `listing_line`,
    which rejects it."""
    return f"{escaped(path, pipe=True)}\t{why}\n"


def _read_listing(
    path: Path | str, data: bytes, names: FileNames, name_fields: NameFields
) -> Parsed:
    """Parse `<path>|<mtime>` lines; names of other kinds of file are skipped and counted, names
    of the source's kind that break its pattern are rejected."""
    parsed = Parsed()
    for line, raw in numbered_lines(decode(path, data)):
        listing_line(parsed, line, raw, names, name_fields)
    return parsed


def listing_line(
    parsed: Parsed, line: int, raw: str, names: FileNames, name_fields: NameFields
) -> None:
    """One non-blank `<path>|<mtime>` line: a row, a skipped entry or a reject (a walk's
    refused entry, `<path>\t<why>`, is rejected naming its path)."""
    file_path, sep, mtime = raw.rpartition("|")
    if not sep:
        refused = _REFUSED.fullmatch(raw)
        if refused:  # a walked entry the walk refused (`refused_line`): name it
            path, why = refused.groups()
            parsed.accept(line, path, f"'{path}': {why}")
        else:
            parsed.accept(line, raw, "line is not <path>|<mtime>")
        return
    name = os.path.basename(file_path)
    fields = name_fields(name)
    if fields is None and not names.near_miss(name):
        parsed.skipped += 1
        return
    name_error = None if fields is not None else f"file name is not {names.described}"
    numbers = [
        checks.integer_error(value, f"{what} in the file name")
        for what, value in zip(names.number_names, names.fields(name) or (), strict=False)
        if what
    ]
    if parsed.accept(line, raw, name_error, *numbers, checks.mtime_error(mtime.strip())):
        parsed.rows.append((line, file_path, *(fields or ()), mtime.strip()))


def read_ncem_stat(path: Path | str, data: bytes) -> Parsed:
    """A stat listing of `data_scan*.data` files."""
    return _read_listing(path, data, NCEM_NAMES, ncem_name_fields)


def read_nersc_stat(path: Path | str, data: bytes) -> Parsed:
    """A stat listing of `FOURD_*.h5` files."""
    return _read_listing(path, data, NERSC_NAMES, nersc_name_fields)


Checks = Callable[[list[str]], list[str | None]]
Row = Callable[[int, list[str]], tuple[object, ...]]


def _read_extract(
    path: Path | str, data: bytes, wanted: tuple[str, ...], checks: Checks, row: Row
) -> Parsed:
    """A CSV extract with (at least) the `wanted` columns; one row per line."""
    parsed = Parsed()
    order: list[int] | None = None
    width = 0
    text = decode(path, data)
    for line, fields, raw in csv_records(path, text):
        if order is None:
            order, width = header_index(path, line, fields, wanted), len(fields)
            continue
        if not parsed.accept(line, raw, field_count_error(fields, width)):
            continue
        picked = [fields[i] for i in order]
        if parsed.accept(line, raw, *checks(picked)):
            parsed.rows.append(row(line, picked))
    return parsed


def read_ncem_csv(path: Path | str, data: bytes) -> Parsed:
    """CSV extract with `scan_number` and `time_last_written` (ISO 8601 with offset)."""
    return _read_extract(
        path,
        data,
        ("scan_number", "time_last_written"),
        lambda f: [checks.integer_error(f[0], "scan_number"), checks.aware_time_error(f[1])],
        lambda line, f: (line, None, f[0], None, f[1]),
    )


def read_nersc_csv(path: Path | str, data: bytes) -> Parsed:
    """CSV extract `distiller_id,scan_number,datetime` (facility-local, naive)."""
    return _read_extract(
        path,
        data,
        ("distiller_id", "scan_number", "datetime"),
        lambda f: [
            checks.integer_error(f[0], "distiller_id"),
            checks.integer_error(f[1], "scan_number"),
            checks.naive_time_error(f[2]),
        ],
        lambda line, f: (line, None, f[0], f[1], None, f[2]),
    )


NCEM_KIND = SourceKind(
    columns=NCEM_COLUMNS,
    readers={"stat": read_ncem_stat, "dir": read_ncem_stat, "csv": read_ncem_csv},
)
NERSC_KIND = SourceKind(
    columns=NERSC_COLUMNS,
    readers={"stat": read_nersc_stat, "dir": read_nersc_stat, "csv": read_nersc_csv},
)
