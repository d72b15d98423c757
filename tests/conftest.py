"""Shared fixtures: the published data (read where it is, never copied) and built warehouses."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
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
    #: unique id -> status of every node of the refresh's build, as it ended (later tests may
    #: build the same warehouse again, selectively)
    node_results: dict[str, str] = field(default_factory=dict)

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
    results = config.parent / "dbt" / "last_build_results.json"
    nodes = json.loads(results.read_text(encoding="utf-8"))["results"] if results.exists() else []
    return Built(
        config,
        config.parent / "warehouse.duckdb",
        done.returncode,
        done.stdout + done.stderr,
        {node["unique_id"]: node["status"] for node in nodes},
    )


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The published data, refreshed once for the session."""
    folder = tmp_path_factory.mktemp("published")
    config = write_published_config(folder)
    return refresh(config)


# --------------------------------------------------------------------------- markers
# pyproject.toml registers slow, chromium, postgres, slurm and published; no test file has to
# mark itself: a test's marks follow from what it uses. `make test-quick` runs the tests with
# none of them (tests/test_markers.py checks the rules).

#: fixtures whose use (by a test or by a fixture it uses) needs the marks
FIXTURE_MARKS: dict[str, frozenset[str]] = {
    "postgres_server": frozenset({"postgres"}),  # tests/distiller_db.py's PostgreSQL server
    "published": frozenset({"published", "slow"}),  # the published data, refreshed (dbt)
    "spark_local": frozenset({"spark"}),  # tests/test_spark_parity.py: a build on Spark
}

#: what a test, a fixture it uses, or a function of tests/ they call refers to: (module, name)
#: of a function, or (module, name) of a constant of tests/conftest.py, and the marks it needs
NAME_MARKS: dict[tuple[str, str], frozenset[str]] = {
    ("conftest", "published_inputs"): frozenset({"published"}),
    ("conftest", "write_published_config"): frozenset({"published"}),
    ("conftest", "PUBLISHED"): frozenset({"published"}),
    ("conftest", "INPUTS"): frozenset({"published"}),
    ("conftest", "REFERENCE"): frozenset({"published"}),
    ("conftest", "PUBLISHED_CONFIG"): frozenset({"published"}),
    ("conftest", "refresh"): frozenset({"slow"}),  # `turnaround refresh`: a dbt build
    ("slurm_cluster", "new_cluster"): frozenset({"slurm"}),  # tests/slurm_cluster.py
    ("spark_cluster", "new_cluster"): frozenset({"spark", "slow"}),  # tests/spark_cluster.py
    ("playwright.sync_api", "sync_playwright"): frozenset({"chromium"}),
    ("playwright.async_api", "async_playwright"): frozenset({"chromium"}),
}

# slow: measured with `pytest --durations=0 -m "not slurm"` and `make test-quick` (over ~2 s for a
# setup or a call on these 2 cores, under load); tests that refresh are slow by NAME_MARKS, the
# rest is listed here (tests/test_markers.py checks that every name listed exists).

#: fixtures (file::name) whose setup is slow: demo datasets, many files, a reference refresh
SLOW_FIXTURES: frozenset[str] = frozenset(
    {
        "test_crash.py::dataset",
        "test_dag.py::manifest",  # dbt parse
        "test_demo.py::demo",
        "test_demo.py::other",
        "test_faults_build.py::many_files",
        "test_faults_build.py::reference",
        "test_faults_files.py::many_statuses",
    }
)

#: modules whose every test is slow: `turnaround pull-slurm` several times a test
SLOW_MODULES: frozenset[str] = frozenset({"test_pull_slurm.py"})

#: single slow tests (file::function, every parameter) in otherwise quick modules: several
#: `turnaround` subprocesses, or large inputs
SLOW_TESTS: frozenset[str] = frozenset(
    {
        "test_bulk.py::test_listing_read_by_duckdb_equals_the_python_reader",
        "test_bulk.py::test_many_lines_keep_their_numbers",
        "test_bulk.py::test_sacct_lines_read_by_duckdb_equal_the_python_reader",
        "test_bulk.py::test_sacct_with_state_and_parsable_bars_read_by_duckdb_equal_the_python_reader",
        "test_cli.py::test_a_malformed_record_is_set_aside_and_the_rest_loads",
        "test_cli.py::test_a_reader_that_leaves_early_ends_the_command_quietly",
        "test_cli.py::test_an_unwritable_output_is_an_input_error",
        "test_cli.py::test_demo_scale_out_of_range_is_a_usage_error",
        "test_cli.py::test_every_command_says_when_another_process_holds_the_warehouse",
        "test_cli.py::test_load_twice_changes_no_row_count",
        "test_cli.py::test_shell_without_warehouse_says_what_to_run",
        "test_commands.py::test_demo_writes_a_project_and_exits_0",
        "test_dbt_project.py::test_no_test_went_missing",
        "test_faults_build.py::test_a_build_on_a_full_disk_is_one_sentence_and_keeps_its_files_whole",
        "test_faults_build.py::test_a_warehouse_in_a_folder_whose_name_is_not_utf8_is_one_sentence",
        "test_faults_build.py::test_a_warehouse_taken_just_before_dbt_opens_it_is_one_sentence",
        "test_faults_build.py::test_demo_refuses_a_folder_that_is_not_empty_without_force",
        "test_faults_build.py::test_ctrl_c_during_the_imports_never_crashes_the_exit",
        "test_faults_config.py::test_warehouse_names_dbt_cannot_hold_are_refused",
        "test_faults_files.py::test_deep_json_through_the_command_is_one_sentence_not_a_traceback",
        "test_properties.py::test_aware_time_refuses_what_fromisoformat_refuses",
        "test_properties.py::test_mtime_refuses_what_strptime_refuses",
        "test_properties.py::test_one_malformed_sacct_line_is_rejected_and_the_rest_kept",
        "test_properties.py::test_sacct_values_reach_the_warehouse_unchanged",
        "test_report.py::test_figures_hold_summaries_so_the_page_does_not_grow_with_the_data",
    }
)

_CONSTANTS = {
    "PUBLISHED": PUBLISHED,
    "INPUTS": INPUTS,
    "REFERENCE": REFERENCE,
    "PUBLISHED_CONFIG": PUBLISHED_CONFIG,
}


def _module_key(module: str) -> str:
    """`tests.conftest` and `conftest` (pytest imports it under both names) are one module."""
    return module.removeprefix("tests.")


def _referenced(function: Callable[..., object]) -> set[tuple[str, str]]:
    """(module, name) of every global a function refers to, through nested functions and the
    functions of tests/ it calls (transitively)."""
    found: set[tuple[str, str]] = set()
    seen: set[int] = set()
    todo = [function]
    while todo:
        func = inspect.unwrap(todo.pop())
        code = getattr(func, "__code__", None)
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        names: set[str] = set()
        codes = [code]
        while codes:
            current = codes.pop()
            names.update(current.co_names)
            codes += [c for c in current.co_consts if isinstance(c, types.CodeType)]
        namespace = getattr(func, "__globals__", {})
        values = [(name, namespace[name]) for name in names if name in namespace]
        # `module.name` (conftest.refresh): the names of the modules it refers to
        # (its own namespace, not getattr: numpy's module getattr warns of names it dropped)
        values += [
            (name, vars(module)[name])
            for _, module in list(values)
            if isinstance(module, types.ModuleType)
            for name in names
            if name in vars(module)
        ]
        for name, value in values:
            if callable(value) and hasattr(value, "__module__"):
                module = _module_key(getattr(value, "__module__", "") or "")
                found.add((module, getattr(value, "__name__", name)))
                if module.partition(".")[0] in _TEST_MODULES or module == "conftest":
                    todo.append(value)
            elif name in _CONSTANTS and value == _CONSTANTS[name]:
                found.add(("conftest", name))
    return found


#: modules of tests/ whose functions `_referenced` follows
_TEST_MODULES = {path.stem for path in Path(__file__).parent.glob("*.py")}


def derive_marks(
    nodeid: str,
    fixtures: dict[str, Callable[..., object] | None],
    function: Callable[..., object] | None,
) -> set[str]:
    """The marks of a test: `nodeid` (tests/test_x.py::test_y[param]), the fixtures it uses
    (names, direct or not, to their functions when known) and its function."""
    marks: set[str] = set()
    for name, func in fixtures.items():
        marks |= FIXTURE_MARKS.get(name, frozenset())
        module = getattr(func, "__module__", None) or ""
        if f"{module.rpartition('.')[2]}.py::{name}" in SLOW_FIXTURES:
            marks.add("slow")
    for func in [function, *fixtures.values()]:
        if func is not None:
            for key in _referenced(func):
                marks |= NAME_MARKS.get(key, frozenset())
    path, _, name = nodeid.partition("::")
    if Path(path).name in SLOW_MODULES or f"{Path(path).name}::{name.split('[')[0]}" in SLOW_TESTS:
        marks.add("slow")
    return marks


def _fixture_functions(item: pytest.Item) -> dict[str, Callable[..., object] | None]:
    """Every fixture the item uses (item.fixturenames: direct, indirect and autouse) to the
    function of the definition it gets."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    out: dict[str, Callable[..., object] | None] = {}
    for name in getattr(item, "fixturenames", ()):
        defs = definitions.get(name, ())
        out[name] = defs[-1].func if defs else None
    return out


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        function = getattr(item, "function", None)
        have = {mark.name for mark in item.iter_markers()}
        for mark in sorted(derive_marks(item.nodeid, _fixture_functions(item), function) - have):
            item.add_marker(mark)
