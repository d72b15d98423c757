"""Helpers the loader tests share: write inputs, write and parse a config, query read-only;
read raw tables and the ledger back; sample sacct records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import duckdb

from loaders import Config, load, load_config
from loaders.sources import KINDS

Input = tuple[str, str, Sequence[str]]
Row = tuple[object, ...]


def write(path: Path, content: str | bytes) -> Path:
    """Write bytes (text as UTF-8, line ends untouched) creating folders; return the real path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path.resolve()


def toml_text(
    inputs: Sequence[Input],
    *,
    warehouse: str = "warehouse.duckdb",
    timezone: str = "America/Los_Angeles",
) -> str:
    """A turnaround.toml with the given `[[inputs]]` (source, format, paths)."""
    lines = [f"warehouse = {json.dumps(warehouse)}", f"timezone = {json.dumps(timezone)}"]
    for source, fmt, paths in inputs:
        lines += [
            "",
            "[[inputs]]",
            f"source = {json.dumps(source)}",
            f"format = {json.dumps(fmt)}",
            f"paths = {json.dumps(list(paths))}",
        ]
    return "\n".join(lines) + "\n"


def make_config(folder: Path, inputs: Sequence[Input], **options: str) -> Config:
    """Write `folder/turnaround.toml` and parse it."""
    return load_config(write(folder / "turnaround.toml", toml_text(inputs, **options)))


def query(config: Config, sql: str) -> list[Row]:
    """Run one query read-only and release the warehouse file."""
    with closing(duckdb.connect(str(config.warehouse), read_only=True)) as con:
        return con.execute(sql).fetchall()


# --------------------------------------------------------------------------- reading a load back

TABLES = (*KINDS, "loads")


#: raw columns only some inputs fill (sacct's optional State; a database pull's job id and type)
OPTIONAL_COLUMNS = {"slurm": ("state",), "distiller_db": ("job_id", "job_type")}


def raw_rows(config: Config, source: str) -> list[Row]:
    """(_source_file, _record_number, value columns...) of a raw table, sorted; the columns
    only some inputs fill are left out (their own tests read them)."""
    optional = OPTIONAL_COLUMNS.get(source, ())
    columns = ", ".join(c for c in KINDS[source].columns if c not in optional)
    path = as_path(config, "_source_file")
    return query(config, f"select {path}, _record_number, {columns} from raw.{source} order by all")


def as_path(config: Config, column: str) -> str:
    """SQL giving a stored file key as an absolute path (keys of files in the config's folder
    are relative to it)."""
    folder = str(config.path.parent).replace("'", "''")
    return f"(case when {column} like '/%' then {column} else '{folder}/' || {column} end)"


def ledger(config: Config) -> list[Row]:
    """The ledger without its timestamps, sorted."""
    return query(
        config,
        f"select load_id, source, format, {as_path(config, 'path')}, size_bytes, sha256, rows, "
        "skipped, status, error from raw.loads order by all",
    )


def warehouse_state(config: Config) -> dict[str, list[Row]]:
    """Full contents of every raw table and of the ledger."""
    with closing(duckdb.connect(str(config.warehouse), read_only=True)) as con:
        return {
            table: con.execute(f"select * from raw.{table} order by all").fetchall()
            for table in TABLES
        }


def load_only(tmp_path: Path, source: str, fmt: str, files: dict[str, str | bytes]) -> Config:
    """Write `files` under tmp_path/in, load them as one input, return the config."""
    for name, content in files.items():
        write(tmp_path / "in" / name, content)
    config = make_config(tmp_path, [(source, fmt, ["in/*"])])
    load(config)
    return config


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- sample inputs

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
SACCT_HEADER = "|".join(SACCT_FIELDS)
JOB = (
    "count",
    "9001",
    "00:30:00",
    "00:01:02",
    "2023-03-12T01:59:30",
    "2023-03-12T02:00:00",
    "2023-03-12T02:01:02",
    "1",
    "realtime",
    "alice",
    "0:0",
)
BATCH = (
    "batch",
    "9001.batch",
    "",
    "00:01:02",
    "2023-03-12T02:00:00",
    "2023-03-12T02:00:00",
    "2023-03-12T02:01:02",
    "1",
    "",
    "",
    "0:0",
)
EXTERN = (
    "extern",
    "9001.extern",
    "",
    "00:01:03",
    "2023-03-12T02:00:00",
    "2023-03-12T02:00:00",
    "2023-03-12T02:01:03",
    "1",
    "",
    "",
    "0:0",
)
STEP = (
    "python",
    "9001.0",
    "",
    "00:00:59",
    "2023-03-12T02:00:01",
    "2023-03-12T02:00:01",
    "2023-03-12T02:01:00",
    "1",
    "",
    "",
    "0:0",
)
PENDING = (
    "zählung",
    "9002",
    "UNLIMITED",
    "00:00:00",
    "2023-03-12T03:00:00",
    "Unknown",
    "Unknown",
    "2",
    "debug",
    "bob",
    "0:0",
)
RUNNING = (
    "count",
    "9003",
    "Partition_Limit",
    "1-02:03:04",
    "2023-03-10T00:00:00",
    "2023-03-10T00:00:01",
    "None",
    "",
    "regular",
    "alice",
    "1:0",
)


def sacct(*rows: Sequence[str], header: bool = True, newline: str = "\n") -> str:
    """sacct --parsable2 text of `rows` (a row of one empty field is a blank line)."""
    lines = [SACCT_HEADER] if header else []
    lines += ["|".join(row) for row in rows]
    return newline.join(lines) + newline


def stat_listing(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)
