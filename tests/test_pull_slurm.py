"""`turnaround pull-slurm` against a stand-in `sacct` (there is no Slurm cluster here): the
stand-in records its arguments and environment and prints fixture output per window."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import refresh, turnaround

STAND_IN = """\
#!{python}
# A stand-in for Slurm's sacct: records how it was called, prints the fixture of its window.
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps({{"args": args, "tz": os.environ.get("TZ")}}) + "\\n")
start = next(a.split("=", 1)[1] for a in args if a.startswith("--starttime="))
fixtures = json.load(open(os.path.join(here, "fixtures.json")))
if start in fixtures.get("fail", []):
    print("sacct: error: Slurm accounting storage is unavailable", file=sys.stderr)
    sys.exit(1)
sys.stdout.write(fixtures["windows"].get(start, ""))
"""

HEADER = "JobName|JobID|Timelimit|Elapsed|Submit|Start|End|ReqNodes|QOS|User|ExitCode\n"
JOB_1 = (
    "distiller-count-1|700|00:30:00|00:01:00|2023-10-01T12:00:00|2023-10-01T12:00:10|"
    "2023-10-01T12:01:10|4|realtime_m1|dstlr|0:0\n"
)
# runs across midnight: still running in the first window, finished in the second
RUNNING = (
    "distiller-count-2|701|00:30:00|00:05:00|2023-10-01T23:55:00|2023-10-01T23:55:00|"
    "Unknown|4|realtime_m1|dstlr|0:0\n"
)
FINISHED = (
    "distiller-count-2|701|00:30:00|00:10:00|2023-10-01T23:55:00|2023-10-01T23:55:00|"
    "2023-10-02T00:05:00|4|realtime_m1|dstlr|0:0\n"
)
WINDOWS = {
    "2023-10-01T00:00:00": HEADER + JOB_1 + RUNNING,
    "2023-10-02T00:00:00": HEADER + FINISHED,
    "2023-10-03T00:00:00": HEADER,
    "2023-10-04T00:00:00": HEADER,
}
CONFIG = """\
warehouse = "warehouse.duckdb"
timezone = "America/Los_Angeles"

[[inputs]]
source = "slurm"
format = "sacct"
paths = ["slurm/pulled/*.txt"]
timezone = "{zone}"

[[inputs]]
source = "distiller_db"
format = "csv"
paths = ["distiller/*.csv"]
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a config, a stand-in sacct first on PATH, and its fixtures."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sacct = bin_dir / "sacct"
    sacct.write_text(STAND_IN.format(python=sys.executable), encoding="utf-8")
    sacct.chmod(0o755)
    (bin_dir / "fixtures.json").write_text(json.dumps({"windows": WINDOWS}), encoding="utf-8")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "turnaround.toml").write_text(CONFIG.format(zone="UTC"), encoding="utf-8")
    (tmp_path / "distiller").mkdir()
    (tmp_path / "distiller" / "128_128.csv").write_text(
        "id,slurm_id,elapsed\n1,700,00:01:00\n2,701,00:10:00\n", encoding="utf-8"
    )
    return tmp_path


def _calls(site: Path) -> list[dict[str, object]]:
    lines = (site / "bin" / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _window(call: dict[str, object]) -> tuple[str, str]:
    args = call["args"]
    assert isinstance(args, list)
    start = next(a.split("=", 1)[1] for a in args if a.startswith("--starttime="))
    end = next(a.split("=", 1)[1] for a in args if a.startswith("--endtime="))
    return start, end


def test_windows_are_consecutive_in_utc_with_allocations_and_duplicates(site: Path) -> None:
    config = str(site / "turnaround.toml")
    done = turnaround(
        "pull-slurm", "--config", config, "--since", "2023-10-01", "--until", "2023-10-03"
    )
    assert done.returncode == 0, done.stderr
    calls = _calls(site)
    assert [_window(c) for c in calls] == [
        ("2023-10-01T00:00:00", "2023-10-02T00:00:00"),
        ("2023-10-02T00:00:00", "2023-10-03T00:00:00"),
    ]
    for call in calls:
        assert call["tz"] == "UTC"
        args = call["args"]
        assert isinstance(args, list)
        for flag in ("--parsable2", "--allocations", "--duplicates"):
            assert flag in args
        assert (
            "--format=JobName,JobID,Timelimit,Elapsed,Submit,Start,End,ReqNodes,QOS,User,"
            "ExitCode,State" in args
        )
    files = sorted((site / "slurm" / "pulled").glob("*.txt"))
    assert [f.name for f in files] == [
        "sacct_20231001T000000Z_20231002T000000Z.txt",
        "sacct_20231002T000000Z_20231003T000000Z.txt",
    ]
    assert files[0].read_text(encoding="utf-8") == WINDOWS["2023-10-01T00:00:00"]
    assert "warning" not in done.stderr
    assert "pulled 2 windows" in done.stdout


def test_pulled_files_load_as_utc_and_the_finished_record_wins(site: Path) -> None:
    config = site / "turnaround.toml"
    assert (
        turnaround(
            "pull-slurm", "--config", str(config), "--since", "2023-10-01", "--until", "2023-10-03"
        ).returncode
        == 0
    )
    built = refresh(config)
    assert built.exit_code == 0, built.output
    assert built.query(
        "select job_id, strftime(submitted_at, '%Y-%m-%d %H:%M'), strftime(ended_at, '%H:%M'),"
        " elapsed_s from staging.stg_slurm__jobs order by job_id"
    ) == [("700", "2023-10-01 12:00", "12:01", 60), ("701", "2023-10-01 23:55", "00:05", 600)]
    assert built.query("select count(*) from marts.fct_count_jobs") == [(2,)]


def test_the_next_pull_starts_where_the_last_one_ended(site: Path) -> None:
    config = str(site / "turnaround.toml")
    assert (
        turnaround(
            "pull-slurm", "--config", config, "--since", "2023-10-01", "--until", "2023-10-02T00:00"
        ).returncode
        == 0
    )
    done = turnaround("pull-slurm", "--config", config, "--until", "2023-10-04")
    assert done.returncode == 0, done.stderr
    assert [_window(c) for c in _calls(site)] == [
        ("2023-10-01T00:00:00", "2023-10-02T00:00:00"),
        ("2023-10-02T00:00:00", "2023-10-03T00:00:00"),
        ("2023-10-03T00:00:00", "2023-10-04T00:00:00"),
    ]


def test_window_days_and_a_short_last_window(site: Path) -> None:
    config = str(site / "turnaround.toml")
    done = turnaround(
        "pull-slurm",
        "--config",
        config,
        "--since",
        "2023-10-01",
        "--until",
        "2023-10-04T06:00",
        "--window-days",
        "2",
    )
    assert done.returncode == 0, done.stderr
    assert [_window(c) for c in _calls(site)] == [
        ("2023-10-01T00:00:00", "2023-10-03T00:00:00"),
        ("2023-10-03T00:00:00", "2023-10-04T06:00:00"),
    ]


def test_a_failing_sacct_stops_with_its_message_and_keeps_earlier_windows(site: Path) -> None:
    fixtures = {"windows": WINDOWS, "fail": ["2023-10-02T00:00:00"]}
    (site / "bin" / "fixtures.json").write_text(json.dumps(fixtures), encoding="utf-8")
    config = str(site / "turnaround.toml")
    done = turnaround(
        "pull-slurm", "--config", config, "--since", "2023-10-01", "--until", "2023-10-03"
    )
    assert done.returncode == 2
    assert "sacct failed for 2023-10-02 00:00..2023-10-03 00:00 (exit 1)" in done.stderr
    assert "accounting storage is unavailable" in done.stderr
    # the first window is kept and recorded: the next pull resumes at the failed one
    (site / "bin" / "fixtures.json").write_text(json.dumps({"windows": WINDOWS}), encoding="utf-8")
    assert turnaround("pull-slurm", "--config", config, "--until", "2023-10-03").returncode == 0
    assert [_window(c) for c in _calls(site)][-1] == ("2023-10-02T00:00:00", "2023-10-03T00:00:00")


def test_usage_errors(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(site / "turnaround.toml")
    first = turnaround("pull-slurm", "--config", config)
    assert first.returncode == 2 and "give --since DATE" in first.stderr
    backwards = turnaround(
        "pull-slurm", "--config", config, "--since", "2023-10-02", "--until", "2023-10-01"
    )
    assert backwards.returncode == 2 and "is not after the start" in backwards.stderr
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    missing = turnaround(
        "pull-slurm", "--config", config, "--since", "2023-10-01", "--until", "2023-10-02"
    )
    assert missing.returncode == 2 and "sacct is not on PATH" in missing.stderr


def test_warns_when_the_input_would_read_utc_files_as_local(site: Path) -> None:
    (site / "turnaround.toml").write_text(
        CONFIG.format(zone="America/Los_Angeles"), encoding="utf-8"
    )
    done = turnaround(
        "pull-slurm",
        "--config",
        str(site / "turnaround.toml"),
        "--since",
        "2023-10-01",
        "--until",
        "2023-10-02",
    )
    assert done.returncode == 0
    assert 'needs timezone = "UTC"' in done.stderr
