"""Faults around loads and builds: Ctrl-C and kills at any point, a warehouse taken between the
lock check and dbt, a full disk, a corrupt block, hostile `--vars`, a demo over a project.

Each ends in one sentence on stderr (exit 2) or, for Ctrl-C, one line (exit 130), never a
traceback; and what the next `refresh` builds equals what an uninterrupted one built.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from loaders.pipeline import spool_root
from loaders.sources import KINDS
from tests.conftest import TURNAROUND, turnaround
from tests.helpers import write

INTERRUPTED = 130
HEADER = 3 * 4096  # DuckDB's file header and its two database headers
BLOCK = 262_144  # DuckDB's block size (each block starts with its checksum)
NOISE = ("Traceback", "KeyboardInterrupt", "leaked semaphore", "Exception ignored")

Marts = dict[str, list[tuple[object, ...]]]
#: when to signal a command: given its output so far and its process id
Moment = Callable[[str, int], bool]


@dataclass(frozen=True)
class Ended:
    """How a command ended: its exit code and output."""

    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Reference:
    """The demo at scale 1 refreshed once, uninterrupted, and the marts it built; `pristine`
    keeps its warehouse and build files (dbt/) as that refresh left them."""

    data: Path
    warehouse: Path
    marts: Marts
    pristine: Path


def mart_rows(warehouse: Path) -> Marts:
    """Every mart's rows, in a fixed order."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by all"
            ).fetchall()
        ]
        return {
            name: con.execute(f"select * from marts.{name} order by all").fetchall()
            for name in names
        }
    finally:
        con.close()


def raw_counts(warehouse: Path) -> dict[str, int]:
    """Rows per raw table and files in the ledger."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = {
            source: con.execute(f"select count(*) from raw.{source}").fetchone()[0]  # type: ignore[index]
            for source in (*KINDS, "rejected_records")
        }
        counts["files"] = con.execute("select count(distinct path) from raw.loads").fetchone()[0]  # type: ignore[index]
        return counts
    finally:
        con.close()


def one_sentence(done: subprocess.CompletedProcess[str] | Ended, *parts: str) -> str:
    """Exit 2 and one line on stderr holding every part; no traceback anywhere."""
    code = done.code if isinstance(done, Ended) else done.returncode
    assert code == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for noise in NOISE:
        assert noise not in done.stdout + done.stderr, done.stdout + done.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


def one_interrupt_line(ended: Ended) -> str:
    """Exit 130 and one line saying so; no traceback, no KeyboardInterrupt, no warnings."""
    assert ended.code == INTERRUPTED, (ended.code, ended.stdout[-2000:], ended.stderr[-4000:])
    for noise in NOISE:
        assert noise not in ended.stdout + ended.stderr, ended.stdout[-2000:] + ended.stderr
    lines = ended.stderr.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0], ended.stderr
    return lines[0]


def _group_gone(pgid: int, timeout: float = 15) -> bool:
    """True once no process of the group is left (workers, dbt)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def signalled(args: list[str], when: Moment, sig: signal.Signals, timeout: float = 180) -> Ended:
    """Run `turnaround ARGS` as a terminal runs a foreground command (its own process group)
    and send `sig` to the whole group, as Ctrl-C does, once `when(stdout so far, pid)`
    holds."""
    process = subprocess.Popen(
        [TURNAROUND, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda s=stream, b=buf: b.extend(s), daemon=True)
        for stream, buf in ((process.stdout, out), (process.stderr, err))
    ]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout
    while process.poll() is None and not when("".join(out), process.pid):
        assert time.monotonic() < deadline, "the moment to signal never came"
        time.sleep(0.02)
    if process.poll() is None:
        os.killpg(process.pid, sig)
    process.wait(timeout=timeout)
    for reader in readers:
        reader.join(timeout=10)
    assert _group_gone(process.pid), "a worker or dbt outlived the command"
    return Ended(process.returncode, "".join(out), "".join(err))


def dbt_log_says(folder: Path, text: str) -> Moment:
    """A moment: dbt's log (beside the warehouse) has a new line holding `text`."""
    log = folder / "dbt" / "logs" / "dbt.log"
    start = log.stat().st_size if log.exists() else 0

    def moment(_: str, __: int) -> bool:
        try:
            with log.open("rb") as handle:
                handle.seek(start)
                return text.encode() in handle.read()
        except OSError:
            return False

    return moment


def after(seconds: float, moment: Moment) -> Moment:
    """A moment `seconds` after another."""
    seen: list[float] = []

    def later(out: str, pid: int) -> bool:
        if not seen and moment(out, pid):
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] >= seconds

    return later


def fresh(reference: Reference) -> Path:
    """The reference's config, its warehouse and build files as the uninterrupted refresh left
    them (a refresh of it has nothing new); the tests share its folder, one at a time."""
    data = reference.data
    for leftover in data.glob("warehouse.duckdb*"):
        leftover.unlink()
    for folder in ("dbt", "reports", ".warehouse.duckdb.spool"):
        shutil.rmtree(data / folder, ignore_errors=True)
    shutil.copyfile(reference.pristine / "warehouse.duckdb", reference.warehouse)
    shutil.copytree(reference.pristine / "dbt", data / "dbt")
    return data / "turnaround.toml"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The demo at scale 1, refreshed once without interruption."""
    root = tmp_path_factory.mktemp("faults-build")
    data = root / "data"
    assert turnaround("demo", "--out", str(data)).returncode == 0
    done = turnaround("refresh", "--config", str(data / "turnaround.toml"))
    assert done.returncode == 0, done.stdout + done.stderr
    warehouse = data / "warehouse.duckdb"
    pristine = root / "pristine"
    pristine.mkdir()
    shutil.copyfile(warehouse, pristine / "warehouse.duckdb")
    shutil.copytree(data / "dbt", pristine / "dbt", ignore=shutil.ignore_patterns("logs"))
    return Reference(data, warehouse, mart_rows(warehouse), pristine)


# --- 2, 3, 4: an interrupted build is never trusted, and says so until a build completes ---


def test_an_interrupted_build_is_not_trusted_and_the_marts_say_so(reference: Reference) -> None:
    config = fresh(reference)
    # other vars, Ctrl-C once fct_count_jobs was rebuilt with them (empty) and the rest not
    ended = signalled(
        ["build", "--config", str(config), "--vars", "{count_job_req_nodes: 1}"],
        dbt_log_says(config.parent, "OK created sql table model marts.fct_count_jobs"),
        signal.SIGINT,
    )
    line = one_interrupt_line(ended)
    assert "refresh" in line
    state = json.loads((config.parent / "dbt" / "last_build_state.json").read_text())
    assert state["exit_code"] != 0

    report = turnaround("report", "--config", str(config))
    assert report.returncode == 0, report.stderr
    assert "incomplete build" in report.stdout
    page = (config.parent / "reports" / "out" / "index.html").read_text(encoding="utf-8")
    assert 'id="incomplete-build"' in page

    done = turnaround("refresh", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing new since" not in done.stdout
    assert "incomplete build" in done.stdout  # said before it built again
    assert mart_rows(config.parent / "warehouse.duckdb") == reference.marts
    again = turnaround("report", "--config", str(config))
    assert "incomplete build" not in again.stdout
    page = (config.parent / "reports" / "out" / "index.html").read_text(encoding="utf-8")
    assert 'id="incomplete-build"' not in page


def test_ctrl_c_and_kill_during_refresh_builds_then_refresh_builds_the_same_marts(
    reference: Reference,
) -> None:
    config = fresh(reference)
    folder = config.parent
    # Ctrl-C halfway through a full refresh's dbt build
    ended = signalled(
        ["refresh", "--config", str(config), "--full-refresh"],
        dbt_log_says(folder, "START sql table model staging.int_count_jobs_filtered"),
        signal.SIGINT,
    )
    one_interrupt_line(ended)
    # SIGKILL (no message possible) near the end of the next refresh's build
    signalled(
        ["refresh", "--config", str(config)],
        dbt_log_says(folder, "START sql table model marts.transfer_comparison"),
        signal.SIGKILL,
    )
    # Ctrl-C while the next refresh loads (its workers stat the 3,600 status files)
    one_interrupt_line(
        signalled(
            ["refresh", "--config", str(config)],
            lambda _, __: spool_root(folder / "warehouse.duckdb").exists(),
            signal.SIGINT,
        )
    )
    done = turnaround("refresh", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing new since" not in done.stdout
    assert mart_rows(folder / "warehouse.duckdb") == reference.marts
    # now complete: the next refresh trusts it
    assert "nothing new since" in turnaround("refresh", "--config", str(config)).stdout


# --- 3: Ctrl-C and kills during a load of many files (worker processes) ---


@pytest.fixture(scope="module")
def many_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """40,000 receiver statuses (read by worker processes) and a sacct file; the folder and
    the counts one uninterrupted load gives."""
    root = tmp_path_factory.mktemp("many")
    for scan in range(10_000):
        folder = root / "data" / "status" / f"{scan // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for receiver in range(4):
            (folder / f"4dstem_rec_status_{receiver}_scan_{scan}.json").write_text(
                f'{{"time": "2023-10-13T16:{scan % 60:02d}:0{receiver}+00:00"}}'
            )
    sacct = "".join(
        f"distiller-count|{job}|00:30:00|00:01:02|2023-03-10T09:59:30|2023-03-10T10:00:00"
        f"|2023-03-10T10:01:02|4|realtime|alice|0:0\n"
        for job in range(1000, 41000)
    )
    write(root / "data" / "slurm" / "jobs.txt", sacct)
    clean = many_config(root / "clean", root / "data")
    assert turnaround("load", "--config", str(clean)).returncode == 0
    return root / "data", raw_counts(clean.parent / "warehouse.duckdb")


def many_config(folder: Path, data: Path) -> Path:
    return write(
        folder / "turnaround.toml",
        f'[[inputs]]\nsource = "slurm"\nformat = "sacct"\npaths = ["{data}/slurm/*.txt"]\n\n'
        f'[[inputs]]\nsource = "rec_status"\nformat = "json"\n'
        f'paths = ["{data}/status/**/4dstem_rec_status_*.json"]\n',
    )


def spooling(warehouse: Path) -> Moment:
    """A moment: the load's worker processes are handing rows over (spool files exist in a
    folder of its own: a killed load's leftovers, there until the new load removes them, are
    seen at the first look, just after the process started, and do not count)."""
    spool = spool_root(warehouse)
    stale: set[Path] = set()
    looked: list[bool] = []

    def moment(_: str, __: int) -> bool:
        files = [*spool.glob("*/*.csv"), *spool.glob("*/*.json")]
        if not looked:
            looked.append(True)
            stale.update(file.parent for file in files)
        return any(file.parent not in stale for file in files)

    return moment


def holding(path: Path) -> Moment:
    """A moment: the command has the file open (a report reading the marts)."""

    def moment(_: str, pid: int) -> bool:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if Path(os.readlink(fd)) == path:
                        return True
        return False

    return moment


def test_ctrl_c_during_a_load_of_many_files_stops_the_workers_in_one_line(
    many_files: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    data, expected = many_files
    config = many_config(tmp_path, data)
    warehouse = tmp_path / "warehouse.duckdb"
    load = ["load", "--config", str(config)]
    # a first load stopped while the workers read: no warehouse left behind
    line = one_interrupt_line(signalled(load, spooling(warehouse), signal.SIGINT))
    assert "as it was before this load" in line
    assert not warehouse.exists() and not spool_root(warehouse).exists()
    # killed while the workers read, then stopped at later points of a load
    signalled(load, spooling(warehouse), signal.SIGKILL)
    for delay in (0.3, 0.9, 1.5):
        ended = signalled(load, after(delay, spooling(warehouse)), signal.SIGINT)
        if ended.code != 0:  # a load that had finished first has nothing to say
            line = one_interrupt_line(ended)
            assert "this load" in line
    done = turnaround(*load)
    assert done.returncode == 0, done.stderr
    assert raw_counts(warehouse) == expected
    assert not spool_root(warehouse).exists()


# --- 5: a warehouse taken between the lock check and dbt ---


def test_a_warehouse_taken_just_before_dbt_opens_it_is_one_sentence(tmp_path: Path) -> None:
    config = write(tmp_path / "turnaround.toml", 'timezone = "UTC"\n')
    warehouse = tmp_path / "warehouse.duckdb"
    log = tmp_path / "dbt" / "logs" / "dbt.log"
    # takes the warehouse as soon as dbt starts (dbt parses for seconds before opening it)
    taker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, os, sys, time\n"
            "while not os.path.exists(sys.argv[2]): time.sleep(0.01)\n"
            "c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)",
            str(warehouse),
            str(log),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        done = turnaround("build", "--config", str(config))
    finally:
        taker.kill()
        taker.wait()
    line = one_sentence(done, "is in use by process", f"process {taker.pid}")
    assert "close it or wait for it to finish" in line
    assert len(done.stdout.splitlines()) < 10, done.stdout
    # the build never started: no record says it did
    assert not (tmp_path / "dbt" / "last_build_state.json").exists()


# --- 15: a full disk ---


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (skips the test where mounting is not allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a full disk) needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("size", ["1m", "6m"])
def test_a_first_load_onto_a_full_disk_is_one_sentence_and_leaves_no_file(
    reference: Reference, tmp_path: Path, size: str
) -> None:
    with small_disk(tmp_path / "disk", size) as disk:
        text = (reference.data / "turnaround.toml").read_text(encoding="utf-8")
        text = text.replace('paths = ["', f'paths = ["{reference.data}/').replace(
            '"warehouse.duckdb"', f'"{disk}/warehouse.duckdb"'
        )
        config = write(tmp_path / "turnaround.toml", text)
        done = turnaround("load", "--config", str(config))
        one_sentence(done, "no space left on device")
        assert sorted(p.name for p in disk.iterdir()) == []


def test_a_build_on_a_full_disk_is_one_sentence_and_keeps_its_files_whole(
    reference: Reference, tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk", "48m") as disk:
        # a config beside the reference's (its files are named as that one names them), whose
        # warehouse and build files are on the small disk
        shared = fresh(reference)
        text = shared.read_text(encoding="utf-8").replace(
            '"warehouse.duckdb"', f'"{disk}/warehouse.duckdb"'
        )
        config = write(shared.with_name("disk.toml"), text)
        shutil.move(reference.warehouse, disk / "warehouse.duckdb")
        shutil.move(reference.data / "dbt", disk / "dbt")
        results = (disk / "dbt" / "last_build_results.json").read_bytes()
        # leave 128 KiB: enough for the build's own files, not for dbt
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        with (disk / "filler").open("wb") as filler:
            filler.truncate(0)
            filler.write(b"\0" * max(free - 131_072, 0))
        done = turnaround("build", "--config", str(config), "--full-refresh")
        one_sentence(done, "no space left on device")
        assert (disk / "dbt" / "last_build_results.json").read_bytes() == results
        state = json.loads((disk / "dbt" / "last_build_state.json").read_text())
        assert state["exit_code"] != 0  # never trusted
        report = turnaround("report", "--config", str(config))
        assert report.returncode == 0, report.stderr
        assert "incomplete build" in report.stdout
        (disk / "filler").unlink()


# --- 16: a corrupt warehouse ---


def corrupt(warehouse: Path, location: int) -> None:
    """Flip a byte of the block at `location`, as a bad disk sector would."""
    with warehouse.open("r+b") as handle:
        handle.seek(location + 1000)
        byte = handle.read(1)
        handle.seek(location + 1000)
        handle.write(bytes([byte[0] ^ 0xFF]))


def mart_block(warehouse: Path, mart: str) -> int:
    """Where the first data block of a mart is in the file."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ((block,),) = con.execute(
            f"select min(block_id) from pragma_storage_info('marts.{mart}') where block_id >= 0"
        ).fetchall()
    finally:
        con.close()
    return HEADER + int(block) * BLOCK


@pytest.mark.parametrize("command", ["load", "build", "refresh", "report", "shell"])
def test_a_corrupt_warehouse_is_named_in_one_sentence(reference: Reference, command: str) -> None:
    config = fresh(reference)
    warehouse = config.parent / "warehouse.duckdb"
    corrupt(warehouse, 4096)  # a database header
    done = turnaround(command, "--config", str(config))
    one_sentence(done, str(warehouse), "corrupt", "delete it", "turnaround refresh")


def test_a_corrupt_mart_block_is_named_by_report_and_refresh(reference: Reference) -> None:
    config = fresh(reference)
    warehouse = config.parent / "warehouse.duckdb"
    corrupt(warehouse, mart_block(warehouse, "fct_count_jobs"))
    for command in ("report", "refresh"):
        done = turnaround(command, "--config", str(config))
        one_sentence(done, str(warehouse), "corrupt", "turnaround refresh")


# --- 17: vars, demo, names, windows ---


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        ("{timezone: Mars/Olympus_Mons}", "unknown timezone 'Mars/Olympus_Mons'"),
        ('{timezone: "UTC\') or (true"}', "unknown timezone"),
        ('{count_job_states: ["COMPLETED\') or (true"]}', "count_job_states"),
        ("{count_job_req_nodes: '4 or true'}", "count_job_req_nodes must be a number"),
        ("{count_job_req_nodes: .nan}", "count_job_req_nodes must be a number"),
        ("{max_reciever_skew_s: 30}", "did you mean 'max_receiver_skew_s'"),
        ("[1, 2]", "must be a mapping"),
    ],
)
def test_vars_are_checked_before_dbt_runs(tmp_path: Path, dbt_vars: str, message: str) -> None:
    config = write(tmp_path / "turnaround.toml", 'timezone = "UTC"\n')
    done = turnaround("build", "--config", str(config), "--vars", dbt_vars)
    one_sentence(done, "--vars", message)
    assert not (tmp_path / "dbt" / "logs").exists()  # dbt never started


def test_vars_without_a_value_are_a_usage_error(tmp_path: Path) -> None:
    config = write(tmp_path / "turnaround.toml", 'timezone = "UTC"\n')
    one_sentence(turnaround("build", "--config", str(config), "--vars"), "--vars")


def test_demo_refuses_a_folder_that_is_not_empty_without_force(tmp_path: Path) -> None:
    project = write(tmp_path / "mine" / "turnaround.toml", 'warehouse = "precious.duckdb"\n')
    done = turnaround("demo", "--out", str(tmp_path / "mine"))
    one_sentence(done, str(tmp_path / "mine"), "--force")
    assert project.read_text() == 'warehouse = "precious.duckdb"\n'
    assert sorted(p.name for p in project.parent.iterdir()) == ["turnaround.toml"]
    forced = turnaround("demo", "--out", str(tmp_path / "mine"), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "precious" not in project.read_text()


def test_a_warehouse_in_a_folder_whose_name_is_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    config = write(folder / "turnaround.toml", 'timezone = "UTC"\n')
    for command in ("load", "build", "report", "refresh", "shell"):
        done = turnaround(command, "--config", str(config))
        one_sentence(done, "UTF-8")


def test_a_window_too_wide_for_the_calendar_is_one_sentence(tmp_path: Path) -> None:
    config = write(tmp_path / "turnaround.toml", 'timezone = "UTC"\n')
    done = turnaround(
        "pull-slurm",
        "--config",
        str(config),
        "--since",
        "2023-01-01",
        "--window-days",
        "99999999999",
    )
    one_sentence(done, "--window-days")


def test_ctrl_c_during_a_demo_or_a_report_is_one_line(reference: Reference, tmp_path: Path) -> None:
    config = fresh(reference)
    for args in (
        ["demo", "--scale", "3", "--out", str(tmp_path / "demo")],
        ["report", "--config", str(config)],
    ):
        started = time.monotonic()
        # a second into the demo's writing; the report once it reads the marts
        when = (
            holding(reference.warehouse)
            if args[0] == "report"
            else (lambda _, __, t=started: time.monotonic() - t > 1.0)
        )
        ended = signalled(args, when, signal.SIGINT)
        assert ended.code != 0, f"{args[0]} ended before the interrupt"
        one_interrupt_line(ended)


def test_report_files_replace_symbolic_links_instead_of_writing_through_them(
    tmp_path: Path,
) -> None:
    config = write(tmp_path / "turnaround.toml", 'timezone = "UTC"\n')
    out = tmp_path / "out"
    out.mkdir()
    victim = write(tmp_path / "victim.txt", "mine\n")
    for name in ("index.html", "comparison.csv"):
        (out / name).symlink_to(victim)
    done = turnaround("report", "--config", str(config), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "mine\n"
    assert not (out / "index.html").is_symlink() and not (out / "comparison.csv").is_symlink()


@pytest.mark.parametrize("delay_s", [0.04, 0.06, 0.08, 0.1, 0.15, 0.2])
def test_ctrl_c_while_the_command_starts_is_one_line(tmp_path: Path, delay_s: float) -> None:
    # while the command imports DuckDB, pandas and its modules (a tenth of a second and more),
    # before its own handler is installed; the interpreter's own start (its first
    # milliseconds) is Python's
    config = write(tmp_path / "turnaround.toml", "")
    _interrupt_at(config, delay_s)


def test_ctrl_c_during_the_imports_never_crashes_the_exit(tmp_path: Path) -> None:
    # an interrupt inside an import (DuckDB's, numpy's) left a C extension half-initialised,
    # and the interpreter's finalisation crashed (SIGSEGV) after the line: about one start in
    # a hundred with the interrupt ~90 ms in. 120 starts over that window.
    config = write(tmp_path / "turnaround.toml", "")
    for number in range(120):
        _interrupt_at(config, 0.05 + (number % 12) * 0.01)


def _interrupt_at(config: Path, delay_s: float) -> None:
    """`turnaround load` interrupted `delay_s` after its start: one line and 130, or done."""
    process = subprocess.Popen(
        [TURNAROUND, "load", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(delay_s)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert process.returncode in (0, 130), (process.returncode, stderr)
    if process.returncode == 130:
        assert stderr.count("\n") == 1 and "interrupted" in stderr
