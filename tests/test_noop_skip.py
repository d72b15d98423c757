"""The no-op refresh: a refresh with nothing new skips dbt, and only then (a touched model, other
vars or dbt arguments, `--full-refresh` run dbt); what each build saw is kept beside the
warehouse."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from loaders.config import load_config
from tests.conftest import Built, refresh, turnaround
from turnaround.builds import current_build
from turnaround.dbt import PROJECT_DIR
from turnaround.demo import write_demo

SKIPPED = "nothing new since the build of"


def mart_rows(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every mart's rows, sorted."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            f"marts.{name}"
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            name: sorted(con.execute(f"select * from {name}").fetchall(), key=repr)
            for name in names
        }
    finally:
        con.close()


def succeeded(built: Built) -> Built:
    assert built.exit_code == 0, built.output
    assert ", 0 error" in built.output, built.output
    return built


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The demo, refreshed once."""
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, scale=1, seed=11)
    built = succeeded(refresh(folder / "turnaround.toml"))
    assert "dbt build" in built.output
    return built


def test_build_state_records_what_the_build_saw(demo: Built) -> None:
    state = json.loads((demo.config.parent / "dbt" / "last_build_state.json").read_text())
    assert state["status"] == "finished" and state["exit_code"] == 0
    assert state["project"] and state["ledger"] and not state["full_refresh"]
    assert state["incomplete_since"] is None


def test_refresh_with_nothing_new_skips_dbt_and_touch_or_full_refresh_does_not(
    demo: Built,
) -> None:
    config = demo.config
    results = config.parent / "dbt" / "last_build_results.json"
    before = results.stat().st_mtime_ns
    marts = mart_rows(demo.warehouse)
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
    # other vars or other dbt arguments (a selective build) too
    assert current_build(loaded, ["--quiet", "--vars", "{max_receiver_skew_s: 30}"]) is None
    assert current_build(loaded, ["--quiet", "--select", "marts"]) is None

    # --full-refresh never skips: it reads every input again and builds every table, the same
    # rows
    done = turnaround("refresh", "--config", str(config), "--full-refresh")
    assert done.returncode == 0, done.stdout + done.stderr
    assert SKIPPED not in done.stdout
    assert json.loads((config.parent / "dbt" / "last_build_state.json").read_text())["full_refresh"]
    rebuilt = mart_rows(demo.warehouse)
    assert rebuilt.keys() == marts.keys()
    for name, rows in rebuilt.items():
        assert rows, f"{name} is empty"
        assert marts[name] == rows, name
    # and the full refresh is a complete build like any other: the next refresh skips again
    assert SKIPPED in succeeded(refresh(config)).output

    # a `load` between two refreshes that wrote something (a header-only sacct file): dbt runs
    extra = config.parent / "slurm" / "extra" / "empty.txt"
    extra.parent.mkdir()
    extra.write_text(
        "JobName|JobID|Timelimit|Elapsed|Submit|Start|End|ReqNodes|QOS|User|ExitCode\n"
    )
    assert turnaround("load", "--config", str(config)).returncode == 0
    assert current_build(loaded, ["--quiet"]) is None
