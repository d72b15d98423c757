"""Line-oriented inputs (sacct text, stat listings, walked folders) through DuckDB's CSV reader.

Millions of sacct lines or stat lines cost seconds in a Python loop. Here DuckDB's own CSV
reader splits the file into lines (one column, no quoting, so each physical line is one row and
`with ordinality` numbers it) and one SQL statement sorts the lines: those that certainly pass
every check go straight into the raw table; the few others (and every line of a file SQL
cannot judge as a whole) go through the Python reader, whose verdict and message are the
contract. The SQL checks are stricter than the Python ones, never looser: a line SQL is unsure
of costs a little time, not a different result (tests/test_bulk.py compares the two paths).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from loaders.config import InputSpec
from loaders.errors import LoadError
from loaders.keys import sql_value
from loaders.sources import KINDS, Parsed
from loaders.sources.common import escaped
from loaders.sources.files import NCEM_NAMES, NERSC_NAMES, listing_line
from loaders.sources.slurm import (
    SACCT_FIELDS,
    Layout,
    headerless_layout,
    is_header,
    layout_of,
    sacct_line,
)

if TYPE_CHECKING:
    import duckdb

    from loaders.writer import RawWriter

# checks written once, stricter than loaders.checks (so a line they pass, Python passes too)
_YEAR = r"[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_CLOCK = r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
_SLURM_TIME = f"^{_YEAR}[T ]{_CLOCK}(\\.\\d{{1,6}})?$"
_SLURM_DURATION = r"^(\d{1,6}-([01]?\d|2[0-3])|\d{1,8}):[0-5]\d:[0-5]\d$"
_EPOCH = r"^\d{1,11}(\.\d{1,9})?$"
#: DuckDB's reader fails on a longer line (and the load's transaction with it): such a file
#: goes to the Python reader
MAX_LINE = 1 << 20


def has_long_line(data: bytes) -> bool:
    """True when a line is MAX_LINE bytes or longer (a window that long without a newline);
    one step per MAX_LINE bytes, not per line."""
    pos, size = 0, len(data)
    while size - pos >= MAX_LINE:
        last = data.rfind(b"\n", pos, pos + MAX_LINE)
        if last == -1:
            return True
        pos = last + 1
    return False


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _slurm_time_ok(column: str) -> str:
    """Unknown/None/empty, or a naive time whose date exists (DuckDB's date cast checks it)."""
    return (
        f"({column} in ('Unknown', 'None', '') or (regexp_full_match({column}, "
        f"{_sql_string(_SLURM_TIME)}) and try_cast(left({column}, 10) as date) is not null))"
    )


def _sacct_sql(layout: Layout, headers: tuple[str, ...]) -> str:
    """Classify sacct lines of one layout: 'row', 'blank' (skipped, like a header naming this
    layout), 'python' (let the Python reader judge: a `|` in a name, a bad value), 'file' (a
    header of another layout: the whole file goes to Python, since it reorders the lines
    after it). A `--parsable` line's trailing empty field is dropped first."""
    names = ", ".join(_sql_string(name) for name in SACCT_FIELDS)
    width = layout.width
    columns = [f"f[{at + 1}]" if at is not None else "null" for at in layout.positions]
    _, job_id, timelimit, elapsed, submit, start, end, req_nodes, *_ = columns
    row_ok = " and ".join(
        [
            f"len(f) = {width}",
            f"{job_id} <> ''",
            *(_slurm_time_ok(c) for c in (submit, start, end)),
            f"regexp_full_match({elapsed}, {_sql_string(_SLURM_DURATION)})",
            f"({timelimit} in ('UNLIMITED', 'Partition_Limit', '') or "
            f"regexp_full_match({timelimit}, {_sql_string(_SLURM_DURATION)}))",
            f"regexp_full_match({req_nodes}, '^(\\d{{1,9}})?$')",
        ]
    )
    known = ", ".join(_sql_string(header) for header in headers)
    return f"""
        select line, text, {", ".join(f"{c} as c{i}" for i, c in enumerate(columns))},
            case
                when text is null then 'blank'
                when text in ({known}) then 'blank'
                when list_has_all(list_transform(f, x -> replace(x, chr(65279), '')),
                    [{names}]) then 'file'
                when {row_ok} then 'row'
                else 'python'
            end as verdict
        from (
            select line, text,
                case when len(s) = {width + 1} and s[{width + 1}] = '' then s[1:{width}]
                    else s end as f
            from (select line, text, string_split(text, '|') as s from bulk_lines)
        )
    """


def _first_line(data: bytes) -> str:
    """The first line of text that is not blank."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end == -1 else end
        line = data[start:end]
        if line.strip():
            return line.decode("utf-8")
        start = end + 1
    return ""


def _sacct_format(spec: InputSpec, data: bytes) -> LineFormat:
    """How SQL reads one sacct file: the layout its first line names (a header) or the
    input's headerless layout, and the header lines that name that layout (skipped)."""
    first = _first_line(data)
    if is_header(first.split("|")):
        layout = layout_of(spec.source, None, first.split("|"))
        header = first
    else:
        layout = headerless_layout(spec.source, spec.sacct_format)
        header = "|".join(spec.sacct_format or SACCT_FIELDS)
    headers = (header.removesuffix("|"), header.removesuffix("|") + "|")

    def python_line(parsed: Parsed, line: int, raw: str) -> None:
        sacct_line(parsed, line, raw, layout)

    columns = tuple(f"c{i}" for i in range(len(layout.positions)))
    return LineFormat(_sacct_sql(layout, headers), columns, python_line)


def _listing_sql(pattern: str, prefix: str, suffix: str, fields: dict[str, str], fits: str) -> str:
    """Classify `<path>|<mtime>` lines: 'row', 'skip' (another kind of file), 'blank',
    'python'. A name that matches `pattern` has its fields at fixed places (`fields`: SQL on
    `name`) and must satisfy `fits` (a number that fits staging's 4-byte integer). String
    functions, not regexes, split the line: twice as fast on 150k lines."""
    picked = ", ".join(f"{sql} as {alias}" for alias, sql in fields.items())
    # an 11-digit epoch is before the year 9999 (checks.LATEST_EPOCH has 12 digits)
    row_ok = (
        f"regexp_full_match(name, {_sql_string(pattern)}) and {fits} and "
        f"regexp_full_match(mtime, {_sql_string(_EPOCH)})"
    )
    return f"""
        select line, text, file_path, mtime, {picked},
            case
                when text is null then 'blank'
                when not contains(text, '|') or trim(text) = '' then 'python'
                when {row_ok} then 'row'
                when not (starts_with(name, {_sql_string(prefix)})
                    and ends_with(name, {_sql_string(suffix)})) then 'skip'
                else 'python'
            end as verdict
        from (
            select line, text, mtime, file_path, split_part(file_path, '/', -1) as name
            from (
                select line, text, mtime, left(text, length(text) - length(mtime) - 1)
                    as file_path
                from (select line, text, split_part(text, '|', -1) as mtime from bulk_lines)
            )
        )
    """


@dataclass(frozen=True)
class LineFormat:
    """How SQL sorts one format's lines, which columns make a row, and the Python reader of
    one line."""

    sql: str
    #: the classified query's columns, in the raw table's column order
    row_columns: tuple[str, ...]
    python_line: Callable[[Parsed, int, str], None]


# a listing line `path|mtime` with a NCEM `data_scan<10>_<part>.data` or NERSC `FOURD_` name;
# the fields sit at fixed places in a name that matches
_NCEM = r"^data_scan\d{10}_\d{1,9}\.data$"
_NCEM_FIELDS = {"g1": "substr(name, 10, 10)", "g2": "substr(name, 21, length(name) - 25)"}
_NCEM_FITS = "substr(name, 10, 10) <= '2147483647'"  # ten digits compare as text
_NERSC = r"^FOURD_\d{6}_\d{4}_\d{5}_\d{5}(_[^/]*)?\.h5$"
_NERSC_FIELDS = {
    "g1": "substr(name, 7, 11)",
    "g2": "substr(name, 19, 5)",
    "g3": "substr(name, 25, 5)",
}


def _ncem_line(parsed: Parsed, line: int, raw: str) -> None:
    from loaders.sources.files import ncem_name_fields

    listing_line(parsed, line, raw, NCEM_NAMES, ncem_name_fields)


def _nersc_line(parsed: Parsed, line: int, raw: str) -> None:
    from loaders.sources.files import nersc_name_fields

    listing_line(parsed, line, raw, NERSC_NAMES, nersc_name_fields)


FORMATS: dict[tuple[str, str], LineFormat] = {
    ("ncem_data_files", "stat"): LineFormat(
        _listing_sql(_NCEM, NCEM_NAMES.prefix, NCEM_NAMES.suffix, _NCEM_FIELDS, _NCEM_FITS),
        ("file_path", "g1", "g2", "mtime"),
        _ncem_line,
    ),
    ("nersc_counted_files", "stat"): LineFormat(
        _listing_sql(_NERSC, NERSC_NAMES.prefix, NERSC_NAMES.suffix, _NERSC_FIELDS, "true"),
        ("file_path", "g2", "g3", "g1", "mtime"),
        _nersc_line,
    ),
}
FORMATS[("ncem_data_files", "dir")] = FORMATS[("ncem_data_files", "stat")]
FORMATS[("nersc_counted_files", "dir")] = FORMATS[("nersc_counted_files", "stat")]


def plain(data: bytes) -> bool:
    """True for text DuckDB's line reader reads exactly as the Python readers do: UTF-8 with no
    byte-order mark, no NUL and no carriage return (the Python readers end lines at \\n only)."""
    if data.startswith(b"\xef\xbb\xbf") or b"\x00" in data or b"\r" in data:
        return False
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def insert_lines(
    writer: RawWriter,
    spec: InputSpec,
    path: Path,
    data: bytes,
    replaced: bool,
    strict: bool,
) -> tuple[Parsed, str | None]:
    """Load one line-oriented input: a changed file's earlier rows are deleted, the lines SQL
    passes are inserted into the raw table now, and the returned Parsed holds the rest as the
    Python reader judged them (rows, rejects), with `bulk_rows` counting the lines inserted
    here."""
    from loaders.reading import parse_file

    key = writer.key(escaped(str(path)))
    if replaced:
        writer.delete_file(key)
    if not plain(data) or data.isspace() or not data or has_long_line(data):
        return parse_file(spec, path, data, strict)
    if (spec.source, spec.format) == ("slurm", "sacct"):
        form: LineFormat | None = _sacct_format(spec, data)
    else:
        form = FORMATS.get((spec.source, spec.format))
    if form is None:
        return parse_file(spec, path, data, strict)
    con = writer.con
    _split_lines(con, data)
    con.execute(f"create or replace temp table bulk_sorted as {form.sql}")
    try:
        counts = dict(
            con.execute("select verdict, count(*) from bulk_sorted group by verdict").fetchall()
        )
        if counts.get("file"):
            return parse_file(spec, path, data, strict)
        _insert_sorted(writer, spec, form, key)
        parsed = Parsed(bulk_rows=counts.get("row", 0), skipped=counts.get("skip", 0))
        if counts.get("python"):
            _python_lines(con, form, parsed)
        if strict and parsed.rejects:
            first = parsed.rejects[0]
            raise LoadError(path, first.line, first.reason)
        return parsed, None
    finally:
        con.execute("drop table if exists bulk_lines")
        con.execute("drop table if exists bulk_sorted")


def _split_lines(con: duckdb.DuckDBPyConnection, data: bytes) -> None:
    """The bytes as the temp table `bulk_lines` (line, text), split by DuckDB's CSV reader."""
    with tempfile.NamedTemporaryFile(prefix="turnaround-", suffix=".txt") as copy:
        # DuckDB reads the bytes that were hashed, not the file again (it may have changed)
        copy.write(data)
        copy.flush()
        con.execute(
            f"""
            create or replace temp table bulk_lines as
            select ordinality as line, text
            from read_csv({_sql_string(copy.name)}, columns = {{'text': 'varchar'}},
                delim = chr(0), quote = '', escape = '', header = false,
                auto_detect = false, new_line = '\\n', max_line_size = {2 * MAX_LINE})
                with ordinality
            """
        )


def _insert_sorted(writer: RawWriter, spec: InputSpec, form: LineFormat, key: str) -> None:
    """Insert the lines SQL passed (`bulk_sorted`) into the raw table, as file `key`."""
    names = ", ".join(KINDS[spec.source].columns)
    picked = ", ".join(form.row_columns)
    writer.con.execute(
        f"""
        insert into raw.{spec.source} ({names}, _source_file, _record_number, _load_id,
            _loaded_at, _time_zone)
        select {picked}, {sql_value(key)}, line, {writer.load_id},
            {sql_value(datetime.now(UTC))}, {sql_value(writer.time_zone)}
        from bulk_sorted where verdict = 'row'
        """
    )


def _python_lines(con: duckdb.DuckDBPyConnection, form: LineFormat, parsed: Parsed) -> None:
    """The lines SQL could not vouch for, judged by the Python reader into `parsed`."""
    lines = con.execute(
        "select line, text from bulk_sorted where verdict = 'python' order by line"
    ).fetchall()
    for line, raw in lines:
        if raw.strip():
            form.python_line(parsed, line, raw)
