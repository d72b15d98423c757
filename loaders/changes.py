"""Which files changed since the ledger last saw them.

The ledger's size and mtime of a file decide first: a file whose stat is what the ledger
recorded is not read again (a daily refresh of a tree of 100k+ status files stats them; it
does not open them). Any other file is read and hashed; an unchanged hash is still unchanged
(and the ledger takes its new mtime).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import duckdb

from loaders.config import InputSpec
from loaders.keys import absolute, folder_prefix, sql_value
from loaders.sources import KINDS
from loaders.sources.common import escaped


class LedgerState(NamedTuple):
    """What the ledger holds of a path's latest load (a tuple: 100k+ of them per load)."""

    sha256: str
    size: int | None
    mtime_ns: int | None
    load_id: int


def ledger_states(
    con: duckdb.DuckDBPyConnection, source: str, base: Path | None = None
) -> dict[str, LedgerState]:
    """What the ledger holds of each path's latest load of a source, by absolute path (a key
    relative to the config's folder `base` made absolute; without `base`, as stored)."""
    rows = con.execute(
        f"""
        select path, arg_max(sha256, load_id), arg_max(size_bytes, load_id),
            arg_max(mtime_ns, load_id), max(load_id)
        from raw.loads
        where source = {sql_value(source)} and status in ('loaded', 'replaced')
        group by path
        """
    ).fetchall()
    prefix = folder_prefix(base)
    return {absolute(row[0], prefix): LedgerState._make(row[1:]) for row in rows}


def states_as_read(
    con: duckdb.DuckDBPyConnection, spec: InputSpec, known: dict[str, LedgerState]
) -> dict[str, LedgerState]:
    """The ledger's entries, those of files last read another way than `spec` reads them now
    (another zone, other sacct fields) made unknown-but-loaded: read again, and replacing
    their rows."""
    stale = con.execute(
        f"""
        select path from raw.loads
        where source = {sql_value(spec.source)} and status in ('loaded', 'replaced')
        group by path
        having arg_max(reading, load_id) is not null
            and arg_max(reading, load_id) <> {sql_value(spec.reading())}
        """
    ).fetchall()
    prefix = folder_prefix(spec.base_dir)
    for (key,) in stale:
        path = absolute(key, prefix)
        if path in known:
            known[path] = LedgerState("", None, None, known[path].load_id)
    return known


def same_stat(before: LedgerState, path: str) -> bool:
    """True when the file's size and mtime are what the ledger recorded (it is not read)."""
    info = os.stat(path)
    return (before.size, before.mtime_ns) == (info.st_size, info.st_mtime_ns)


def keys_made_relative(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    """Ledger keys and row sources stored absolute (before keys were relative) under the
    config's folder become relative, so the next load finds them."""
    quoted = sql_value(prefix)
    (found,) = con.execute(
        f"select count(*) from raw.loads where starts_with(path, {quoted})"
    ).fetchone() or (0,)
    if not found:
        return
    cut = len(prefix) + 1
    con.execute(
        f"update raw.loads set path = substr(path, {cut}) where starts_with(path, {quoted})"
    )
    con.execute(
        f"update raw.rejected_records set file_path = substr(file_path, {cut}) "
        f"where starts_with(file_path, {quoted})"
    )
    for source in KINDS:
        con.execute(
            f"update raw.{source} set _source_file = substr(_source_file, {cut}) "
            f"where starts_with(_source_file, {quoted})"
        )


def forget_unreadable(con: duckdb.DuckDBPyConnection, spec: InputSpec, keys: list[str]) -> None:
    """`cannot read: …` is the verdict of one attempt: the reject an unreadable file left goes
    when a load finds the file again, which then gives its own (another reject if it is still
    unreadable; none if it reads, or is as it was when it last loaded and is not read)."""
    failed = con.execute(
        "select path, load_id from raw.loads "
        f"where source = {sql_value(spec.source)} and status = 'unreadable'"
    ).fetchall()
    if not failed:
        return
    prefix = folder_prefix(spec.base_dir)
    listed = {escaped(key) for key in keys}
    found = [(path, load_id) for path, load_id in failed if absolute(path, prefix) in listed]
    if found:
        pairs = ", ".join(f"({sql_value(path)}, {int(load_id)})" for path, load_id in found)
        con.execute(
            "delete from raw.rejected_records where source = "
            f"{sql_value(spec.source)} and raw_text = '' and exists (select 1 from "
            f"(values {pairs}) as found (path, load_id) "
            "where found.path = file_path and found.load_id = raw.rejected_records.load_id)"
        )
