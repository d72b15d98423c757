"""Slurm accounting: `sacct --parsable2`/`--parsable` text and the CSV extract of the same fields.

Every line is kept, job steps included (`123.batch`); staging drops steps and repeats.

Real sacct output has three quirks the layout below absorbs: it does not escape its delimiter,
so a `|` inside a job name (the only free-text field) splits it; `--parsable` ends every line
with a `|`; and the field list is whatever `--format` asked for (a header names it, or the
input's `sacct_format` for headerless files). `State` is optional.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loaders import checks
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
    "state",
)
#: the fields every sacct input must carry, in the order of a headerless line
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
#: fields read when present (raw column NULL otherwise)
OPTIONAL_FIELDS = ("State",)
#: what `pull-slurm` asks sacct for
PULL_FIELDS = (*SACCT_FIELDS, *OPTIONAL_FIELDS)
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
CSV_OPTIONAL_FIELDS = ("State",)


@dataclass(frozen=True)
class Layout:
    """Where each raw column sits in a line's fields: `positions` holds one index per
    COLUMNS entry (None: the field is absent, the column NULL), `width` the number of fields,
    `name_at` where JobName is, `trailing_bar` whether lines end with a `|` (--parsable)."""

    positions: tuple[int | None, ...]
    width: int
    name_at: int | None
    trailing_bar: bool = False

    def split(self, raw: str) -> list[str]:
        """A line's fields, a `--parsable` line's trailing bar dropped."""
        fields = raw.split("|")
        if len(fields) > self.width and fields[-1] == "":
            fields.pop()
        return fields

    def name_joined(self, fields: list[str]) -> list[str]:
        """The fields with those a `|` in the job name split off joined back: of k extra
        fields, the k + 1 from JobName on are the name."""
        extra = len(fields) - self.width
        if extra <= 0 or self.name_at is None:
            return fields
        at = self.name_at
        name = "|".join(fields[at : at + extra + 1])
        if "\r" in name:  # a bare carriage return ends a line elsewhere: not one record
            return fields
        return [*fields[:at], name, *fields[at + extra + 1 :]]

    def record(self, fields: Sequence[str]) -> tuple[str | None, ...]:
        """The raw row of a line with the right number of fields."""
        return tuple(None if at is None else fields[at] for at in self.positions)


def layout_of(
    path: Path | str,
    line: int | None,
    fields: Sequence[str],
    required: Sequence[str] = SACCT_FIELDS,
    optional: Sequence[str] = OPTIONAL_FIELDS,
) -> Layout:
    """The layout a header (or a `--format` list) names; LoadError when it lacks a field."""
    names = [name.strip().removeprefix("\ufeff") for name in fields]
    trailing = len(names) > 1 and names[-1] == ""
    if trailing:
        names.pop()
    found = header_index(path, line, names, required)
    optional_at = [names.index(name) if name in names else None for name in optional]
    positions = (*found, *optional_at)
    return Layout(positions, len(names), positions[0], trailing)


DEFAULT_LAYOUT = layout_of("", None, SACCT_FIELDS)


def record_errors(record: Sequence[str | None]) -> list[str | None]:
    """Checks of the fields staging will type: job id, times, durations, node count."""
    _, job_id, timelimit, elapsed, submit, start, end, req_nodes, *_ = (
        value or "" for value in record
    )
    return [
        None if job_id else "empty JobID",
        *(checks.slurm_time_error(stamp) for stamp in (submit, start, end)),
        checks.slurm_duration_error(elapsed),
        checks.slurm_duration_error(timelimit, limit=True),
        checks.integer_error(req_nodes, "ReqNodes", optional=True),
    ]


def is_header(fields: Sequence[str]) -> bool:
    """A sacct header line names every required field, in any order (a BOM of an appended
    file's start is not part of its first name)."""
    return set(SACCT_FIELDS) <= {f.removeprefix("\ufeff") for f in fields}


def headerless_layout(path: Path | str, sacct_format: Sequence[str] | None) -> Layout:
    """The layout of lines before any header: the input's `sacct_format`, or the default."""
    if not sacct_format:
        return DEFAULT_LAYOUT
    return layout_of(path, None, sacct_format)


def read_sacct(path: Path | str, data: bytes, sacct_format: Sequence[str] | None = None) -> Parsed:
    """Parse `sacct --parsable2` (or `--parsable`) output; a header line is optional and may
    reorder fields; headerless lines follow `sacct_format` (default: SACCT_FIELDS)."""
    parsed = Parsed()
    layout = headerless_layout(path, sacct_format)
    for line, raw in numbered_lines(decode(path, data)):
        fields = raw.split("|")
        if is_header(fields):
            # a header names the field order of the lines after it (several sacct outputs
            # appended into one file each bring theirs)
            layout = layout_of(path, line, fields)
            continue
        sacct_line(parsed, line, raw, layout)
    return parsed


def sacct_line(parsed: Parsed, line: int, raw: str, layout: Layout) -> None:
    """One sacct line that is not a header: a row, or a reject. A line with extra fields is
    read with a `|` in its job name; when that does not give valid values, the extra fields
    are the error."""
    split = layout.split(raw)
    fields = layout.name_joined(split)
    if not parsed.accept(line, raw, field_count_error(fields, layout.width)):
        return
    record = layout.record(fields)
    errors = record_errors(record)
    if fields is not split and any(errors):
        errors = [field_count_error(split, layout.width)]
    if parsed.accept(line, raw, *errors):
        parsed.rows.append((line, *record))


def read_csv(path: Path | str, data: bytes) -> Parsed:
    """Parse the CSV extract with header `Job Name,Job ID,...,ExitCode[,State]`."""
    parsed = Parsed()
    layout: Layout | None = None
    text = decode(path, data)
    for line, fields, raw in csv_records(path, text):
        if layout is None:
            layout = layout_of(path, line, fields, CSV_FIELDS, CSV_OPTIONAL_FIELDS)
            continue
        if not parsed.accept(line, raw, field_count_error(fields, layout.width)):
            continue
        record = layout.record(fields)
        if parsed.accept(line, raw, *record_errors(record)):
            parsed.rows.append((line, *record))
    return parsed


KIND = SourceKind(columns=COLUMNS, readers={"sacct": read_sacct, "csv": read_csv})
