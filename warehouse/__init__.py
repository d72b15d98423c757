"""The one module every package shares: opening the warehouse file, the base error every
command turns into one sentence, writing a file beside it whole or not at all, and the ledger's
fingerprint.

It imports nothing of the project's: `loaders`, `reports` and `turnaround` all import it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import tempfile
from pathlib import Path

TYPE_CHECKING = False  # not `typing`'s: the commands' --help imports no DuckDB
if TYPE_CHECKING:
    import duckdb


#: the ledger's fingerprint (loads, newest load, when it ended, rejects): every write of raw
#: data is a load of raw.loads, so the same fingerprint means the same raw data (the no-op
#: skip of a refresh, the Spark engine's reuse of its raw export)
LEDGER_SQL = """
select count(*), coalesce(max(load_id), 0), cast(max(finished_at) as varchar),
    (select count(*) from raw.rejected_records)
from raw.loads
"""


class TurnaroundError(Exception):
    """Base class: a usage or input error the user can fix."""

    exit_code = 2


class WarehouseBusy(TurnaroundError):
    """Another process holds the DuckDB file."""


class WarehouseCorrupt(TurnaroundError):
    """The DuckDB file is damaged (a block fails its checksum, the file is cut short)."""


class NoSpace(TurnaroundError):
    """The disk holding the warehouse (or a file written beside it) is full."""


#: what DuckDB says of a damaged file: a block whose checksum does not match, a file cut short
CORRUPT_SIGNS = ("Corrupt database file", "Could not read enough bytes from file")
NOT_DUCKDB_SIGN = "not a valid DuckDB database file"
LOCK_SIGNS = ("Could not set lock on file", "Conflicting lock is held")
NO_SPACE_SIGN = "No space left on device"


def busy(path: Path, text: str) -> WarehouseBusy:
    """The one sentence for a warehouse another process holds, from DuckDB's lock error."""
    pid = re.search(r"PID (\d+)", text)
    holder = f"process {pid.group(1)}" if pid else "another process"
    return WarehouseBusy(
        f"{path} is in use by {holder} (an open `turnaround shell` or a running build?); "
        "close it or wait for it to finish, then run the command again."
    )


def no_space(path: Path) -> NoSpace:
    """The one sentence for a full disk while writing `path` (or beside it)."""
    return NoSpace(
        f"{path}: no space left on device; free some space, then run the command again "
        "(a load that failed wrote nothing, and the next `turnaround refresh` builds again)."
    )


def damaged(path: Path, text: str) -> TurnaroundError | None:
    """The one sentence for a DuckDB error about the warehouse file itself, from its text
    (DuckDB's or dbt's output): held by another process, corrupt, not a DuckDB database, or
    on a full disk. None for any other error."""
    if any(sign in text for sign in LOCK_SIGNS):
        return busy(path, text)
    if any(sign in text for sign in CORRUPT_SIGNS):
        detail = text.split("Error: ", 1)[-1].strip().splitlines()[0].rstrip(".")
        detail = detail.removeprefix("Corrupt database file: ")
        return WarehouseCorrupt(
            f"{path} is corrupt (DuckDB: {detail}); restore it from a backup, or rebuild it "
            "from the inputs: delete it (and its .wal) and run `turnaround refresh`."
        )
    if NOT_DUCKDB_SIGN in text:
        return TurnaroundError(
            f"{path} is not a DuckDB database; name another file as the warehouse in the config, "
            "or delete it and run `turnaround refresh` to build one there."
        )
    if NO_SPACE_SIGN in text:
        named = re.search(r'file "([^"]+)"', text)  # DuckDB names the file it could not write
        return no_space(Path(named.group(1)) if named else path)
    return None


def check_path(path: Path) -> None:
    """TurnaroundError when DuckDB cannot open `path` at all: it takes paths as UTF-8, and a
    folder's name whose bytes are not (Python's surrogates) cannot be given to it."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise TurnaroundError(
            f"{path}: DuckDB cannot open a warehouse whose path is not UTF-8; set `warehouse` "
            "in the config to a file in a folder whose name is UTF-8."
        ) from None


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (UTC session). A lock held elsewhere, a damaged file or a full disk
    becomes one clear sentence."""
    import duckdb

    check_path(path)
    if read_only and not path.exists():
        raise TurnaroundError(f"{path}: no warehouse yet; run `turnaround refresh` to build it")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        text = str(exc)
        # (not any "lock" in the text: a corrupt block's message says "block")
        raise damaged(path, text) or TurnaroundError(
            f"{path}: cannot open the warehouse: {text}"
        ) from None
    con.execute("set TimeZone = 'UTC'")
    return con


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` whole or not at all: written to a temporary file in the same
    folder, then renamed over it (a full disk or a kill never leaves it cut short, and a
    symbolic link at `path` is replaced, not followed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _file_mode())  # as a new file gets, not mkstemp's 0600
            handle.write(data)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if not isinstance(exc, OSError):
            raise
        if exc.errno == errno.ENOSPC:
            raise no_space(path) from None
        raise TurnaroundError(f"{path}: cannot write: {exc.strerror or exc}") from None


@functools.cache
def _file_mode() -> int:
    """The mode a new file gets here (0666 less the umask)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask
