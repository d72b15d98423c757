"""What every reader shares: the Parsed result, decoding, CSV records with line numbers."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loaders.errors import LoadError


@dataclass
class Parsed:
    """Rows of one input: each row is (record number, value, value, ...)."""

    rows: list[tuple[object, ...]] = field(default_factory=list)
    skipped: int = 0


Reader = Callable[[Path, bytes], Parsed]


@dataclass(frozen=True)
class SourceKind:
    """A source's raw columns and its reader per format."""

    columns: tuple[str, ...]
    readers: dict[str, Reader]


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text of a file (a leading BOM dropped); bad bytes raise LoadError with their line."""
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise LoadError(path, line, f"bytes that are not UTF-8 ({exc.reason})") from None


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line; only \n ends a line (\r\n too), so the
    numbers are the file's physical lines whatever other separators a value holds."""
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if line.strip():
            yield number, line


def fail_if(path: Path, line: int, error: str | None) -> None:
    """Raise LoadError at `line` when a value check returned an error."""
    if error is not None:
        raise LoadError(path, line, error)


def csv_records(path: Path, text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) for each non-blank CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 0
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or fields == [""]:
                continue
            yield line, fields
    except csv.Error as exc:
        raise LoadError(path, reader.line_num or line + 1, f"malformed CSV: {exc}") from None


def header_index(path: Path, line: int, header: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """Positions of the `wanted` columns in a header; LoadError when one is missing."""
    names = [name.strip() for name in header]
    missing = [name for name in wanted if name not in names]
    if missing:
        raise LoadError(
            path,
            line,
            f"header lacks {', '.join(missing)} (expected {','.join(wanted)}; got "
            f"{','.join(names)})",
        )
    return [names.index(name) for name in wanted]


def expect_fields(path: Path, line: int, fields: Sequence[str], count: int) -> None:
    """LoadError when a record has the wrong number of fields."""
    if len(fields) != count:
        raise LoadError(path, line, f"expected {count} fields, found {len(fields)}")
