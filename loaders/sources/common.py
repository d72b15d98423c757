"""What every reader shares: the Parsed result, decoding, CSV records with line numbers."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loaders.errors import LoadError


@dataclass(frozen=True)
class Reject:
    """A malformed record: where it is, why it was refused, and its text as read."""

    line: int | None
    reason: str
    text: str


@dataclass
class Parsed:
    """Rows of one input: each row is (record number, value, value, ...); the records that
    could not be read; and how many entries were not the source's at all (skipped)."""

    rows: list[tuple[object, ...]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: int = 0
    #: rows DuckDB's reader already wrote to the raw table (loaders.bulk), not in `rows`
    bulk_rows: int = 0

    def accept(self, line: int, text: str, *errors: str | None) -> bool:
        """True when every check passed; otherwise the first error rejects the record."""
        if has_bad_bytes(text):
            errors = ("bytes that are not UTF-8", *errors)
        for error in errors:
            if error is not None:
                self.rejects.append(Reject(line, error, printable(text)))
                return False
        return True


#: (path, bytes, **the input's reader options) -> Parsed
Reader = Callable[..., Parsed]
#: (file name, bytes) -> the file's one row as CSV fields, or None: the reader must judge
QuickReader = Callable[[str, bytes], str | None]


@dataclass(frozen=True)
class SourceKind:
    """A source's raw columns and its reader per format; and, for a format of many small
    files, a quick reader of the files in their usual form (loaders.quick)."""

    columns: tuple[str, ...]
    readers: dict[str, Reader]
    #: format -> a reader that gives a file's one row as `columns` CSV fields (a field is
    #: empty for NULL, else bare text that needs no quoting or text in double quotes holding
    #: none), or None for a file it does not vouch for: `readers` then has the last word, and
    #: for every file the quick reader takes it gives the same row and no reject
    quick: dict[str, QuickReader] = field(default_factory=dict)


def decode(path: Path | str, data: bytes) -> str:
    """UTF-8 text of a file, a leading BOM dropped. Bytes that are not UTF-8 are kept as lone
    surrogates, so the records holding them are rejected one by one (`has_bad_bytes`)."""
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    return body.decode("utf-8", "surrogateescape")


_BAD_BYTES = re.compile("[\udc80-\udcff]")


def has_bad_bytes(text: str) -> bool:
    """True when decoded text holds bytes that were not UTF-8."""
    return _BAD_BYTES.search(text) is not None


def printable(text: str) -> str:
    """Text safe to store: bytes that were not UTF-8 shown as \\xNN."""
    if not has_bad_bytes(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


#: what `escaped` writes as \xNN: control characters (C0 and DEL: a newline would split a
#: listing's line) and bytes that are not UTF-8 (lone surrogates in Python's str)
_ESCAPED_CHARS = "\x00-\x1f\x7f\udc80-\udcff"


def _escapes(chars: str) -> re.Pattern[str]:
    """Runs of backslashes before an `x` (group 1), or before a character of `chars` (2, 3)."""
    return re.compile(f"(\\\\+)(?=x)|(\\\\*)([{chars}])")


_ESCAPES = _escapes(_ESCAPED_CHARS)
_LISTED_ESCAPES = _escapes(_ESCAPED_CHARS + "|")


def _escape(match: re.Match[str]) -> str:
    before_x, run, char = match.groups()
    if before_x is not None:
        return before_x * 2
    code = ord(char)
    return f"{run * 2}\\x{code - 0xDC00 if code >= 0xDC80 else code:02x}"


def escaped(name: str, pipe: bool = False) -> str:
    """A path (or name) as the warehouse stores it, one spelling per name: a byte that is not
    UTF-8 and a control character written \\xNN (`|` too with `pipe`, for a listing's line), and
    a run of backslashes before an `x` or before such an escape doubled. So `\\xff` from a
    byte, `\\\\xff` from a name holding `\\xff`, and a name without any of these is its own
    spelling (an odd run of backslashes before `x` starts an escape, an even one does not)."""
    if "\\x" not in name and name.isprintable() and not (pipe and "|" in name):
        return name  # nearly every path: isprintable is False for controls and surrogates
    return (_LISTED_ESCAPES if pipe else _ESCAPES).sub(_escape, name)


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def has_control(text: str) -> bool:
    """True when text holds a control character (C0 or DEL)."""
    return _CONTROL.search(text) is not None


#: why a JSON document that Python's parser cannot descend is refused (a RecursionError)
TOO_DEEP = "JSON nested too deeply to read"


def text_of_line(text: str, line: int | None) -> str:
    """The given line of a file's text as decoded (its first 2,000 characters when no line is
    known); `Parsed.accept` and `printable` make it safe to store."""
    if line is None:
        return text[:2000]
    lines = text.split("\n")
    return lines[line - 1].removesuffix("\r") if 0 < line <= len(lines) else ""


def first_bad_bytes_line(text: str) -> int | None:
    """The first line holding bytes that are not UTF-8."""
    for number, line in enumerate(text.split("\n"), 1):
        if has_bad_bytes(line):
            return number
    return None


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line; only \n ends a line (\r\n too), so the
    numbers are the file's physical lines whatever other separators a value holds."""
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if line.strip():
            yield number, line


def fail_if(path: Path | str, line: int | None, error: str | None) -> None:
    """Raise LoadError at `line` when a check returned an error (a file-level problem)."""
    if error is not None:
        raise LoadError(path, line, error)


def csv_records(
    path: Path | str, text: str, delimiter: str = ","
) -> Iterator[tuple[int, list[str], str]]:
    """Yield (line number, fields, text of that line) for each non-blank CSV record; a record
    spanning lines is numbered (and shown) by its last line."""
    # only \n ends a line (as everywhere here): a bare \r inside a quoted field does not
    physical = text.removesuffix("\n").split("\n")
    reader = csv.reader((line + "\n" for line in physical), delimiter=delimiter, strict=True)
    line = 0
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or fields == [""]:
                continue
            yield line, fields, physical[line - 1].removesuffix("\r")
    except csv.Error as exc:
        raise LoadError(path, reader.line_num or line + 1, f"malformed CSV: {exc}") from None


def header_index(
    path: Path | str, line: int | None, header: Sequence[str], wanted: Sequence[str]
) -> list[int]:
    """Positions of the `wanted` columns in a header; LoadError when one is missing."""
    names = [name.strip().removeprefix("\ufeff") for name in header]
    missing = [name for name in wanted if name not in names]
    if missing:
        raise LoadError(
            path,
            line,
            f"header lacks {', '.join(missing)} (expected {','.join(wanted)}; got "
            f"{','.join(names)})",
        )
    return [names.index(name) for name in wanted]


def field_count_error(fields: Sequence[str], count: int) -> str | None:
    """An error when a record has the wrong number of fields."""
    if len(fields) != count:
        return f"expected {count} fields, found {len(fields)}"
    return None


def json_type(value: object) -> str:
    """How a parsed JSON value's type reads in a message: an object, an array, a number, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a number" if type(value).__name__ == "JsonNumber" else "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an object" if type(value).__name__ == "JsonObject" else "an array"
    return "a value"
