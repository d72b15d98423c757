"""The keys files are stored under in the warehouse, and SQL literals for the load's statements.

A file's key is its path escaped (`loaders.sources.common.escaped`: one spelling per name)
and, inside the config's folder, relative to it (`relative`), so a project copied or moved
keeps its ledger.

The load's statements carry their values as SQL literals (`sql_value`), not as parameters:
DuckDB imports pandas (a third of a second) at the first statement with parameters.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from loaders.sources.common import escaped


def folder_prefix(base: Path | None) -> str:
    """The config folder as the start of the stored paths of the files inside it ('' for
    none)."""
    return "" if base is None else escaped(str(base)).rstrip("/") + "/"


def absolute(key: str, prefix: str) -> str:
    """A ledger key as a path: keys of files in the config's folder are relative to it."""
    return key if not prefix or key.startswith("/") else prefix + key


def relative(path: str, prefix: str) -> str:
    """A file's key in the warehouse: its path relative to the config's folder when inside
    it (a project copied or moved keeps its ledger), else absolute."""
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path


def relative_sql(column: str, prefix: str) -> str:
    """`relative` in SQL, for rows the writer inserts from JSON files or a frame."""
    if not prefix:
        return column
    quoted = sql_value(prefix)
    return (
        f"(case when starts_with({column}, {quoted}) "
        f"then substr({column}, {len(prefix) + 1}) else {column} end)"
    )


def sql_value(value: object) -> str:
    """A value as a DuckDB literal: text quoted (a control character or lone surrogate as
    `chr(n)`, so any text survives), numbers as they are, None as NULL, a bool as one."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"cast({value!r} as double)"
    if isinstance(value, datetime):
        return f"cast('{value.isoformat()}' as timestamp with time zone)"
    text = str(value)
    if text.isprintable() or all(c.isprintable() or c == " " for c in text):
        return "'" + text.replace("'", "''") + "'"
    parts = [
        f"chr({ord(c)})" if not c.isprintable() else "'" + c.replace("'", "''") + "'" for c in text
    ]
    return "(" + " || ".join(parts) + ")"


def sql_values(values: list[object] | tuple[object, ...]) -> str:
    """A parenthesised list of literals, for `in (...)` (at least one value)."""
    return "(" + ", ".join(sql_value(value) for value in values) + ")"
