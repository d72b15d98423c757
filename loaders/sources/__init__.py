"""One module per source kind behind one small interface.

Each source module declares a `SourceKind`: the raw table's value columns (all text, kept as
loaded) and, per format, a reader `(path, data) -> Parsed` that turns the bytes of one input
into rows; a reader raises `LoadError` naming the file and line when it cannot.
"""

from __future__ import annotations

from loaders.sources import distiller_db, files, rec_status, slurm, stempy_log
from loaders.sources.common import Parsed, Reader, SourceKind

KINDS: dict[str, SourceKind] = {
    "slurm": slurm.KIND,
    "distiller_db": distiller_db.KIND,
    "rec_status": rec_status.KIND,
    "ncem_data_files": files.NCEM_KIND,
    "nersc_counted_files": files.NERSC_KIND,
    "stempy_log": stempy_log.KIND,
}

__all__ = ["KINDS", "Parsed", "Reader", "SourceKind"]
