"""`load`: find input files, parse the new or changed ones, write raw rows and the ledger.

The whole load is one transaction: a file that cannot be parsed rolls everything back, so the
warehouse's data stays as it was, and the error names the file and line.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loaders.batch import Job
from loaders.changes import keys_made_relative
from loaders.config import Config, InputSpec
from loaders.database_inputs import pull_distiller
from loaders.file_inputs import Taken, load_files
from loaders.keys import folder_prefix
from loaders.raw_schema import create_raw_schema
from loaders.summary import LoadSummary, SourceTally
from warehouse import connect

__all__ = ["LoadOptions", "LoadSummary", "SourceTally", "load", "spool_root"]

LOADER_MEMORY = "1GB"


@dataclass(frozen=True)
class LoadOptions:
    """How a load treats its inputs."""

    #: the first malformed record fails the whole load
    strict: bool = False
    #: read and hash every file, even those whose size and mtime the ledger already has
    rehash: bool = False
    #: where the worker processes leave their rows (`spool_root` of the warehouse)
    spool_root: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


def spool_root(warehouse: Path) -> Path:
    """The folder beside the warehouse where a load's workers spool their rows. Only the load
    holding the warehouse writes there, so a folder found at the start of a load is what a
    killed one left: the load removes it then, and its own at the end."""
    return warehouse.with_name(f".{warehouse.name}.spool")


def _load_all(
    con: duckdb.DuckDBPyConnection, specs: list[InputSpec], options: LoadOptions
) -> LoadSummary:
    """Every input in turn, in the load's transaction (not committed here)."""
    create_raw_schema(con)
    for base in {spec.base_dir for spec in specs if spec.format != "postgres"}:
        keys_made_relative(con, folder_prefix(base))
    (load_id,) = con.execute("select nextval('raw.load_ids')").fetchone() or (1,)
    summary = LoadSummary(load_id=load_id)
    seen: dict[str, Taken] = {}
    for spec in specs:
        started = time.perf_counter()
        job = Job(spec, load_id, options.strict, options.rehash)
        if spec.format == "postgres":
            pull_distiller(con, job, summary, options.spool_root)
        else:
            load_files(con, job, summary, seen.setdefault(spec.source, Taken()), options.spool_root)
        tally = summary.sources.setdefault(spec.source, SourceTally())
        tally.seconds += time.perf_counter() - started
    return summary


def load(
    config: Config,
    sources: list[str] | None = None,
    strict: bool = False,
    rehash: bool = False,
) -> LoadSummary:
    """Load every input of `config` (or of the named sources) in one transaction. Malformed
    records go to raw.rejected_records; with `strict` the first one fails the whole load.
    With `rehash` every file is read and hashed, whatever its stat says."""
    options = LoadOptions(strict=strict, rehash=rehash, spool_root=spool_root(config.warehouse))
    specs = config.inputs_for(sources)
    created = not config.warehouse.exists()
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = connect(config.warehouse)
    failed = False
    try:
        # the spool folder is only ever this warehouse's loader's: one found now is what a
        # killed load left, and this load's goes before the warehouse is released
        shutil.rmtree(options.spool_root, ignore_errors=True)
        # a bounded loader: DuckDB spills to disk beyond this (a x100 refresh stays under 2 GB)
        con.execute(f"set memory_limit = '{LOADER_MEMORY}'")
        # a bulk insert's row groups go to disk as each fills, while the workers read on,
        # not all at the commit (DuckDB buffers five by default: a x100 load's commit took 1 s)
        con.execute("set write_buffer_row_group_count = 1")
        con.begin()
        try:
            summary = _load_all(con, specs, options)
            con.commit()  # in the try: a commit that fails (a full disk) is a failed load
        except BaseException:
            failed = True
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            raise
        return summary
    finally:
        shutil.rmtree(options.spool_root, ignore_errors=True)
        con.close()
        if failed and created:  # a failed first load leaves no warehouse behind
            for leftover in (
                config.warehouse,
                config.warehouse.with_name(config.warehouse.name + ".wal"),
            ):
                leftover.unlink(missing_ok=True)
