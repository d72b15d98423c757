"""Slurm accounting: `sacct --parsable2` text and the CSV extract of the same fields.

Every line is kept, job steps included (`123.batch`); staging drops steps and repeats.
"""

from __future__ import annotations

from pathlib import Path

from loaders import values
from loaders.sources.common import (
    Parsed,
    SourceKind,
    csv_records,
    decode,
    field_count_error,
    header_index,
    numbered_lines,
)

COLUMNS = (
    "job_name",
    "job_id",
    "timelimit",
    "elapsed",
    "submit_time",
    "start_time",
    "end_time",
    "req_nodes",
    "qos",
    "user_name",
    "exit_code",
)
SACCT_FIELDS = (
    "JobName",
    "JobID",
    "Timelimit",
    "Elapsed",
    "Submit",
    "Start",
    "End",
    "ReqNodes",
    "QOS",
    "User",
    "ExitCode",
)
CSV_FIELDS = (
    "Job Name",
    "Job ID",
    "Timelimit",
    "Elapsed",
    "Submit",
    "Start",
    "End",
    "ReqNodes",
    "QOS",
    "User",
    "ExitCode",
)


def record_errors(record: tuple[str, ...]) -> list[str | None]:
    """Checks of the fields staging will type: job id, times, durations, node count."""
    _, job_id, timelimit, elapsed, submit, start, end, req_nodes, *_ = record
    return [
        None if job_id else "empty JobID",
        *(values.slurm_time_error(stamp) for stamp in (submit, start, end)),
        values.slurm_duration_error(elapsed),
        values.slurm_duration_error(timelimit, limit=True),
        values.integer_error(req_nodes, "ReqNodes", optional=True),
    ]


def _is_header(fields: list[str]) -> bool:
    """A sacct header line names every field of the format, in any order (a BOM of an
    appended file's start is not part of its first name)."""
    return set(SACCT_FIELDS) <= {f.removeprefix("\ufeff") for f in fields}


def read_sacct(path: Path | str, data: bytes) -> Parsed:
    """Parse `sacct --parsable2` output; the header line is optional and may reorder fields."""
    parsed = Parsed()
    order: list[int] | None = None
    width = len(SACCT_FIELDS)
    for line, raw in numbered_lines(decode(path, data)):
        fields = raw.split("|")
        if _is_header(fields):
            # a header names the field order of the lines after it (several sacct outputs
            # appended into one file each bring theirs)
            order, width = header_index(path, line, fields, SACCT_FIELDS), len(fields)
            continue
        sacct_line(parsed, line, raw, fields, order, width)
    return parsed


def sacct_line(
    parsed: Parsed, line: int, raw: str, fields: list[str], order: list[int] | None, width: int
) -> None:
    """One sacct line that is not a header: a row, or a reject. `order` maps the header's
    fields to the format's (None: no header yet, the format's own order)."""
    if order is None:
        order, width = list(range(len(SACCT_FIELDS))), len(SACCT_FIELDS)
    if not parsed.accept(line, raw, field_count_error(fields, width)):
        return
    record = tuple(fields[i] for i in order)
    if parsed.accept(line, raw, *record_errors(record)):
        parsed.rows.append((line, *record))


def read_csv(path: Path | str, data: bytes) -> Parsed:
    """Parse the CSV extract with header `Job Name,Job ID,...,ExitCode`."""
    parsed = Parsed()
    order: list[int] | None = None
    width = 0
    text = decode(path, data)
    for line, fields, raw in csv_records(path, text):
        if order is None:
            order, width = header_index(path, line, fields, CSV_FIELDS), len(fields)
            continue
        if not parsed.accept(line, raw, field_count_error(fields, width)):
            continue
        record = tuple(fields[i] for i in order)
        if parsed.accept(line, raw, *record_errors(record)):
            parsed.rows.append((line, *record))
    return parsed


KIND = SourceKind(columns=COLUMNS, readers={"sacct": read_sacct, "csv": read_csv})
