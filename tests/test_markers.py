"""The marks tests/conftest.py derives from what a test uses (`make test-quick` runs the tests
with none of them)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests import conftest
from tests.conftest import derive_marks, published_inputs
from tests.slurm_cluster import new_cluster

QUICK = "not slow and not chromium and not postgres and not slurm and not published"
REPO = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]


def _plain() -> None:
    """A test function that needs nothing."""


def _reads_published() -> Path:
    """A test function that reads the published data itself, not through a fixture."""
    return published_inputs() / "slurm"


def _helper_reading_published() -> str:
    return conftest.PUBLISHED_CONFIG.format(inputs="x")


def _calls_a_helper() -> str:
    """Reaches the published data through a function it calls."""
    return _helper_reading_published()


def _drives_chromium() -> None:
    with sync_playwright():
        pass


def _starts_a_cluster() -> None:
    new_cluster()


def _refreshes(config: Path) -> None:
    conftest.refresh(config)


@pytest.mark.parametrize(
    ("fixtures", "function", "marks"),
    [
        pytest.param({"tmp_path": None}, _plain, set(), id="nothing"),
        pytest.param({"postgres_server": None}, _plain, {"postgres"}, id="postgres_server"),
        pytest.param(
            # item.fixturenames lists the fixtures a test uses through other fixtures too
            {"from_database": None, "postgres_server": None, "tmp_path_factory": None},
            _plain,
            {"postgres"},
            id="postgres_server-indirect",
        ),
        pytest.param({"published": None}, _plain, {"published", "slow"}, id="published-fixture"),
        pytest.param({}, _reads_published, {"published"}, id="published_inputs-called"),
        pytest.param({}, _calls_a_helper, {"published"}, id="published-through-a-helper"),
        pytest.param({"report_dir": _reads_published}, _plain, {"published"}, id="in-a-fixture"),
        pytest.param({}, _drives_chromium, {"chromium"}, id="playwright"),
        pytest.param({"cluster": _starts_a_cluster}, _plain, {"slurm"}, id="slurm-cluster"),
        pytest.param({}, _refreshes, {"slow"}, id="refresh-runs-dbt"),
    ],
)
def test_marks_follow_the_fixtures_and_functions_used(
    fixtures: dict[str, Callable[..., object] | None],
    function: Callable[..., object],
    marks: set[str],
) -> None:
    assert derive_marks("tests/test_x.py::test_y", fixtures, function) == marks


def test_slow_modules_and_tests_are_marked_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SLOW_MODULES", frozenset({"test_big.py"}))
    monkeypatch.setattr(conftest, "SLOW_TESTS", frozenset({"test_x.py::test_long"}))
    assert derive_marks("tests/test_big.py::test_any[1]", {}, _plain) == {"slow"}
    assert derive_marks("tests/test_x.py::test_long[a-b]", {}, _plain) == {"slow"}
    assert derive_marks("tests/test_x.py::test_short", {}, _plain) == set()


def test_a_slow_fixture_marks_the_tests_using_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SLOW_FIXTURES", frozenset({"test_markers.py::slow_thing"}))
    assert derive_marks("tests/test_x.py::test_y", {"slow_thing": _plain}, _plain) == {"slow"}
    # a fixture of the same name elsewhere is not that one
    assert derive_marks("tests/test_x.py::test_y", {"slow_thing": derive_marks}, _plain) == set()


def test_every_slow_module_and_test_exists() -> None:
    """The tables name files, fixtures and tests that are there (a rename would silently unmark
    them)."""
    tests = Path(__file__).parent
    for fixture in conftest.SLOW_FIXTURES:
        module, _, name = fixture.partition("::")
        assert f"def {name}(" in (tests / module).read_text(encoding="utf-8"), fixture
    for module in conftest.SLOW_MODULES:
        assert (tests / module).is_file(), module
    for nodeid in conftest.SLOW_TESTS:
        module, _, name = nodeid.partition("::")
        assert f"def {name}(" in (tests / module).read_text(encoding="utf-8"), nodeid


def test_every_mark_is_registered(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    derived = {mark for marks in conftest.FIXTURE_MARKS.values() for mark in marks}
    derived |= {mark for marks in conftest.NAME_MARKS.values() for mark in marks}
    assert derived | {"slow"} <= registered


@pytest.mark.slow
def test_the_quick_selection_leaves_out_the_servers_and_the_published_data() -> None:
    """Collected for real: no test of the PostgreSQL, Slurm or published-data modules is quick,
    and the Chromium mark selects the one test that drives it."""
    files = ["tests/test_distiller_pg.py", "tests/test_real_slurm.py", "tests/test_published.py"]

    def collected(expression: str, *paths: str) -> list[str]:
        done = subprocess.run(
            [*PYTEST, "--collect-only", "-q", "-m", expression, *paths],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode in (0, 5), done.stdout + done.stderr  # 5: nothing selected
        return [line for line in done.stdout.splitlines() if "::" in line]

    assert collected(QUICK, *files) == []
    assert collected("not postgres", "tests/test_distiller_pg.py") == []
    assert collected("not slurm", "tests/test_real_slurm.py") == []
    assert collected("not published", "tests/test_published.py") == []
    chromium = collected("chromium", "tests/test_report.py")
    assert [line.split("::")[1] for line in chromium] == [
        "test_page_draws_every_figure_offline_in_chromium"
    ]
