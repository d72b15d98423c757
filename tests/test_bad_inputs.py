"""A corpus of bad and odd inputs for every source and format, with the exact outcome of each.

The cases are data: tests/bad_inputs/<source>.yaml, one file per source (the format of a case is
in tests/bad_inputs/README.md); a case's test id is its `id`. Every case writes its own files
under `tmp_path/in`, loads them (non-strict) into a fresh warehouse and checks, exactly: the raw
rows that loaded (record number and key values), the rejected records (line and reason), the
ledger, and that loading the same files again adds nothing. The same files are then loaded with
`strict=True` in a fresh folder: the first reject must raise `LoadError` at that line with that
message (and leave no warehouse behind), and a valid oddity must load the same rows there too.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from loaders import Config, ConfigError, LoadError, load, load_config
from loaders.pipeline import SourceTally
from loaders.sources import KINDS
from tests.helpers import (
    JOB,
    PENDING,
    SACCT_FIELDS,
    SACCT_HEADER,
    Row,
    make_config,
    query,
    toml_text,
    write,
)

CORPUS = Path(__file__).resolve().parent / "bad_inputs"

# --------------------------------------------------------------------------- helpers

TABLES = (*KINDS, "loads", "rejected_records")


def relative(value: object, root: Path) -> object:
    """A path under `root` as text relative to it (`root` itself is "."); other values as is.
    The warehouse names files in the config's folder (root's parent) relative to it."""
    if not isinstance(value, str):
        return value
    for top in (str(root), root.name):
        if value == top:
            return "."
        if value.startswith(top + "/"):
            return value.removeprefix(top + "/")
    return value


def unchanged_tally(files: int) -> SourceTally:
    """What a second load of the same `files` inputs reports."""
    return SourceTally(files_unchanged=files)


def can_read(path: Path) -> bool:
    """True when this process can open `path` (root ignores a mode of 000)."""
    try:
        with path.open("rb"):
            return True
    except PermissionError:
        return False


def can_list(path: Path) -> bool:
    """True when this process can list the folder `path`."""
    try:
        os.listdir(path)
    except PermissionError:
        return False
    return True


# --------------------------------------------------------------------------- sample records

H = SACCT_HEADER
J, P = "|".join(JOB), "|".join(PENDING)
HUGE = "123456789012345678901234567890"  # 30 digits


def job(**changes: str) -> str:
    """The JOB record as a sacct line with some fields changed (keys are sacct field names)."""
    fields = dict(zip(SACCT_FIELDS, JOB, strict=True))
    fields.update(changes)
    return "|".join(fields.values())


def text(*lines: str, newline: str = "\n", end: bool = True) -> bytes:
    """Lines joined by `newline` (ended by one unless `end` is false), as UTF-8."""
    return (newline.join(lines) + (newline if end else "")).encode()


DISTILLER_HEADER = "id,slurm_id,elapsed"
NCEM_1 = "/d/data_scan0000000001_00.data"
MTIME_NS = 1697470245_000000000
JOBS = "jobs.txt"
SCANS = "512_256.csv"
LISTING = "listing.txt"
NERSC_CSV = "scan_times_1.csv"
STEMPY = "save_times.json"

# the value columns a case compares (after _source_file and _record_number)
KEYS: dict[str, tuple[str, ...]] = {
    "slurm": ("job_name", "job_id", "elapsed", "submit_time"),
    "distiller_db": ("id", "slurm_id", "elapsed", "scan_width", "scan_height"),
    "rec_status": ("scan_number", "receiver", "time", "last_scan_number", "progress"),
    "ncem_data_files": ("file_path", "scan_number", "file_part", "mtime"),
    "nersc_counted_files": ("distiller_id", "scan_number", "acquired_label", "mtime"),
    "stempy_log": ("scan_number", "run_index", "count_time", "save_time"),
}


# --------------------------------------------------------------------------- dir trees


def set_mtimes(root: Path) -> None:
    """Give every regular file under `root` the same mtime (symlinks untouched)."""
    for folder, _, names in os.walk(root):
        for name in names:
            full = Path(folder, name)
            if not full.is_symlink():
                os.utime(full, ns=(MTIME_NS, MTIME_NS))


def ncem_tree_with_symlink_loop(root: Path) -> None:
    """in/{README.txt, data_scan…1_00.data, a/b/data_scan…2_01.data, a/b/loop -> in/a}."""
    write(root / "README.txt", b"x")
    write(root / "data_scan0000000001_00.data", b"x")
    write(root / "a" / "b" / "data_scan0000000002_01.data", b"x")
    os.symlink(root / "a", root / "a" / "b" / "loop")
    set_mtimes(root)


def nersc_tree_with_symlink_loop(root: Path) -> None:
    """in/2023/{FOURD_….h5, x.log, back -> in}: the loop points at the walked root itself."""
    write(root / "2023" / "FOURD_231016_0830_01234_00042_centered.h5", b"h5")
    write(root / "2023" / "x.log", b"log")
    os.symlink(root, root / "2023" / "back")
    set_mtimes(root)


def ncem_tree_with_bad_name_and_dangling_link(root: Path) -> None:
    """in/{data_scanXYZ_00.data, data_scan…1_00.data, data_scan…3_00.data -> nowhere}."""
    write(root / "data_scanXYZ_00.data", b"x")
    write(root / "data_scan0000000001_00.data", b"x")
    os.symlink(root / "nowhere", root / "data_scan0000000003_00.data")
    set_mtimes(root)


def empty_folder(root: Path) -> None:
    """in/, with nothing in it."""
    root.mkdir(parents=True, exist_ok=True)


def folder_only(root: Path) -> None:
    """in/sub/jobs.txt: `in/*` matches only a folder, which a file input does not take."""
    write(root / "sub" / "jobs.txt", text(H, J))


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    """One bad or odd input and exactly what loading it gives.

    rows: (input, record number, *KEYS[source]) of every row that loads;
    rejects: (input, line, reason) of every rejected record, in load order;
    fatal: the rejects come from a file that could not be read at all (ledger `error` set);
    texts: the raw_text of the rejects, when checked;
    inputs: the ledger's paths (default: the files written);
    a strict load fails with the first reject's (path, line, reason) as its LoadError.
    Paths are relative to the `in` folder ("." is the folder itself).
    """

    id: str
    source: str
    fmt: str
    files: dict[str, bytes]
    rows: tuple[Row, ...] = ()
    rejects: tuple[tuple[str, int | None, str], ...] = ()
    skipped: int = 0
    fatal: bool = False
    texts: tuple[str, ...] | None = None
    setup: Callable[[Path], None] | None = None
    paths: tuple[str, ...] = ("in/*",)
    inputs: tuple[str, ...] | None = None
    unmatched: tuple[str, ...] = ()

    def ledger_paths(self) -> tuple[str, ...]:
        return tuple(sorted(self.files)) if self.inputs is None else self.inputs

    def strict_error(self) -> tuple[str, int | None, str] | None:
        return self.rejects[0] if self.rejects else None


#: the folders a case's `setup` may build (by function name)
SETUPS: dict[str, Callable[[Path], None]] = {
    setup.__name__: setup
    for setup in (
        ncem_tree_with_symlink_loop,
        nersc_tree_with_symlink_loop,
        ncem_tree_with_bad_name_and_dangling_link,
        empty_folder,
        folder_only,
    )
}
NEWLINES = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}
BOM = b"\xef\xbb\xbf"


def file_bytes(spec: str | dict[str, Any]) -> bytes:
    """A file's bytes from its spec: a string is the file's text, exactly, as UTF-8; a mapping
    has `text` and optionally `newline` (crlf: every \\n written as \\r\\n), `bom` (a UTF-8
    byte order mark first) and `byte_escapes` (each \\xNN in the text is the byte NN, for bytes
    that are not UTF-8)."""
    if isinstance(spec, str):
        return spec.encode()
    unknown = set(spec) - {"text", "newline", "bom", "byte_escapes"}
    assert not unknown, f"unknown file keys {sorted(unknown)}"
    body = spec["text"].replace("\n", NEWLINES[spec.get("newline", "lf")]).encode()
    if spec.get("byte_escapes", False):
        body = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m[1], 16)]), body)
    return (BOM if spec.get("bom", False) else b"") + body


CASE_KEYS = {
    "id",
    "note",
    "format",
    "files",
    "setup",
    "paths",
    "inputs",
    "unmatched",
    "rows",
    "rejects",
    "skipped",
    "fatal",
    "texts",
}


def read_case(source: str, doc: dict[str, Any]) -> Case:
    """One case of a corpus file (`note` is for the reader only)."""
    unknown = set(doc) - CASE_KEYS
    assert not unknown, f"{doc.get('id')}: unknown keys {sorted(unknown)}"
    texts = doc.get("texts")
    inputs = doc.get("inputs")
    return Case(
        id=doc["id"],
        source=source,
        fmt=doc["format"],
        files={name: file_bytes(spec) for name, spec in doc.get("files", {}).items()},
        rows=tuple(tuple(row) for row in doc.get("rows", ())),
        rejects=tuple((file, line, reason) for file, line, reason in doc.get("rejects", ())),
        skipped=doc.get("skipped", 0),
        fatal=doc.get("fatal", False),
        texts=None if texts is None else tuple(texts),
        setup=SETUPS[doc["setup"]] if "setup" in doc else None,
        paths=tuple(doc.get("paths", ("in/*",))),
        inputs=None if inputs is None else tuple(inputs),
        unmatched=tuple(doc.get("unmatched", ())),
    )


def read_corpus(folder: Path = CORPUS) -> list[Case]:
    """Every case of every tests/bad_inputs/<source>.yaml, file by file."""
    cases = []
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["source"] == path.stem, f"{path}: source {doc['source']!r}"
        cases += [read_case(doc["source"], case) for case in doc["cases"]]
    return cases


CASES = read_corpus()


def test_the_corpus_is_big_and_covers_every_source_and_format() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 60
    assert {(case.source, case.fmt) for case in CASES} == {
        (source, fmt) for source, kind in KINDS.items() for fmt in kind.readers
    }


# --------------------------------------------------------------------------- running a case


def place(case: Case, folder: Path) -> Path:
    """Write the case's inputs under folder/in; return that folder, resolved."""
    root = folder / "in"
    for name, content in case.files.items():
        write(root / name, content)
    if case.setup is not None:
        case.setup(root)
    return root.resolve()


@dataclass(frozen=True)
class Outcome:
    """What a load left in the warehouse, read over one connection; paths relative to `root`."""

    rows: list[Row]
    rejects: list[Row]
    texts: list[str]
    reject_meta: list[Row]
    ledger: list[Row]
    skipped: int
    state: dict[str, list[Row]]


def outcome(config: Config, source: str, root: Path, *, state: bool = True) -> Outcome:
    """Read the raw rows (input, record number, *KEYS[source]), the rejects, the ledger and
    (unless `state` is false) the full contents of every table."""
    order = "order by file_path, line_number nulls first"
    with closing(duckdb.connect(str(config.warehouse), read_only=True)) as con:

        def fetch(sql: str) -> list[Row]:
            return [tuple(relative(v, root) for v in row) for row in con.execute(sql).fetchall()]

        columns = ", ".join(KEYS[source])
        return Outcome(
            rows=sorted(
                fetch(f"select _source_file, _record_number, {columns} from raw.{source}"),
                key=repr,
            ),
            rejects=fetch(
                f"select file_path, line_number, reason from raw.rejected_records {order}"
            ),
            texts=[text for (text,) in fetch(f"select raw_text from raw.rejected_records {order}")],
            reject_meta=fetch("select distinct source, format, load_id from raw.rejected_records"),
            ledger=sorted(fetch("select path, rows, rejected, status, error from raw.loads")),
            skipped=fetch("select coalesce(sum(skipped), 0) from raw.loads")[0][0],
            state={
                table: con.execute(f"select * from raw.{table} order by all").fetchall()
                for table in (TABLES if state else ())
            },
        )


def expected_ledger(case: Case) -> list[Row]:
    """(path, rows, rejected, status, error) the ledger should hold per input."""
    out = []
    for path in case.ledger_paths():
        reasons = [reason for file, _, reason in case.rejects if file == path]
        error = reasons[0] if case.fatal and reasons else None
        count = sum(1 for row in case.rows if row[0] == path)
        out.append((path, count, len(reasons), "loaded", error))
    return out


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(tmp_path: Path, case: Case) -> None:
    # --- non-strict: quarantine the bad records, load the rest
    root = place(case, tmp_path / "quarantine")
    config = make_config(tmp_path / "quarantine", [(case.source, case.fmt, case.paths)])
    summary = load(config)
    assert summary.unmatched == [f"{case.source}: {glob}" for glob in case.unmatched]
    tally = summary.sources[case.source]
    assert (tally.files_new, tally.rows, tally.skipped, tally.rejected) == (
        len(case.ledger_paths()),
        len(case.rows),
        case.skipped,
        len(case.rejects),
    )
    first = outcome(config, case.source, root)
    assert first.rows == sorted(case.rows, key=repr)
    assert first.rejects == list(case.rejects)
    if case.texts is not None:
        assert first.texts == list(case.texts)
    assert first.reject_meta == ([(case.source, case.fmt, 1)] if case.rejects else [])
    assert first.ledger == expected_ledger(case)
    assert first.skipped == case.skipped

    # --- loading the same files again adds nothing
    again = load(config)
    assert again.sources[case.source] == unchanged_tally(len(case.ledger_paths()))
    assert outcome(config, case.source, root).state == first.state

    # --- strict, in a fresh folder: the first reject fails the load, a valid oddity loads
    root = place(case, tmp_path / "strict")
    config = make_config(tmp_path / "strict", [(case.source, case.fmt, case.paths)])
    error = case.strict_error()
    if error is None:
        summary = load(config, strict=True)
        assert summary.sources[case.source].rows == len(case.rows)
        strict = outcome(config, case.source, root, state=False)
        assert (strict.rows, strict.rejects) == (sorted(case.rows, key=repr), [])
        return
    with pytest.raises(LoadError) as caught:
        load(config, strict=True)
    assert (relative(caught.value.path, root), caught.value.line, caught.value.message) == error
    assert list(config.warehouse.parent.glob("warehouse.duckdb*")) == []


# --------------------------------------------------------------------------- small cases


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "", "america/los angeles", "UTC+1", "../etc/passwd"]
)
def test_unknown_zone_in_the_config_is_a_config_error(tmp_path: Path, zone: str) -> None:
    path = write(tmp_path / "turnaround.toml", toml_text([], timezone=zone))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (caught.value.path, caught.value.message) == (str(path), f"unknown timezone {zone!r}")


def test_unreadable_file(tmp_path: Path) -> None:
    """chmod 000: a process that may still read it (root) loads it; one that may not gets one
    rejected record for it (strict: a LoadError) and loads the other file."""
    write(tmp_path / "in" / "a.txt", text(H, J))
    locked = write(tmp_path / "in" / "b.txt", text(H, P))
    locked.chmod(0)
    config = make_config(tmp_path, [("slurm", "sacct", ["in/*"])])
    readable = can_read(locked)
    try:
        if readable:
            summary = load(config, strict=True)
            assert summary.sources["slurm"].rows == 2
            # files in the config's folder are named relative to it
            assert query(config, "select _source_file, _record_number, job_id from raw.slurm") == [
                ("in/a.txt", 2, "9001"),
                ("in/b.txt", 2, "9002"),
            ]
            assert query(config, "select count(*) from raw.rejected_records") == [(0,)]
            return
        with pytest.raises(LoadError) as caught:
            load(config, strict=True)
        assert (caught.value.path, caught.value.line, caught.value.message) == (
            str(locked),
            None,
            "cannot read: Permission denied",
        )
        assert not config.warehouse.exists()
        summary = load(config)
        assert summary.sources["slurm"].rows == 1
        assert query(config, "select _source_file, job_id from raw.slurm") == [("in/a.txt", "9001")]
        assert query(config, "select file_path, line_number, reason from raw.rejected_records") == [
            ("in/b.txt", None, "cannot read: Permission denied")
        ]
    finally:
        locked.chmod(0o644)


def test_unreadable_folder_in_a_dir_walk(tmp_path: Path) -> None:
    """A folder without read permission: walked when it can be listed (root), otherwise the
    walk must say so (strict: a LoadError naming the folder) instead of dropping its files."""
    root = tmp_path / "in"
    top = write(root / "data_scan0000000001_00.data", b"x")
    inner = write(root / "sub" / "data_scan0000000002_00.data", b"x")
    set_mtimes(root)
    locked = (root / "sub").resolve()
    locked.chmod(0)
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["in"])])
    try:
        if can_list(locked):
            load(config, strict=True)
            assert query(config, "select file_path, _record_number from raw.ncem_data_files") == [
                (str(top), 1),
                (str(inner), 2),
            ]
            return
        with pytest.raises(LoadError) as caught:
            load(config, strict=True)
        assert caught.value.path == str(locked)
        assert "Permission denied" in caught.value.message
    finally:
        locked.chmod(0o755)


def test_symlink_to_itself_in_a_dir_walk_is_one_rejected_entry(tmp_path: Path) -> None:
    """A link to itself cannot be stat'ed (ELOOP): strict stops naming it; non-strict rejects
    that entry alone, naming it, and loads the rest of the folder and the other inputs."""
    root = tmp_path / "in"
    good = write(root / "data_scan0000000001_00.data", b"x")
    loop = root / "data_scan0000000002_00.data"
    os.symlink(loop, loop)
    other = write(tmp_path / "jobs.txt", text(H, J))
    inputs = [("ncem_data_files", "dir", ["in"]), ("slurm", "sacct", ["jobs.txt"])]
    config = make_config(tmp_path, inputs)
    message = f"'{loop}': cannot stat: Too many levels of symbolic links"
    with pytest.raises(LoadError) as caught:
        load(config, strict=True)
    assert (caught.value.path, caught.value.line, caught.value.message) == (
        str(root.resolve()),
        2,
        message,
    )
    summary = load(config)
    assert summary.sources["ncem_data_files"].rejected == 1
    assert query(config, "select _source_file, job_id from raw.slurm") == [
        (other.name, "9001")  # relative to the config's folder
    ]
    assert query(config, "select file_path from raw.ncem_data_files") == [(str(good),)]
    assert query(
        config, "select file_path, line_number, reason, raw_text from raw.rejected_records"
    ) == [("in", 2, message, str(loop))]


def test_stempy_duplicate_scan_key_loses_no_run(tmp_path: Path) -> None:
    """Two appended entries for one scan: each run loads or is rejected, none vanishes."""
    write(
        tmp_path / "in" / STEMPY,
        '{"12": [{"count_time": 1, "total_time": 2, "save_time": 3}],\n'
        ' "12": [{"count_time": 4, "total_time": 5, "save_time": 6}]}',
    )
    config = make_config(tmp_path, [("stempy_log", "json", ["in/*"])])
    summary = load(config)
    tally = summary.sources["stempy_log"]
    assert (tally.rows, tally.rejected) == (1, 1)
    # the first entry loads; the repeated one is set aside with its runs, on its own line
    assert query(config, "select count_time from raw.stempy_log") == [("1",)]
    assert query(config, "select line_number, reason, raw_text from raw.rejected_records") == [
        (
            2,
            "scan '12' appears again in the file",
            '{"12": [{"count_time": 4, "total_time": 5, "save_time": 6}]}',
        )
    ]


def test_stempy_reject_text_keeps_the_run_as_written(tmp_path: Path) -> None:
    """raw_text of a rejected run is the run as read: a number stays a number, so the text
    shows which value was the string."""
    run = {"count_time": "1.5", "total_time": 2, "save_time": 0.5}
    write(tmp_path / "in" / STEMPY, json.dumps({"14": [run]}))
    config = make_config(tmp_path, [("stempy_log", "json", ["in/*"])])
    load(config)
    [(raw_text,)] = query(config, "select raw_text from raw.rejected_records")
    assert json.loads(raw_text) == run


@pytest.mark.parametrize(
    ("source", "fmt", "name", "content", "column"),
    [
        ("distiller_db", "csv", SCANS, text(DISTILLER_HEADER, f"{HUGE},7,"), "id"),
        ("slurm", "sacct", JOBS, text(H, job(ReqNodes=HUGE)), "nullif(req_nodes, '')"),
        (
            "nersc_counted_files",
            "csv",
            NERSC_CSV,
            text("distiller_id,scan_number,datetime", f"1,{HUGE},2023-10-16 08:30:45"),
            "scan_number",
        ),
        ("distiller_db", "csv", SCANS, text(DISTILLER_HEADER, "\uff11\uff12,7,"), "id"),
        (
            "rec_status",
            "json",
            f"4dstem_rec_status_0_scan_{HUGE}.json",
            b'{"time": "2023-10-16T08:30:45Z"}',
            "scan_number",
        ),
        (
            "ncem_data_files",
            "stat",
            LISTING,
            text("/d/data_scan9999999999_00.data|1697470245"),
            "scan_number",
        ),
        (
            "ncem_data_files",
            "stat",
            LISTING,
            text(f"/d/data_scan0000000001_{HUGE}.data|1697470245"),
            "file_part",
        ),
    ],
    ids=[
        "distiller-id",
        "slurm-req-nodes",
        "nersc-scan-number",
        "distiller-fullwidth-digits",
        "rec-status-scan-in-file-name",
        "ncem-10-digit-scan-over-int32",
        "ncem-30-digit-file-part",
    ],
)
def test_an_accepted_whole_number_fits_the_staging_integer_cast(
    tmp_path: Path, source: str, fmt: str, name: str, content: bytes, column: str
) -> None:
    """loaders/checks.py promises that a value staging will cast does parse; staging casts these to
    `integer` (dbt.type_int() on DuckDB), so a whole number that does not fit must be
    rejected by the load, not fail a dbt model later."""
    write(tmp_path / "in" / name, content)
    config = make_config(tmp_path, [(source, fmt, ["in/*"])])
    load(config)
    assert query(
        config,
        f"select count(*) from raw.{source} "
        f"where {column} is not null and try_cast({column} as integer) is null",
    ) == [(0,)]


@pytest.mark.parametrize("mtime", [HUGE, "99999999999999"], ids=["30-digits", "14-digits"])
def test_an_accepted_epoch_mtime_is_a_time_staging_can_hold(tmp_path: Path, mtime: str) -> None:
    """Staging turns epoch seconds into a timestamp (`to_timestamp`); an mtime that cannot be
    one must be rejected by the load, not fail stg_ncem__data_files later."""
    write(tmp_path / "in" / LISTING, text(f"{NCEM_1}|{mtime}"))
    config = make_config(tmp_path, [("ncem_data_files", "stat", ["in/*"])])
    load(config)
    assert query(
        config,
        "select count(*) from raw.ncem_data_files "
        "where try(to_timestamp(cast(mtime as double))) is null",
    ) == [(0,)]
