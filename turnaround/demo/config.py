"""The `turnaround.toml` written beside the demo inputs, naming every one of them."""

from __future__ import annotations

from pathlib import Path

CONFIG = """\
warehouse = "warehouse.duckdb"
timezone = "America/Los_Angeles"

[[inputs]]
source = "slurm"
format = "sacct"
paths = ["slurm/**/*.txt"]

[[inputs]]
source = "distiller_db"
format = "csv"
paths = ["distiller_db/**/*.csv"]

[[inputs]]
source = "rec_status"
format = "json"
paths = ["ncem/rec_status/**/4dstem_rec_status_*.json"]

[[inputs]]
source = "ncem_data_files"
format = "stat"
paths = ["ncem/**/data_files*.txt"]

[[inputs]]
source = "nersc_counted_files"
format = "stat"
paths = ["nersc/counted_files*.txt"]

[[inputs]]
source = "stempy_log"
format = "json"
paths = ["stempy/save_times.json"]
"""


def write_config(out: Path) -> Path:
    """Write `out/turnaround.toml` and return its path."""
    config = out / "turnaround.toml"
    config.write_text(CONFIG, encoding="utf-8", newline="\n")
    return config
