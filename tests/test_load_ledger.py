"""The load ledger (raw.loads): what a load records and what reloading unchanged, changed
and new files does."""

from __future__ import annotations

import os
from pathlib import Path

from loaders import Config, load
from tests.helpers import (
    BATCH,
    JOB,
    PENDING,
    RUNNING,
    STEP,
    as_path,
    ledger,
    make_config,
    query,
    raw_rows,
    sacct,
    sha256,
    warehouse_state,
    write,
)

# --------------------------------------------------------------------------- ledger


def two_sacct_files(tmp_path: Path) -> tuple[Config, Path, Path]:
    """A config over slurm/a.txt and slurm/b.txt, loaded once."""
    a = write(tmp_path / "slurm" / "a.txt", sacct(JOB, BATCH))
    b = write(tmp_path / "slurm" / "b.txt", sacct(PENDING, header=False))
    config = make_config(tmp_path, [("slurm", "sacct", ["slurm/*.txt"])])
    load(config)
    return config, a, b


def test_ledger_sha256_size_and_counts_match_the_files(tmp_path: Path) -> None:
    config, a, b = two_sacct_files(tmp_path)
    assert ledger(config) == [
        (1, "slurm", "sacct", str(a), a.stat().st_size, sha256(a), 2, 0, "loaded", None),
        (1, "slurm", "sacct", str(b), b.stat().st_size, sha256(b), 1, 0, "loaded", None),
    ]
    assert query(config, "select count(*) from raw.loads where finished_at >= started_at") == [(2,)]
    assert query(
        config,
        "select count(*) from raw.slurm s join raw.loads l "
        "on s._source_file = l.path and s._load_id = l.load_id",
    ) == [(3,)]
    assert query(config, "select distinct _load_id from raw.slurm") == [(1,)]


def test_reloading_unchanged_files_writes_nothing(tmp_path: Path) -> None:
    config, _, _ = two_sacct_files(tmp_path)
    before = warehouse_state(config)
    summary = load(config)
    tally = summary.sources["slurm"]
    assert (tally.files_new, tally.files_replaced, tally.files_unchanged, tally.rows) == (
        0,
        0,
        2,
        0,
    )
    assert warehouse_state(config) == before
    assert len(before["loads"]) == 2
    assert len(before["slurm"]) == 3


def test_changed_file_replaces_only_its_rows(tmp_path: Path) -> None:
    config, a, b = two_sacct_files(tmp_path)
    b_before = query(
        config,
        f"select * from raw.slurm where {as_path(config, '_source_file')} = '{b}' order by all",
    )
    write(a, sacct(RUNNING))
    summary = load(config)
    tally = summary.sources["slurm"]
    assert (tally.files_new, tally.files_replaced, tally.files_unchanged, tally.rows) == (
        0,
        1,
        1,
        1,
    )
    assert raw_rows(config, "slurm") == [(str(a), 2, *RUNNING), (str(b), 1, *PENDING)]
    assert query(
        config, f"select _load_id from raw.slurm where {as_path(config, '_source_file')} = '{a}'"
    ) == [(2,)]
    assert (
        query(
            config,
            f"select * from raw.slurm where {as_path(config, '_source_file')} = '{b}' order by all",
        )
        == b_before
    )
    assert ledger(config)[2:] == [
        (2, "slurm", "sacct", str(a), a.stat().st_size, sha256(a), 1, 0, "replaced", None)
    ]
    assert len(ledger(config)) == 3


def test_new_file_adds_only_its_rows(tmp_path: Path) -> None:
    config, a, b = two_sacct_files(tmp_path)
    before = warehouse_state(config)
    c = write(tmp_path / "slurm" / "c.txt", sacct(RUNNING, STEP))
    summary = load(config)
    assert summary.load_id == 2
    assert (summary.sources["slurm"].files_new, summary.sources["slurm"].files_unchanged) == (1, 2)
    after = warehouse_state(config)
    assert after["loads"][:2] == before["loads"]
    assert ledger(config)[2:] == [
        (2, "slurm", "sacct", str(c), c.stat().st_size, sha256(c), 2, 0, "loaded", None)
    ]
    assert raw_rows(config, "slurm") == [
        (str(a), 2, *JOB),
        (str(a), 3, *BATCH),
        (str(b), 1, *PENDING),
        (str(c), 2, *RUNNING),
        (str(c), 3, *STEP),
    ]
    assert query(config, "select _load_id, count(*) from raw.slurm group by 1 order by 1") == [
        (1, 3),
        (2, 2),
    ]


def test_changing_back_to_earlier_content_is_replaced_again(tmp_path: Path) -> None:
    config, a, _ = two_sacct_files(tmp_path)
    original = a.read_bytes()
    write(a, sacct(RUNNING))
    load(config)
    write(a, original)
    summary = load(config)
    assert summary.sources["slurm"].files_replaced == 1
    assert query(
        config,
        f"select load_id, rows, status from raw.loads where {as_path(config, 'path')} = '{a}' "
        "order by 1",
    ) == [(1, 2, "loaded"), (2, 1, "replaced"), (3, 2, "replaced")]
    assert raw_rows(config, "slurm")[:2] == [(str(a), 2, *JOB), (str(a), 3, *BATCH)]


def test_dir_input_is_replaced_when_a_file_mtime_changes(tmp_path: Path) -> None:
    root = tmp_path / "ncem"
    data = write(root / "data_scan0000000001_00.data", b"x")
    os.utime(data, ns=(1697470245_000000000, 1697470245_000000000))
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["ncem"])])
    load(config)
    assert load(config).sources["ncem_data_files"].files_unchanged == 1
    os.utime(data, ns=(1697470999_250000000, 1697470999_250000000))
    summary = load(config)
    assert summary.sources["ncem_data_files"].files_replaced == 1
    new_id = summary.load_id
    assert query(config, "select mtime, _load_id from raw.ncem_data_files") == [
        ("1697470999.250000000", new_id)
    ]
    assert query(config, "select load_id, status, rows from raw.loads order by 1") == [
        (1, "loaded", 1),
        (new_id, "replaced", 1),
    ]
