"""Killing `load` with SIGKILL at any point leaves a consistent warehouse, and the next load
completes with the right row counts."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from loaders.pipeline import spool_root
from loaders.sources import KINDS
from tests.conftest import TURNAROUND, turnaround

KILL_POINTS = 10


def _counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = {
            source: con.execute(f"select count(*) from raw.{source}").fetchone()[0]
            for source in (*KINDS, "rejected_records")
        }
        counts["loads"] = con.execute("select count(distinct path) from raw.loads").fetchone()[0]
        return counts
    finally:
        con.close()


def _ledger_agrees_with_tables(warehouse: Path) -> None:
    """Every raw table holds exactly the rows the ledger's latest entry of each file says."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        if not tables:
            return  # killed before the first load committed: an empty warehouse
        for source in KINDS:
            ((ledger, table),) = con.execute(
                f"""
                select
                    (select coalesce(sum(rows), 0) from (
                        select arg_max(rows, load_id) as rows from raw.loads
                        where source = '{source}' group by path
                    )),
                    (select count(*) from raw.{source})
                """
            ).fetchall()
            assert ledger == table, source
    finally:
        con.close()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The demo dataset and the row counts of one uninterrupted load of it."""
    root = tmp_path_factory.mktemp("crash")
    assert turnaround("demo", "--out", str(root / "data"), "--seed", "3").returncode == 0
    shutil.copy(root / "data" / "turnaround.toml", root / "clean.toml")
    clean = root / "clean"
    clean.mkdir()
    config = (root / "data" / "turnaround.toml").read_text(encoding="utf-8")
    (clean / "turnaround.toml").write_text(
        config.replace('paths = ["', f'paths = ["{root / "data"}/'), encoding="utf-8"
    )
    assert turnaround("load", "--config", str(clean / "turnaround.toml")).returncode == 0
    return root / "data", _counts(clean / "warehouse.duckdb")


def test_sigkill_at_many_points_never_corrupts_and_the_next_load_completes(
    dataset: tuple[Path, dict[str, int]],
) -> None:
    data, expected = dataset
    config = data / "turnaround.toml"
    warehouse = data / "warehouse.duckdb"
    started = time.perf_counter()
    assert turnaround("load", "--config", str(config)).returncode == 0
    full = time.perf_counter() - started
    rng = random.Random(20261125)
    killed_mid_load = 0
    for _ in range(KILL_POINTS // 2):
        for leftover in data.glob("warehouse.duckdb*"):
            leftover.unlink()
        # kill a first load, then kill the load that resumes from what it left, then finish
        for _ in range(2):
            process = subprocess.Popen(
                [TURNAROUND, "load", "--config", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.05, full))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed_mid_load += 1
            process.wait()
            if warehouse.exists():
                _ledger_agrees_with_tables(warehouse)
        done = turnaround("load", "--config", str(config))
        assert done.returncode == 0, done.stderr
        _ledger_agrees_with_tables(warehouse)
        assert _counts(warehouse) == expected
        assert not spool_root(warehouse).exists()  # nor what the killed loads spooled
    assert killed_mid_load >= KILL_POINTS // 2
