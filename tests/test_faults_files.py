"""Faults of the files themselves: names a listing cannot hold, names that share a spelling,
documents nested too deep, symbolic-link loops, FIFOs and devices, files that vanish between
listing and reading, and a load killed while its worker processes run.

Each test states the fault, then what the load must do instead of what it did: a traceback,
a forged row, a worker blocked for good, a reject that never goes, processes left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import duckdb
import pytest

from loaders import Config, LoadError, bulk, load, reading, walks
from loaders import workers as loader_workers
from loaders.batch import Job
from loaders.config import InputSpec
from loaders.raw_schema import create_raw_schema
from loaders.sources import KINDS
from loaders.sources.common import TOO_DEEP, escaped
from loaders.sources.files import walk_listing
from loaders.writer import RawWriter
from tests.conftest import TURNAROUND, turnaround
from tests.helpers import make_config, query, write

H = "JobName|JobID|Timelimit|Elapsed|Submit|Start|End|ReqNodes|QOS|User|ExitCode"
JOB = (
    "count|{}|00:30:00|00:01:02|2023-03-12T01:59:30|2023-03-12T02:00:00|2023-03-12T02:01:02|1|"
    "realtime|alice|0:0"
)
STATUS = '{{"time": "2023-10-13T16:45:{:02d}+00:00"}}'
STATUSES = "in/**/4dstem_rec_status_*.json"
LOOP = "cannot stat: Too many levels of symbolic links"


def sacct(job_id: int) -> str:
    return f"{H}\n{JOB.format(job_id)}\n"


def rel(config: Config, value: object) -> object:
    """A path under the config's folder relative to it, other values as they are: the
    warehouse may keep the paths of the files beside its config either way."""
    prefix = f"{config.path.parent}/"
    return value[len(prefix) :] if isinstance(value, str) and value.startswith(prefix) else value


def keyed(config: Config, sql: str) -> list[tuple[object, ...]]:
    """A query's rows, each path under the config's folder relative to it (`rel`)."""
    return [tuple(rel(config, value) for value in row) for row in query(config, sql)]


def rejects(config: Config) -> list[tuple[object, ...]]:
    return keyed(
        config,
        "select file_path, line_number, reason, raw_text from raw.rejected_records order by all",
    )


class Blocked(Exception):
    """A read that waited past its deadline (not an OSError, which the readers catch)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Blocked in this (the main) thread when the block runs longer than `seconds`."""

    def expire(signum: int, frame: object) -> None:
        raise Blocked(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def after_listing(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """Run `act` once each input's files are listed, before any is read (a race, made sure)."""
    listed = InputSpec.resolve_hits

    def resolve_hits(spec: InputSpec) -> object:
        hits = listed(spec)
        act()
        return hits

    monkeypatch.setattr(InputSpec, "resolve_hits", resolve_hits)


def both_readers(tmp: Path, source: str, data: bytes) -> tuple[object, object]:
    """(Python reader, DuckDB line reader) on one listing: (rows, rejects, skipped) each."""
    path = tmp / "listing.txt"
    path.write_bytes(data)
    python = KINDS[source].readers["stat"](path, data)
    with closing(duckdb.connect(":memory:")) as con:
        create_raw_schema(con)
        spec = InputSpec(source=source, format="dir", paths=(), base_dir=tmp)
        writer = RawWriter(con, source, 1, None, tmp / "spool")
        parsed, _ = bulk.insert_lines(writer, spec, path, data, False, strict=False)
        writer.flush()
        columns = ", ".join(KINDS[source].columns)
        written = con.execute(f"select _record_number, {columns} from raw.{source}").fetchall()
    assert parsed.bulk_rows == len(written)
    return (
        (sorted(python.rows), [(r.line, r.reason, r.text) for r in python.rejects], python.skipped),
        (
            sorted([*written, *parsed.rows]),
            [(r.line, r.reason, r.text) for r in parsed.rejects],
            parsed.skipped,
        ),
    )


# ------------------------------------------------------------------ 10. names a listing holds


FORGED = "x\ndata_scan0000000009_00.data|1700000000\ny"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (FORGED, "path holds a control character"),  # a newline forged a row
        ("data_scan0000000008_00.data\x1b[2J", "path holds a control character"),
        ("data_scan0000000007_00.data\udcff", "path is not UTF-8"),
    ],
    ids=["newline-forges-a-row", "escape-sequence", "not-utf8"],
)
def test_a_walked_name_the_listing_cannot_hold_is_rejected_naming_it(
    tmp_path: Path, name: str, why: str
) -> None:
    """Before: the walk wrote the name into its `path|mtime` lines as it was, and a newline and
    `|` in it made a row of the loader's own listing (scan 9, mtime 1700000000)."""
    root = tmp_path / "in"
    good = write(root / "data_scan0000000001_00.data", b"x")
    odd = write(root / name, b"x")
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["in"])])
    summary = load(config)
    assert keyed(config, "select file_path, scan_number from raw.ncem_data_files") == [
        (rel(config, str(good)), "0000000001")
    ]
    spelled = escaped(str(odd), pipe=True)
    assert rejects(config) == [
        (rel(config, str(root.resolve())), 2, f"'{spelled}': {why}", rel(config, spelled))
    ]
    assert summary.sources["ncem_data_files"].rejected == 1
    assert load(config).sources["ncem_data_files"].files_unchanged == 1
    with pytest.raises(LoadError) as caught:
        load(
            make_config(tmp_path / "strict", [("ncem_data_files", "dir", [str(root)])]), strict=True
        )
    assert str(caught.value) == f"{root.resolve()}:2: '{spelled}': {why}"


def test_refused_entries_read_alike_in_duckdb_and_python(tmp_path: Path) -> None:
    """The listing of a walk with refused entries (a name with a newline and `|`, a folder with
    a tab, a name not UTF-8, a link loop, a backslash) gives DuckDB's line reader and the
    Python reader the same rows, rejects and skipped entries."""
    root = tmp_path / "tree"
    for name in (
        "data_scan0000000001_00.data",
        FORGED,
        "tab\there/data_scan0000000002_00.data",
        "data_scan0000000003_00.data\udce9",
        "a|b/data_scan0000000004_00.data\n",
        "back\\slash\\x41/data_scan0000000005_00.data",
        "README",
    ):
        write(root / name, b"x")
    os.symlink(root / "data_scan0000000006_00.data", root / "data_scan0000000006_00.data")
    listing = walk_listing(root)
    assert walks.walk_tree(root) == listing
    assert bulk.plain(listing)  # DuckDB's reader, not the Python reader for the whole file
    python, duck = both_readers(tmp_path, "ncem_data_files", listing)
    assert python == duck
    rows, refused, skipped = python  # type: ignore[misc]
    assert [row[2] for row in rows] == ["0000000001", "0000000005"]  # type: ignore[index]
    assert len(refused) == 5 and skipped == 1
    assert listing.count(b"\n") == 8  # a line per entry: none forged


@pytest.mark.parametrize("source", ["slurm", "rec_status"])
def test_a_name_not_utf8_and_its_literal_spelling_are_two_files(
    tmp_path: Path, source: str
) -> None:
    """Before: `jobs<0xff>.txt` and `jobs\\xff.txt` were both stored as `jobs\\xff.txt`, so
    each load replaced the other's rows (one of the two files' rows, alternately)."""
    folders = ("day\udcff", "day\\xff")
    if source == "slurm":
        for job_id, folder in enumerate(folders, 1):
            write(tmp_path / "in" / folder / "jobs.txt", sacct(job_id))
        config = make_config(tmp_path, [("slurm", "sacct", ["in/*/jobs.txt"])])
        column = "job_id"
    else:
        for second, folder in enumerate(folders, 1):
            write(
                tmp_path / "in" / folder / "4dstem_rec_status_0_scan_1.json", STATUS.format(second)
            )
        config = make_config(tmp_path, [("rec_status", "json", [STATUSES])])
        column = "time"
    first = load(config).sources[source]
    assert (first.files_new, first.rows) == (2, 2)
    table = f"select _source_file, {column} from raw.{source} order by 1"
    rows = keyed(config, table)
    spellings = {rel(config, str(tmp_path / "in" / day)) for day in ("day\\xff", "day\\\\xff")}
    assert {os.path.dirname(str(path)) for path, _ in rows} == spellings
    for _ in range(2):
        again = load(config).sources[source]
        assert (again.files_unchanged, again.files_replaced, again.files_new) == (2, 0, 0)
        assert keyed(config, table) == rows


def test_stored_spellings_are_one_per_name() -> None:
    """A name without a byte that is not UTF-8, a control character or a backslash before an
    `x` is its own spelling; the others are escaped so that none shares one."""
    assert escaped("/data/scan 1/é/a\\b.json") == "/data/scan 1/é/a\\b.json"
    assert escaped("a\udcffb") == "a\\xffb"
    assert escaped("a\\xffb") == "a\\\\xffb"
    assert escaped("a\\\udcff") == "a\\\\\\xff"
    assert escaped("line\nfeed|pipe") == "line\\x0afeed|pipe"
    assert escaped("line\nfeed|pipe", pipe=True) == "line\\x0afeed\\x7cpipe"
    names = ["\\", "x", "\udcff", "\n", "|", "a", "\x85"]
    spelled: dict[str, str] = {}
    for a in names:
        for b in names:
            for c in names:
                name = a + b + c
                assert spelled.setdefault(escaped(name), name) == name


def test_a_status_file_name_with_a_trailing_newline_is_not_a_status_file(tmp_path: Path) -> None:
    """Before: `$` matched before the newline, and the file loaded as receiver 0 of scan 1."""
    write(tmp_path / "in" / "4dstem_rec_status_0_scan_1.json\n", STATUS.format(1))
    config = make_config(tmp_path, [("rec_status", "json", ["in/4dstem_rec_status_*"])])
    load(config)
    assert query(config, "select count(*) from raw.rec_status") == [(0,)]
    path = rel(config, f"{tmp_path.resolve()}/in/4dstem_rec_status_0_scan_1.json\\x0a")
    assert keyed(config, "select file_path, reason from raw.rejected_records") == [
        (path, "file name is not 4dstem_rec_status_<receiver 0-3>_scan_<scan>.json")
    ]


# ------------------------------------------------------------------ 11. deep JSON, link loops


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("workers", [False, True])
def test_json_nested_100000_deep_is_quarantined_and_the_rest_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: bool
) -> None:
    """Before: a RecursionError, a traceback, and nothing of any file loaded."""
    deep = write(tmp_path / "in" / "4dstem_rec_status_0_scan_1.json", DEEP)
    write(tmp_path / "in" / "4dstem_rec_status_1_scan_1.json", STATUS.format(1))
    monkeypatch.setattr(loader_workers, "PARALLEL_MIN_FILES", 1 if workers else 10**9)
    config = make_config(tmp_path, [("rec_status", "json", [STATUSES])])
    summary = load(config)
    assert (summary.sources["rec_status"].rows, summary.sources["rec_status"].rejected) == (1, 1)
    assert keyed(config, "select file_path, line_number, reason from raw.rejected_records") == [
        (rel(config, str(deep)), 1, TOO_DEEP)
    ]
    with pytest.raises(LoadError) as caught:
        load(make_config(tmp_path / "strict", [("rec_status", "json", [str(deep)])]), strict=True)
    assert str(caught.value) == f"{deep}:1: {TOO_DEEP}"


def test_deep_json_through_the_command_is_one_sentence_not_a_traceback(tmp_path: Path) -> None:
    deep = write(tmp_path / "in" / "4dstem_rec_status_0_scan_1.json", DEEP)
    write(tmp_path / "in" / "save_times.json", '{"1": ' + DEEP + "}")
    config = make_config(
        tmp_path,
        [("rec_status", "json", [STATUSES]), ("stempy_log", "json", ["in/save_times.json"])],
    )
    done = turnaround("load", "--config", str(config.path))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert query(config, "select reason from raw.rejected_records") == [(TOO_DEEP,), (TOO_DEEP,)]
    config.warehouse.unlink()
    done = turnaround("load", "--strict", "--config", str(config.path))
    (message,) = done.stderr.strip().splitlines()  # one sentence, naming file and line
    assert done.returncode == 2 and message.startswith("turnaround: error: ")
    assert message.endswith(f"{deep.name}:1: {TOO_DEEP}")


def test_a_symlink_loop_in_a_walk_rejects_that_entry_only(tmp_path: Path) -> None:
    """Before: the loop's failed stat rejected the whole walked folder (no row of it loaded).
    Loops at the top and in a subfolder (walked by a worker process)."""
    root = tmp_path / "in"
    good = [write(root / f"{day}/data_scan000000000{day}_00.data", b"x") for day in (1, 2)]
    loops = [root / "data_scan0000000003_00.data", root / "2" / "loop"]
    for loop in loops:
        os.symlink(loop, loop)
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["in"])])
    load(config)
    assert keyed(config, "select file_path from raw.ncem_data_files order by 1") == [
        (rel(config, str(path)),) for path in good
    ]
    assert query(config, "select reason, raw_text from raw.rejected_records order by 2") == [
        (f"'{loop}': {LOOP}", str(loop)) for loop in sorted(map(str, loops))
    ]
    for loop in loops:  # the loops mended: the folder is read again, the rejects go
        loop.unlink()
    assert load(config).sources["ncem_data_files"].files_replaced == 1
    assert rejects(config) == []


def test_a_walk_split_across_workers_with_loops_deep_down_lists_what_one_walk_lists(
    tmp_path: Path,
) -> None:
    """Each worker walks its folder whole (no pool of its own), loops refused wherever they
    are; a folder gone before its worker reaches it lists nothing."""
    root = tmp_path / "tree"
    for name in ("a/x/1.data", "a/y/2.data", "b/z/w/3.data", "b/4.data", "5.data"):
        write(root / name, b"x")
    for loop in (root / "a" / "y" / "loop", root / "b" / "z" / "loop"):
        os.symlink(loop, loop)
    listing = walk_listing(root)
    assert walks.walk_tree(root) == listing
    assert listing.count(b"\t" + LOOP.encode()) == 2 and listing.count(b"\n") == 7
    assert walks._walk_part(str(tmp_path / "gone")) == b""


# ------------------------------------------------------------------ 12. FIFOs and devices


def test_a_file_replaced_by_a_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    """Before: opening the FIFO waited for a writer, forever, with the warehouse locked."""
    fifo = tmp_path / "in" / "4dstem_rec_status_0_scan_1.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    spec = make_config(tmp_path, [("rec_status", "json", [STATUSES])]).inputs[0]
    with deadline(5):  # listed as a regular file (not `unchecked`), a FIFO when read
        batch = reading.read_batch(Job(spec, 1, True, False), [str(fifo)], {}, {})
    assert (batch.not_files, batch.rejects, batch.failure, batch.ledger) == (
        [str(fifo)],
        [],
        None,
        [],
    )


@pytest.mark.parametrize(
    ("source", "fmt", "name"),
    [
        ("rec_status", "json", "4dstem_rec_status_0_scan_1.json"),
        ("slurm", "sacct", "jobs.txt"),
    ],
)
def test_a_fifo_put_in_a_files_place_after_listing_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, fmt: str, name: str
) -> None:
    kept = write(tmp_path / "in" / "a" / name, STATUS.format(1) if fmt == "json" else sacct(1))
    swapped = write(tmp_path / "in" / "b" / name, kept.read_bytes())

    def swap() -> None:
        swapped.unlink()
        os.mkfifo(swapped)

    after_listing(monkeypatch, swap)
    config = make_config(tmp_path, [(source, fmt, [f"in/**/{name}"])])
    with deadline(20):
        summary = load(config, strict=True)
    assert (summary.sources[source].files_new, summary.sources[source].rows) == (1, 1)
    assert keyed(config, f"select distinct _source_file from raw.{source}") == [
        (rel(config, str(kept)),)
    ]
    assert rejects(config) == []


def test_fifos_and_devices_in_a_walk_are_not_listed(tmp_path: Path) -> None:
    """Before: a FIFO and a link to a device were listed (and loaded) as data files. They are
    skipped, like the folders a walk goes through: no regular file, no data; not rejected,
    since a FIFO or socket beside the data is no defect of the data."""
    root = tmp_path / "in"
    good = write(root / "data_scan0000000001_00.data", b"x")
    os.mkfifo(root / "data_scan0000000002_00.data")
    os.symlink("/dev/null", root / "data_scan0000000003_00.data")
    write(root / "sub" / "data_scan0000000004_00.data", b"x")
    os.mkfifo(root / "sub" / "data_scan0000000005_00.data")
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["in"])])
    with deadline(20):
        summary = load(config, strict=True)
    assert keyed(config, "select file_path from raw.ncem_data_files order by 1") == [
        (rel(config, str(good)),),
        (rel(config, str(root / "sub" / "data_scan0000000004_00.data")),),
    ]
    assert summary.sources["ncem_data_files"].skipped == 0


# ------------------------------------------------------------------ 13. files that vanish


@pytest.mark.parametrize(
    ("source", "fmt", "glob", "gone"),
    [
        ("rec_status", "json", STATUSES, "in/b/4dstem_rec_status_0_scan_1.json"),
        ("slurm", "sacct", "in/**/jobs.txt", "in/b/jobs.txt"),
        ("ncem_data_files", "dir", "in/*", "in/b"),
    ],
    ids=["status-file", "sacct-file", "walked-folder"],
)
@pytest.mark.parametrize("strict", [False, True])
def test_a_file_deleted_between_listing_and_reading_is_skipped_not_rejected(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    fmt: str,
    glob: str,
    gone: str,
    strict: bool,
) -> None:
    """Before: `cannot read: No such file or directory`, a reject no later load removed (the
    file is not found again), and with --strict a failed load."""
    for folder in ("a", "b"):
        if fmt == "json":
            write(tmp_path / "in" / folder / "4dstem_rec_status_0_scan_1.json", STATUS.format(1))
        elif fmt == "sacct":
            write(tmp_path / "in" / folder / "jobs.txt", sacct(1))
        else:
            write(tmp_path / "in" / folder / "data_scan0000000001_00.data", b"x")
    vanishing = tmp_path / gone
    content = None if vanishing.is_dir() else vanishing.read_bytes()

    def delete() -> None:
        if content is None:
            (vanishing / "data_scan0000000001_00.data").unlink()
            vanishing.rmdir()
        else:
            vanishing.unlink()

    after_listing(monkeypatch, delete)
    config = make_config(tmp_path, [(source, fmt, [glob])])
    tally = load(config, strict=strict).sources[source]
    assert (tally.files_new, tally.rows, tally.rejected) == (1, 1, 0)
    assert rejects(config) == []
    assert query(config, "select count(*) from raw.loads") == [(1,)]
    monkeypatch.undo()
    if content is None:
        write(vanishing / "data_scan0000000001_00.data", b"x")
    else:
        write(vanishing, content)
    tally = load(config, strict=strict).sources[source]  # back: a new file like any other
    assert (tally.files_new, tally.files_unchanged, tally.rows) == (1, 1, 1)
    assert rejects(config) == []


def _unreadable_once(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The next read of `path` fails as a read of a file without read permission does (this
    test runs as root, whom a mode of 000 does not stop)."""
    real = reading.read_bytes

    def read(key: str) -> tuple[bytes, int]:
        if key == str(path):
            monkeypatch.setattr(reading, "read_bytes", real)
            raise LoadError(key, None, "cannot read: Permission denied")
        return real(key)

    monkeypatch.setattr(reading, "read_bytes", read)


@pytest.mark.parametrize("loaded_before", [False, True])
def test_the_reject_of_an_unreadable_file_goes_once_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loaded_before: bool
) -> None:
    """`cannot read` is the verdict of one attempt: a later load that reads the file (new, or
    as it was when it last loaded) leaves no reject of it behind."""
    path = write(tmp_path / "in" / "a" / "4dstem_rec_status_0_scan_1.json", STATUS.format(1))
    config = make_config(tmp_path, [("rec_status", "json", [STATUSES])])
    if loaded_before:
        load(config)
        os.utime(path, ns=(10**18, 10**18))  # touched: read again, unchanged
    _unreadable_once(monkeypatch, path)
    assert load(config).sources["rec_status"].rejected == 1
    assert [reason for _, _, reason, _ in rejects(config)] == ["cannot read: Permission denied"]
    load(config)
    assert query(config, "select count(*) from raw.rec_status") == [(1,)]
    assert rejects(config) == []


# ------------------------------------------------------------------ 14. a killed load's workers


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid`."""
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie has ended: only its exit status is left)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.fixture(scope="module")
def many_statuses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40,000 status files: a load that keeps its workers busy for a second or two."""
    root = tmp_path_factory.mktemp("many")
    body = STATUS.format(1).encode()
    for day in range(40):
        folder = root / "in" / f"day{day}"
        folder.mkdir(parents=True)
        for n in range(1000):
            fd = os.open(
                folder / f"4dstem_rec_status_{n % 4}_scan_{day * 1000 + n}.json",
                os.O_WRONLY | os.O_CREAT,
            )
            os.write(fd, body)
            os.close(fd)
    return make_config(root, [("rec_status", "json", [STATUSES])]).path


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.skipif(loader_workers.workers() < 2, reason="one core: a load starts no worker")
def test_no_process_of_a_load_killed_by_sigkill_survives_it(many_statuses: Path) -> None:
    """Before: the workers of a load killed with SIGKILL waited for work, for good."""
    process = subprocess.Popen(
        [TURNAROUND, "load", "--config", str(many_statuses)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    family: set[int] = set()
    try:
        until = time.monotonic() + 60
        while len(family) < loader_workers.workers() and process.poll() is None:
            assert time.monotonic() < until, "the load started no worker in a minute"
            family |= _children(process.pid)
            time.sleep(0.002)
        assert process.poll() is None, "the load ended before it could be killed"
        family |= {grandchild for child in family for grandchild in _children(child)}
        assert all(_alive(pid) for pid in family)
        process.send_signal(signal.SIGKILL)
        process.wait()
        until = time.monotonic() + 5
        while any(_alive(pid) for pid in family) and time.monotonic() < until:
            time.sleep(0.05)
        assert [pid for pid in family if _alive(pid)] == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in family:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
