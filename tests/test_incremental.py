"""Incremental models: a warehouse refreshed batch after batch (jobs repeated by overlapping sacct
windows, files replaced by changed ones) holds exactly what a full rebuild from the same files
holds; a refresh with nothing new skips dbt, and only then."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from loaders.config import load_config
from tests.conftest import Built, refresh, turnaround
from turnaround.dbt import PROJECT_DIR, current_build
from turnaround.demo import write_demo

INCREMENTAL_MODELS = (
    "int_receiver_scans_summarised",
    "int_acquisitions_joined_to_files",
    "int_count_jobs_filtered",
)
SKIPPED = "nothing new since the build of"


def reveal(src: Path, live: Path, relative: str) -> None:
    """Copy one input file or folder of the demo into the folder the config reads."""
    target = live / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if (src / relative).is_dir():
        shutil.copytree(src / relative, target, dirs_exist_ok=True)
    else:
        shutil.copyfile(src / relative, target)


def rewrite_sacct(path: Path) -> None:
    """Drop every fourth line (rows deleted) and move one job's submit a minute earlier."""
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for number, line in enumerate(lines) if number == 0 or number % 4]
    for number, line in enumerate(kept):
        fields = line.split("|")
        if fields[0].startswith("distiller-count") and "." not in fields[1]:
            submitted = datetime.fromisoformat(fields[4]) - timedelta(minutes=1)
            fields[4] = submitted.isoformat()
            kept[number] = "|".join(fields)
            break
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")


def rewrite_listing(path: Path) -> None:
    """Drop every seventh line of a stat listing (data files gone from raw)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join(line for number, line in enumerate(lines) if number % 7 != 3) + "\n",
        encoding="utf-8",
    )


def rewrite_status(path: Path) -> None:
    """Move a receiver status two seconds later."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["time"] = (datetime.fromisoformat(doc["time"]) + timedelta(seconds=2)).isoformat()
    path.write_text(json.dumps(doc), encoding="utf-8")


def snapshot(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every mart, every incremental model and the bookkeeping, rows sorted."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            f"marts.{name}"
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        names += [f"staging.{name}" for name in INCREMENTAL_MODELS]
        names.append("staging._incremental_partitions")
        return {
            name: sorted(con.execute(f"select * from {name}").fetchall(), key=repr)
            for name in names
        }
    finally:
        con.close()


def compiled(built: Built, model: str) -> str:
    """The SQL the last dbt build ran for a model."""
    results = built.warehouse.parent / "dbt" / "last_build_results.json"
    for node in json.loads(results.read_text(encoding="utf-8"))["results"]:
        if node["unique_id"] == f"model.turnaround.{model}":
            return str(node["compiled_code"])
    raise AssertionError(f"{model} did not run")


def succeeded(built: Built) -> Built:
    assert built.exit_code == 0, built.output
    assert ", 0 error" in built.output, built.output
    return built


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The demo revealed in three batches, refreshed after each; the tables after the last."""
    src = tmp_path_factory.mktemp("demo-src")
    live = tmp_path_factory.mktemp("demo-live")
    write_demo(src, scale=1, seed=11)
    shutil.copyfile(src / "turnaround.toml", live / "turnaround.toml")
    config = live / "turnaround.toml"
    sacct = sorted(p.name for p in (src / "slurm").glob("sacct_*.txt"))
    days = sorted(p.name for p in (src / "ncem" / "rec_status").iterdir() if p.name[0].isdigit())

    # 1: most of the history
    for relative in ("distiller_db", "stempy", "nersc/counted_files_1.txt"):
        reveal(src, live, relative)
    reveal(src, live, "ncem/data_files_1.txt")
    for name in sacct[:-4]:
        reveal(src, live, f"slurm/{name}")
    for day in days[:-12]:
        reveal(src, live, f"ncem/rec_status/{day}")
    first = succeeded(refresh(config))
    assert "dbt build" in first.output

    # 2: the next sacct windows (they overlap the last one loaded: the same jobs again), more
    # statuses and files
    for name in sacct[-4:-2]:
        reveal(src, live, f"slurm/{name}")
    for day in days[-12:-6]:
        reveal(src, live, f"ncem/rec_status/{day}")
    reveal(src, live, "ncem/data_files_2.txt")
    reveal(src, live, "nersc/counted_files_2.txt")
    second = succeeded(refresh(config))
    ((repeated,),) = second.query(
        """
        select count(*) from (
            select job_id from raw.slurm where job_id not like '%.%'
            group by job_id having count(distinct _load_id) > 1
        )
        """
    )
    jobs_compiled = compiled(second, "int_count_jobs_filtered")

    # 3: changed files replace loaded ones (rows deleted, times moved), and the rest arrives
    rewrite_sacct(live / "slurm" / sacct[-5])
    rewrite_listing(live / "ncem" / "data_files_1.txt")
    status = sorted((live / "ncem" / "rec_status" / days[-13]).glob("*.json"))[0]
    rewrite_status(status)
    for name in sacct[-2:]:
        reveal(src, live, f"slurm/{name}")
    for relative in ("slurm/defects", "distiller_db/defects", "ncem/defects"):
        reveal(src, live, relative)
    for day in [*days[-6:], "defects"]:
        reveal(src, live, f"ncem/rec_status/{day}")
    reveal(src, live, "ncem/data_files_3.txt")
    reveal(src, live, "nersc/counted_files_3.txt")
    third = succeeded(refresh(config))
    replaced = third.query("select path from raw.loads where status = 'replaced'")
    return {
        "config": config,
        "repeated": repeated,
        "jobs_compiled": jobs_compiled,
        "third": third,
        "replaced": {Path(path).name for (path,) in replaced},
        "expected_replaced": {sacct[-5], "data_files_1.txt", status.name},
        "incremental": snapshot(third.warehouse),
    }


def test_batches_repeat_jobs_and_replace_files(batches: dict[str, object]) -> None:
    assert batches["repeated"], "no job came again in a later load"
    assert batches["replaced"] == batches["expected_replaced"]


def test_the_later_builds_were_incremental(batches: dict[str, object]) -> None:
    # a later batch recomputes the jobs it touched, listed, not every job (`true`)
    assert "job_id in ('" in str(batches["jobs_compiled"])
    third = batches["third"]
    assert isinstance(third, Built)
    for model in INCREMENTAL_MODELS:
        code = compiled(third, model)
        assert "where true" not in code and " in (" in code, model


def test_refresh_with_nothing_new_skips_dbt_and_touch_or_full_refresh_does_not(
    batches: dict[str, object],
) -> None:
    config = batches["config"]
    assert isinstance(config, Path)
    results = config.parent / "dbt" / "last_build_results.json"
    before = results.stat().st_mtime_ns
    idle = succeeded(refresh(config))
    assert SKIPPED in idle.output and "dbt build: " in idle.output
    assert results.stat().st_mtime_ns == before
    assert (config.parent / "reports" / "out" / "index.html").exists()

    # a touched model file means dbt runs again (checked without running it, for time)
    model = PROJECT_DIR / "models" / "marts" / "transfer_comparison.sql"
    stat = model.stat()
    loaded = load_config(config)
    assert current_build(loaded, ["--quiet"]) is not None
    try:
        os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert current_build(loaded, ["--quiet"]) is None
    finally:
        os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert current_build(loaded, ["--quiet"]) is not None
    assert current_build(loaded, ["--quiet", "--vars", "{max_receiver_skew_s: 30}"]) is None

    # --full-refresh never skips, and rebuilds every table from scratch: the same rows
    done = turnaround("refresh", "--config", str(config), "--full-refresh")
    assert done.returncode == 0, done.stdout + done.stderr
    assert SKIPPED not in done.stdout
    assert json.loads((config.parent / "dbt" / "last_build_state.json").read_text())["full_refresh"]
    rebuilt = snapshot(config.parent / "warehouse.duckdb")
    incremental = batches["incremental"]
    assert isinstance(incremental, dict)
    assert rebuilt.keys() == incremental.keys()
    for name, rows in rebuilt.items():
        assert rows, f"{name} is empty"
        assert incremental[name] == rows, name


def count_jobs_missing(warehouse: Path) -> int:
    """Jobs of the staging table that pass the count-job filters but int_count_jobs_filtered
    lacks."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ((missing,),) = con.execute(
            """
            select count(*) from staging.stg_slurm__jobs as jobs
            where contains(jobs.job_name, 'distiller-count') and jobs.req_nodes = 4
                and contains(jobs.qos, 'realtime_') and jobs.exit_code = '0:0'
                and jobs.started_at is not null
                and jobs.job_id not in (select job_id from staging.int_count_jobs_filtered)
            """
        ).fetchall()
    finally:
        con.close()
    return int(missing)


def test_many_changed_partitions_and_a_selective_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, live = tmp_path / "src", tmp_path / "live"
    write_demo(src, scale=1, seed=5)
    live.mkdir()
    shutil.copyfile(src / "turnaround.toml", live / "turnaround.toml")
    config = live / "turnaround.toml"
    sacct = sorted(p.name for p in (src / "slurm").glob("sacct_*.txt"))
    for relative in ("distiller_db", "stempy", "ncem", "nersc"):
        reveal(src, live, relative)
    for name in sacct[:-2]:
        reveal(src, live, f"slurm/{name}")
    succeeded(refresh(config))
    state = config.parent / "dbt" / "last_build_state.json"
    assert json.loads(state.read_text())["models_logic"]

    # more changed partitions than TURNAROUND_MAX_LITERALS: selected by a subquery on the
    # fingerprints the first pre-hook kept, not listed
    reveal(src, live, f"slurm/{sacct[-2]}")
    monkeypatch.setenv("TURNAROUND_MAX_LITERALS", "0")
    many = succeeded(refresh(config))
    monkeypatch.delenv("TURNAROUND_MAX_LITERALS")
    code = compiled(many, "int_count_jobs_filtered")
    assert "_incremental_fingerprints" in code and "job_id in ('" not in code
    assert not json.loads(state.read_text())["full_refresh"]
    assert count_jobs_missing(live / "warehouse.duckdb") == 0

    # int_count_jobs_filtered alone reads the staging table as the last build left it, older
    # than the raw rows it fingerprints: the next complete build must not trust its records
    reveal(src, live, f"slurm/{sacct[-1]}")
    assert turnaround("load", "--config", str(config)).returncode == 0
    only = turnaround("build", "--config", str(config), "--select", "int_count_jobs_filtered")
    assert only.returncode == 0, only.stdout + only.stderr
    assert json.loads(state.read_text())["models_logic"] is None
    done = turnaround("build", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    after = json.loads(state.read_text())
    assert after["full_refresh"] and after["models_logic"]
    assert count_jobs_missing(live / "warehouse.duckdb") == 0
