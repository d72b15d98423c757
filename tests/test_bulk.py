"""The fast paths give what the Python readers give.

- DuckDB's line reader (loaders.bulk) against the Python reader of the same bytes, on
  generated sacct text and stat listings full of near misses: same rows on the same lines,
  same rejects with the same reasons, same skipped count.
- Worker processes (loaders.workers) against one process: same raw rows, ledger and rejects.
- The ledger's stat decides what is read again; a re-hash reads everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders import bulk, reading, walks
from loaders import workers as loader_workers
from loaders.config import InputSpec
from loaders.errors import LoadError
from loaders.pipeline import load, spool_root
from loaders.raw_schema import create_raw_schema
from loaders.sources import KINDS
from loaders.sources.files import walk_listing
from loaders.sources.slurm import SACCT_FIELDS
from loaders.writer import RawWriter
from tests.helpers import make_config, query, write

# ------------------------------------------------------------------ DuckDB lines vs Python


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with closing(duckdb.connect(":memory:")) as connection:
        connection.execute("set TimeZone = 'UTC'")
        create_raw_schema(connection)
        yield connection


def both_ways(
    con: duckdb.DuckDBPyConnection, tmp: Path, source: str, fmt: str, data: bytes
) -> tuple[object, object]:
    """(Python reader's result, bulk path's result) as (rows, rejects, skipped)."""
    path = tmp / "input.txt"
    path.write_bytes(data)
    python = KINDS[source].readers[fmt](path, data)
    expected = (
        sorted(python.rows),
        [(r.line, r.reason, r.text) for r in python.rejects],
        python.skipped,
    )
    con.execute(f"delete from raw.{source}")
    spec = InputSpec(source=source, format=fmt, paths=(), base_dir=tmp)
    writer = RawWriter(con, source, 1, None, tmp / "spool")
    parsed, error = bulk.insert_lines(writer, spec, path, data, False, strict=False)
    writer.flush()
    assert error is None
    columns = ", ".join(KINDS[source].columns)
    written = con.execute(
        f"select _record_number, {columns} from raw.{source} where _source_file = ?",
        [str(path)],
    ).fetchall()
    assert parsed.bulk_rows + len(parsed.rows) == len(written) + len(parsed.rows)
    got = (
        sorted([*written, *parsed.rows]),
        [(r.line, r.reason, r.text) for r in parsed.rejects],
        parsed.skipped,
    )
    return expected, got


TIMES = st.sampled_from(
    [
        "2023-10-13T16:45:09",
        "2023-10-13 16:45:09",
        "2023-10-13T16:45:09.123456",
        "2023-02-29T00:00:00",
        "2024-02-29T23:59:59",
        "2023-10-13T24:00:00",
        "2023-10-13T16:60:09",
        "0000-01-01T00:00:00",
        "0999-01-01T00:00:00",
        "2023-1-13T16:45:09",
        "Unknown",
        "None",
        "",
        " 2023-10-13T16:45:09",
        "2023-10-13T16:45:09Z",
        "２０２３-10-13T16:45:09",
    ]
)
DURATIONS = st.sampled_from(
    [
        "00:29:00",
        "1-00:00:00",
        "1-23:59:59",
        "1-24:00:00",
        "123:00:00",
        "00:60:00",
        "0:1:2",
        "UNLIMITED",
        "Partition_Limit",
        "",
        "12345678901:00:00",
        "١:00:00",
    ]
)
TEXT = st.text(alphabet=st.sampled_from("ab |\t\ufeff-.é0"), max_size=6)


@st.composite
def sacct_lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["row", "row", "row", "header", "odd", "blank"]))
    if kind == "header":
        names = list(SACCT_FIELDS)
        if draw(st.booleans()):
            names = draw(st.permutations(names))
        line = "|".join(names)
        return ("\ufeff" + line) if draw(st.booleans()) else line
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t", "  \t "]))
    if kind == "odd":
        return draw(TEXT)
    fields = [
        draw(TEXT),
        draw(st.sampled_from(["123", "123.batch", "", "9_1", " 7"])),
        draw(DURATIONS),
        draw(DURATIONS),
        draw(TIMES),
        draw(TIMES),
        draw(TIMES),
        draw(st.sampled_from(["1", "", "0", "-1", "2147483647", "2147483648", "x", "99999999999"])),
        draw(TEXT),
        draw(TEXT),
        draw(st.sampled_from(["0:0", "1:0", ""])),
    ]
    if draw(st.integers(0, 9)) == 0:
        fields = fields[: draw(st.integers(0, 10))] or [*fields, "extra"]
    return "|".join(fields)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(sacct_lines(), max_size=12), end=st.booleans())
def test_sacct_lines_read_by_duckdb_equal_the_python_reader(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, lines: list[str], end: bool
) -> None:
    data = ("\n".join(lines) + ("\n" if end else "")).encode()
    expected, got = both_ways(con, tmp_path, "slurm", "sacct", data)
    assert got == expected


STATES = st.sampled_from(["COMPLETED", "CANCELLED by 0", "TIMEOUT", "", "RUNNING", "a|b"])


@st.composite
def sacct_files_with_state(draw: st.DrawFn) -> str:
    """sacct output asked for State somewhere in its --format, maybe with --parsable's
    trailing bars, maybe headerless (read with the default order: all rejected the same way),
    job names holding bars among the lines."""
    names = [*SACCT_FIELDS]
    names.insert(draw(st.integers(0, len(names))), "State")
    end = "|" if draw(st.booleans()) else ""
    header = ["|".join(names) + end] if draw(st.booleans()) else []
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        record = dict(
            zip(
                SACCT_FIELDS,
                draw(sacct_lines().filter(lambda x: x.count("|") == 10)).split("|"),
                strict=True,
            )
        )
        record["State"] = draw(STATES)
        record["JobName"] = draw(TEXT)  # bars among its characters
        lines.append("|".join(record[name] for name in names) + end)
    return "\n".join(header + lines) + "\n"


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=sacct_files_with_state())
def test_sacct_with_state_and_parsable_bars_read_by_duckdb_equal_the_python_reader(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, text: str
) -> None:
    expected, got = both_ways(con, tmp_path, "slurm", "sacct", text.encode())
    assert got == expected


NCEM_NAMES = st.sampled_from(
    [
        "data_scan0000012345_00.data",
        "data_scan0000012345_7.data",
        "data_scan9999999999_00.data",
        "data_scan2147483647_00.data",
        "data_scan000001234_00.data",
        "data_scan0000012345_1234567890.data",
        "data_scan0000012345_00.data.bak",
        "data_scanx_00.data",
        "data_scan0000012345_00.DATA",
        "notes.txt",
        "",
        "data_scan0000012345_٣.data",
    ]
)
NERSC_NAMES = st.sampled_from(
    [
        "FOURD_231013_1645_00012_00345.h5",
        "FOURD_231013_1645_00012_00345_prc.h5",
        "FOURD_231013_1645_00012_00345_a|b.h5",
        "FOURD_231013_1645_0012_00345.h5",
        "FOURD_x.h5",
        "FOURD_231013_1645_00012_00345.h5.tmp",
        "log.txt",
    ]
)
MTIMES = st.sampled_from(
    [
        "1697215509",
        "1697215509.123456789",
        "1697215509.",
        "253402300799",
        "253402300800",
        "99999999999999",
        "2023-10-13 16:45:09.123456789 -0700",
        "2023-10-13 16:45:09 +0000",
        " 1697215509 ",
        "-1",
        "",
        "abc",
    ]
)


@st.composite
def listing_lines(draw: st.DrawFn, names: st.SearchStrategy[str]) -> str:
    kind = draw(st.sampled_from(["entry", "entry", "entry", "odd", "blank"]))
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t"]))
    if kind == "odd":
        return draw(TEXT)
    folder = draw(st.sampled_from(["/d/", "/a|b/", "", "/x y/", "rel/"]))
    return f"{folder}{draw(names)}|{draw(MTIMES)}"


@pytest.mark.parametrize(
    ("source", "names"), [("ncem_data_files", NCEM_NAMES), ("nersc_counted_files", NERSC_NAMES)]
)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_listing_read_by_duckdb_equals_the_python_reader(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    source: str,
    names: st.SearchStrategy[str],
    data: st.DataObject,
) -> None:
    lines = data.draw(st.lists(listing_lines(names), max_size=12))
    expected, got = both_ways(con, tmp_path, source, "stat", ("\n".join(lines) + "\n").encode())
    assert got == expected


def test_many_lines_keep_their_numbers(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """DuckDB reads big inputs in parallel; every line must still carry its own number."""
    lines = [
        f"/d/data_scan{n:010d}_00.data|{1_600_000_000 + n}" if n % 7 else "" for n in range(200_000)
    ]
    data = ("\n".join(lines) + "\n").encode()
    expected, got = both_ways(con, tmp_path, "ncem_data_files", "stat", data)
    assert got == expected
    assert len(got[0]) == len([line for line in lines if line])  # type: ignore[arg-type]


def test_long_lines_are_found_wherever_they_are() -> None:
    size = bulk.MAX_LINE
    assert not bulk.has_long_line(b"x" * (size - 1))
    assert bulk.has_long_line(b"x" * size)
    assert not bulk.has_long_line((b"y" * (size - 1) + b"\n") * 3)
    assert bulk.has_long_line(b"a\n" * size + b"z" * size + b"\n")
    assert bulk.has_long_line(b"a\n" * 7 + b"z" * size)


def test_plain_sends_what_duckdb_would_read_differently_to_python() -> None:
    assert bulk.plain(b"a|b\n")
    assert bulk.plain("é|1\n".encode())
    for data in (b"\xef\xbb\xbfa|b\n", b"a\r\nb\n", b"a\x00b\n", b"\xff|1\n"):
        assert not bulk.plain(data)


# ------------------------------------------------------------------ workers vs one process

OFFSET = "with an offset (like 2023-10-13T16:45:09+00:00)"
STATUS = '{{"time": "2023-10-13T16:45:{s:02d}+00:00", "last_scan_number": {n}, "progress": 1.0}}'


def status_tree(root: Path) -> None:
    """Receiver status files, some malformed, a link, a folder with a status file's name."""
    for n in range(40):
        name = f"day{n % 3}/4dstem_rec_status_{n % 4}_scan_{n}.json"
        body = STATUS.format(s=n % 60, n=n)
        if n % 9 == 4:
            body = "{not json"
        if n % 13 == 6:
            body = '{"time": "yesterday"}'
        write(root / name, body)
    # a name with a byte that is not UTF-8: kept in the warehouse as \xff
    write(root / "day2/4dstem_rec_status_3_scan_5\udcff.json", STATUS.format(s=5, n=5))
    outside = root.parent / "outside/4dstem_rec_status_1_scan_99.json"
    os.symlink(write(outside, STATUS.format(s=1, n=99)), root / outside.name)
    (root / "day1/4dstem_rec_status_2_scan_77.json").mkdir()


def everything(config: object) -> dict[str, list[tuple[object, ...]]]:
    return {
        "rows": query(
            config,  # type: ignore[arg-type]
            "select * exclude (_loaded_at) from raw.rec_status order by _source_file",
        ),
        "ledger": query(
            config,  # type: ignore[arg-type]
            "select path, size_bytes, sha256, rows, status, error, rejected, mtime_ns is null "
            "from raw.loads order by path",
        ),
        "rejects": query(
            config,  # type: ignore[arg-type]
            "select file_path, line_number, reason_kind, reason, raw_text "
            "from raw.rejected_records order by all",
        ),
    }


def test_worker_processes_load_what_one_process_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = []
    for parallel in (False, True):
        folder = tmp_path / ("parallel" if parallel else "serial")
        status_tree(folder / "in")
        config = make_config(folder, [("rec_status", "json", ["in/**/4dstem_rec_status_*.json"])])
        monkeypatch.setattr(loader_workers, "PARALLEL_MIN_FILES", 5 if parallel else 10**9)
        monkeypatch.setattr(loader_workers, "CHUNK_FILES", 7)
        summary = load(config)
        tally = summary.sources["rec_status"]
        assert (tally.files_new, tally.rejected) == (42, 8)
        result = everything(config)
        prefix = str(folder)
        outcomes.append(repr(result).replace(prefix, "<root>"))
        xff = "select count(*) from raw.loads where path like '%scan_5\\xff.json'"
        assert query(config, xff) == [(1,)]
    assert outcomes[0] == outcomes[1]


def test_workers_spool_beside_the_warehouse_and_a_killed_loads_spool_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status_tree(tmp_path / "in")
    config = make_config(tmp_path, [("rec_status", "json", ["in/**/4dstem_rec_status_*.json"])])
    root = spool_root(config.warehouse)
    # what a load killed mid-way left: its spool, rows no ledger entry accounts for
    left = root / "rec_status-killed"
    left.mkdir(parents=True)
    (left / "000000000.json").write_text('[["stale"]]', encoding="utf-8")
    used: list[Path] = []
    folder_of = RawWriter.spool_folder

    def recording(writer: RawWriter) -> str:
        folder = folder_of(writer)
        used.append(Path(folder))
        return folder

    monkeypatch.setattr(RawWriter, "spool_folder", recording)
    monkeypatch.setattr(loader_workers, "PARALLEL_MIN_FILES", 5)
    monkeypatch.setattr(loader_workers, "CHUNK_FILES", 7)
    assert load(config).sources["rec_status"].files_new == 42
    assert used and {folder.parent for folder in used} == {root}
    assert not root.exists()
    assert query(config, "select count(*) from raw.rec_status where scan_number = 99") == [(1,)]


def test_strict_workers_stop_at_the_first_bad_file_in_path_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status_tree(tmp_path / "in")
    config = make_config(tmp_path, [("rec_status", "json", ["in/**/4dstem_rec_status_*.json"])])
    monkeypatch.setattr(loader_workers, "CHUNK_FILES", 7)
    messages = []
    for least in (10**9, 5):  # one process, then workers
        monkeypatch.setattr(loader_workers, "PARALLEL_MIN_FILES", least)
        with pytest.raises(LoadError) as caught:
            load(config, strict=True)
        messages.append(str(caught.value))
        assert not config.warehouse.exists()
    first_bad = tmp_path / "in/day0/4dstem_rec_status_2_scan_6.json"
    assert messages == [f"{first_bad}:1: time 'yesterday' is not ISO 8601 {OFFSET}"] * 2


def test_strict_stops_at_a_bad_file_reached_through_a_link(tmp_path: Path) -> None:
    """A glob that is not `<folder>/**/<name>` leaves links to the main process; a bad target
    still stops a strict load."""
    target = write(tmp_path / "elsewhere/4dstem_rec_status_0_scan_1.json", b"[1]")
    (tmp_path / "in").mkdir()
    os.symlink(target, tmp_path / "in/4dstem_rec_status_0_scan_1.json")
    config = make_config(tmp_path, [("rec_status", "json", ["in/4dstem_rec_status_*.json"])])
    with pytest.raises(LoadError) as caught:
        load(config, strict=True)
    assert (caught.value.path, caught.value.message) == (
        str(target),
        "JSON is an array, not an object",
    )


# ------------------------------------------------------------------ what is read again


def test_the_ledger_stat_decides_what_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status_tree(tmp_path / "in")
    config = make_config(tmp_path, [("rec_status", "json", ["in/**/4dstem_rec_status_*.json"])])
    load(config)
    reads: list[str] = []
    real_read = reading.read_bytes

    def counted(path: str) -> tuple[bytes, int]:
        reads.append(path)
        return real_read(path)

    monkeypatch.setattr(reading, "read_bytes", counted)
    load(config)
    assert reads == []  # nothing new: every file stat'ed, none opened

    touched = tmp_path / "in/day1/4dstem_rec_status_1_scan_1.json"
    os.utime(touched, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    summary = load(config)
    assert reads == [str(touched)] and summary.sources["rec_status"].files_unchanged == 42
    key = touched.relative_to(tmp_path)  # the ledger names it relative to the config's folder
    assert query(config, f"select max(mtime_ns) from raw.loads where path = '{key}'") == [
        (1_700_000_000 * 10**9,)
    ]
    reads.clear()
    load(config)
    assert reads == []  # its new mtime is in the ledger now

    # same size, same mtime, other bytes: only a re-hash can tell
    before = touched.stat()
    touched.write_bytes(touched.read_bytes().replace(b"1.0", b"0.5"))
    os.utime(touched, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert load(config).sources["rec_status"].files_replaced == 0
    summary = load(config, rehash=True)
    assert summary.sources["rec_status"].files_replaced == 1
    assert query(config, f"select progress from raw.rec_status where _source_file = '{key}'") == [
        ("0.5",)
    ]


# ------------------------------------------------------------------ walks


def test_a_walk_split_across_workers_lists_what_one_walk_lists(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    for name in ("b/x.data", "b/y/z.data", "a/1.data", "c/2.data", "top.data", "a b/3.data"):
        write(root / name, b"x")
    os.symlink(root / "a", root / "link-to-a")  # a folder link: listed by neither
    os.symlink(root / "gone", root / "b" / "dangling")  # skipped by both
    os.symlink(root / "c" / "2.data", root / "c" / "link.data")  # listed with its target's mtime
    only_child = tmp_path / "only"
    write(only_child / "sub" / "p" / "q.data", b"x")
    write(only_child / "sub" / "r" / "s.data", b"x")
    for folder in (root, only_child, root / "b"):
        assert walks.walk_tree(folder) == walk_listing(folder)
    assert walk_listing(root).count(b"\n") == 7

    for loop in (root / "c" / "loop", root / "loop"):  # in a worker's part, in the top folder
        os.symlink(loop, loop)  # refused by a line of its own, the rest listed
        listing = walk_listing(root)
        assert walks.walk_tree(root) == listing
        assert f"{loop}\tcannot stat: Too many levels of symbolic links\n".encode() in listing
        assert listing.count(b"\n") == 8
        loop.unlink()
