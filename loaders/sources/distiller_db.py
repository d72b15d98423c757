"""Distiller database exports: psql `\\COPY ... WITH CSV HEADER` files named `<W>_<H>.csv`."""

from __future__ import annotations

import os
import re
from pathlib import Path

from loaders import checks
from loaders.errors import LoadError
from loaders.sources.common import (
    Parsed,
    SourceKind,
    csv_records,
    decode,
    field_count_error,
)

#: the exports' columns, then the Distiller job's id and type (known to a database pull only)
COLUMNS = ("id", "slurm_id", "elapsed", "scan_width", "scan_height", "job_id", "job_type")
HEADER = ["id", "slurm_id", "elapsed"]
_NAME = re.compile(r"^(\d+)_(\d+)\.csv$")


def read_csv(path: Path | str, data: bytes) -> Parsed:
    """Parse one export; the scan size comes from the file name."""
    match = _NAME.match(os.path.basename(path))
    if not match:
        raise LoadError(path, None, "file name does not give the scan size as <W>_<H>.csv")
    width, height = match.groups()
    parsed = Parsed()
    header_seen = False
    text = decode(path, data)
    for line, fields, raw in csv_records(path, text):
        if not header_seen:
            if [f.strip() for f in fields] != HEADER:
                raise LoadError(path, line, f"header is not {','.join(HEADER)}")
            header_seen = True
            continue
        if not parsed.accept(line, raw, field_count_error(fields, len(HEADER))):
            continue
        scan_id, slurm_id, elapsed = fields
        if parsed.accept(
            line,
            raw,
            checks.integer_error(scan_id, "scan id"),
            checks.integer_error(slurm_id, "slurm_id", optional=True),
            checks.interval_error(elapsed),
        ):
            parsed.rows.append((line, scan_id, slurm_id, elapsed, width, height, None, None))
    return parsed


KIND = SourceKind(columns=COLUMNS, readers={"csv": read_csv})
