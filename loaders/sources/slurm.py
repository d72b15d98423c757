"""Slurm accounting: `sacct --parsable2` text and the CSV extract of the same fields.

Every line is kept, job steps included (`123.batch`); staging drops steps and repeats.
"""

from __future__ import annotations

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


def check_record(path: Path, line: int, record: tuple[str, ...]) -> None:
    """Check the fields staging will type: job id, times, durations, node count."""
    _, job_id, timelimit, elapsed, submit, start, end, req_nodes, *_ = record
    if not job_id:
        raise LoadError(path, line, "empty JobID")
    for stamp in (submit, start, end):
        fail_if(path, line, values.slurm_time_error(stamp))
    fail_if(path, line, values.slurm_duration_error(elapsed))
    fail_if(path, line, values.slurm_duration_error(timelimit, limit=True))
    fail_if(path, line, values.integer_error(req_nodes, "ReqNodes", optional=True))


def _is_header(fields: list[str]) -> bool:
    """A sacct header line names every field of the format, in any order."""
    return set(SACCT_FIELDS) <= set(fields)


def read_sacct(path: Path, data: bytes) -> Parsed:
    """Parse `sacct --parsable2` output; the header line is optional and may reorder fields."""
    parsed = Parsed()
    order: list[int] | None = None
    header: list[str] | None = None
    for line, raw in numbered_lines(decode(path, data)):
        fields = raw.split("|")
        if _is_header(fields):
            # a header (again, when several sacct outputs were appended) names the field order
            if header is not None and fields != header:
                raise LoadError(path, line, "a second header with another field order")
            if order is None:
                order, header, width = (
                    header_index(path, line, fields, SACCT_FIELDS),
                    fields,
                    len(fields),
                )
            continue
        if order is None:
            order, width = list(range(len(SACCT_FIELDS))), len(SACCT_FIELDS)
        expect_fields(path, line, fields, width)
        record = tuple(fields[i] for i in order)
        check_record(path, line, record)
        parsed.rows.append((line, *record))
    return parsed


def read_csv(path: Path, data: bytes) -> Parsed:
    """Parse the CSV extract with header `Job Name,Job ID,...,ExitCode`."""
    parsed = Parsed()
    order: list[int] | None = None
    width = 0
    for line, fields in csv_records(path, decode(path, data)):
        if order is None:
            order, width = header_index(path, line, fields, CSV_FIELDS), len(fields)
            continue
        expect_fields(path, line, fields, width)
        record = tuple(fields[i] for i in order)
        check_record(path, line, record)
        parsed.rows.append((line, *record))
    return parsed


KIND = SourceKind(columns=COLUMNS, readers={"sacct": read_sacct, "csv": read_csv})
