"""Distiller database exports: psql `\\COPY ... WITH CSV HEADER` files named `<W>_<H>.csv`."""

from __future__ import annotations

import re
from pathlib import Path

from loaders import values
from loaders.errors import LoadError
from loaders.sources.common import (
    Parsed,
    SourceKind,
    csv_records,
    decode,
    expect_fields,
    fail_if,
)

COLUMNS = ("id", "slurm_id", "elapsed", "scan_width", "scan_height")
HEADER = ["id", "slurm_id", "elapsed"]
_NAME = re.compile(r"^(\d+)_(\d+)\.csv$")


def read_csv(path: Path, data: bytes) -> Parsed:
    """Parse one export; the scan size comes from the file name."""
    match = _NAME.match(path.name)
    if not match:
        raise LoadError(path, None, "file name does not give the scan size as <W>_<H>.csv")
    width, height = match.groups()
    parsed = Parsed()
    header_seen = False
    for line, fields in csv_records(path, decode(path, data)):
        if not header_seen:
            if [f.strip() for f in fields] != HEADER:
                raise LoadError(path, line, f"header is not {','.join(HEADER)}")
            header_seen = True
            continue
        expect_fields(path, line, fields, len(HEADER))
        scan_id, slurm_id, elapsed = fields
        fail_if(path, line, values.integer_error(scan_id, "scan id"))
        fail_if(path, line, values.integer_error(slurm_id, "slurm_id", optional=True))
        fail_if(path, line, values.interval_error(elapsed))
        parsed.rows.append((line, scan_id, slurm_id, elapsed, width, height))
    return parsed


KIND = SourceKind(columns=COLUMNS, readers={"csv": read_csv})
