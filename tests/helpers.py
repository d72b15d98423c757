"""Helpers the loader tests share: write inputs, write and parse a config, query read-only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import duckdb

from loaders import Config, load_config

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
