"""Shared fixtures: the published data (read where it is, never copied) and built warehouses."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
PUBLISHED = Path(
    os.environ.get("TURNAROUND_PUBLISHED_DATA", REPO.parent / "shared" / "published-data")
)
TURNAROUND = str(Path(sys.executable).with_name("turnaround"))
INPUTS = PUBLISHED / "inputs"
REFERENCE = PUBLISHED / "reference-outputs"

PUBLISHED_CONFIG = """\
warehouse = "warehouse.duckdb"
timezone = "America/Los_Angeles"

[[inputs]]
source = "slurm"
format = "csv"
paths = ["{inputs}/slurm/*.csv"]

[[inputs]]
source = "distiller_db"
format = "csv"
paths = ["{inputs}/distiller_db/*.csv"]

[[inputs]]
source = "rec_status"
format = "csv"
paths = ["{inputs}/ncem/ncem_file_created_times.csv", "{inputs}/ncem/write_times.csv"]

[[inputs]]
source = "ncem_data_files"
format = "csv"
paths = ["{inputs}/ncem/write_times.csv"]

[[inputs]]
source = "nersc_counted_files"
format = "csv"
paths = ["{inputs}/nersc/scan_times_*.csv"]

[[inputs]]
source = "stempy_log"
format = "json"
paths = ["{inputs}/stempy/save_times.json"]
"""


@dataclass(frozen=True)
class Built:
    """A warehouse built by `turnaround refresh`: its config, exit code and output."""

    config: Path
    warehouse: Path
    exit_code: int
    output: str

    def query(self, sql: str) -> list[tuple[object, ...]]:
        """Run a query read-only and release the file."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def frame(self, sql: str) -> pd.DataFrame:
        """Run a query read-only into a DataFrame and release the file."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).df()
        finally:
            con.close()


def published_inputs() -> Path:
    """The published inputs' folder; a test that needs it fails saying where it looked."""
    if not INPUTS.is_dir():
        pytest.fail(f"the published data is missing: {INPUTS} (tests read it, never skip it)")
    return INPUTS


def write_published_config(folder: Path) -> Path:
    """A config that loads ../shared/published-data/inputs in place."""
    published_inputs()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "turnaround.toml"
    config.write_text(PUBLISHED_CONFIG.format(inputs=INPUTS.as_posix()), encoding="utf-8")
    return config


def turnaround(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `turnaround` console script of this environment."""
    return subprocess.run(
        [TURNAROUND, *args], input=stdin, capture_output=True, text=True, check=False
    )


def refresh(config: Path) -> Built:
    """Run `turnaround refresh --config CONFIG` and keep its exit code and output."""
    done = turnaround("refresh", "--config", str(config))
    return Built(
        config, config.parent / "warehouse.duckdb", done.returncode, done.stdout + done.stderr
    )


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The published data, refreshed once for the session."""
    folder = tmp_path_factory.mktemp("published")
    config = write_published_config(folder)
    return refresh(config)
