"""A corpus of bad and odd inputs for every source and format, with the exact outcome of each.

Every case writes its own files under `tmp_path/in`, loads them (non-strict) into a fresh
warehouse and checks, exactly: the raw rows that loaded (record number and key values), the
rejected records (line and reason), the ledger, and that loading the same files again adds
nothing. The same files are then loaded with `strict=True` in a fresh folder: the first reject
must raise `LoadError` at that line with that message (and leave no warehouse behind), and a
valid oddity must load the same rows there too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from loaders import Config, ConfigError, LoadError, load, load_config
from loaders.pipeline import SourceTally
from loaders.sources import KINDS
from tests.helpers import Row, make_config, query, toml_text, write

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

SACCT_FIELDS = (
    "JobName",
    "JobID",
    "Timelimit",
    "Elapsed",
    "Submit",
    "Start",
    "End",
    "ReqNodes",
    "QOS",
    "User",
    "ExitCode",
)
H = "|".join(SACCT_FIELDS)
JOB = (
    "count",
    "9001",
    "00:30:00",
    "00:01:02",
    "2023-03-12T01:59:30",
    "2023-03-12T02:00:00",
    "2023-03-12T02:01:02",
    "1",
    "realtime",
    "alice",
    "0:0",
)
PENDING = (
    "zählung",
    "9002",
    "UNLIMITED",
    "00:00:00",
    "2023-03-12T03:00:00",
    "Unknown",
    "Unknown",
    "2",
    "debug",
    "bob",
    "0:0",
)
RUNNING = (
    "count",
    "9003",
    "Partition_Limit",
    "1-02:03:04",
    "2023-03-10T00:00:00",
    "2023-03-10T00:00:01",
    "None",
    "",
    "regular",
    "alice",
    "1:0",
)
J, P, R = "|".join(JOB), "|".join(PENDING), "|".join(RUNNING)
# JobName and QOS swapped: a header in another field order and a record written in it
SWAPPED = (8, 1, 2, 3, 4, 5, 6, 7, 0, 9, 10)
H_SWAPPED = "|".join(SACCT_FIELDS[i] for i in SWAPPED)
P_SWAPPED = "|".join(PENDING[i] for i in SWAPPED)
BOM = b"\xef\xbb\xbf"
HUGE = "123456789012345678901234567890"  # 30 digits


def job(**changes: str) -> str:
    """The JOB record as a sacct line with some fields changed (keys are sacct field names)."""
    fields = dict(zip(SACCT_FIELDS, JOB, strict=True))
    fields.update(changes)
    return "|".join(fields.values())


def text(*lines: str, newline: str = "\n", end: bool = True) -> bytes:
    """Lines joined by `newline` (ended by one unless `end` is false), as UTF-8."""
    return (newline.join(lines) + (newline if end else "")).encode()


CSV_HEADER = "Job Name,Job ID,Timelimit,Elapsed,Submit,Start,End,ReqNodes,QOS,User,ExitCode"
CSV_FIELDS = CSV_HEADER.split(",")
CSV_JOB = "count,9001,00:30:00,00:01:02,2023-03-12T01:59:30,2023-03-12T02:00:00,2023-03-12T02:01:02,1,realtime,alice,0:0"  # noqa: E501
CSV_PENDING = "zählung,9002,UNLIMITED,00:00:00,2023-03-12T03:00:00,Unknown,Unknown,2,debug,bob,0:0"
WIDE_HEADER = "scan_number,time0,time1,time2,time3"
WIDE_100 = "100,2023-10-16T08:30:45Z,2023-10-16T08:30:46Z,2023-10-16T08:30:47Z,2023-10-16T08:30:48Z"
DISTILLER_HEADER = "id,slurm_id,elapsed"
NCEM_1 = "/d/data_scan0000000001_00.data"
NCEM_2 = "/d/data_scan0000000002_01.data"
FOURD = "/p/FOURD_231016_0830_01234_00042.h5"
STEMPY_RUN = '{"count_time": 1.5, "total_time": 2.5, "save_time": 0.5}'

# the exact reasons the readers and loaders/values.py give
NOT_UTF8 = "bytes that are not UTF-8"
NOT_AWARE = "time {!r} is not ISO 8601 with an offset (like 2023-10-13T16:45:09+00:00)"
NOT_MTIME = "mtime {!r} is neither epoch seconds nor 'YYYY-MM-DD HH:MM:SS[.fraction] +HHMM'"
NOT_SLURM_TIME = "time {!r} is not YYYY-MM-DDTHH:MM:SS, Unknown or None"
NCEM_NAME = "file name is not data_scan<scan, 10 digits>_<part>.data"
NERSC_NAME = "file name is not FOURD_<yymmdd>_<hhmm>_<distiller id, 5>_<scan, 5>[_*].h5"
REC_NAME = "file name is not 4dstem_rec_status_<receiver 0-3>_scan_<scan>.json"
DISTILLER_NAME = "file name does not give the scan size as <W>_<H>.csv"
MTIME_NS = 1697470245_000000000
MTIME = "1697470245.000000000"

# the value columns a case compares (after _source_file and _record_number)
KEYS: dict[str, tuple[str, ...]] = {
    "slurm": ("job_name", "job_id", "elapsed", "submit_time"),
    "distiller_db": ("id", "slurm_id", "elapsed", "scan_width", "scan_height"),
    "rec_status": ("scan_number", "receiver", "time", "last_scan_number", "progress"),
    "ncem_data_files": ("file_path", "scan_number", "file_part", "mtime"),
    "nersc_counted_files": ("distiller_id", "scan_number", "acquired_label", "mtime"),
    "stempy_log": ("scan_number", "run_index", "count_time", "save_time"),
}


def slurm_key(record: Sequence[str]) -> tuple[str, ...]:
    """The KEYS["slurm"] values of a record in sacct field order."""
    return (record[0], record[1], record[3], record[4])


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


JOBS = "jobs.txt"
JOBS_CSV = "jobs.csv"
SCANS = "512_256.csv"
REC = "4dstem_rec_status_1_scan_9.json"
WIDE = "wide.csv"
LISTING = "listing.txt"
NCEM_CSV = "write_times.csv"
NERSC_CSV = "scan_times_1.csv"
STEMPY = "save_times.json"

SLURM_CASES = [
    Case("sacct-empty-file", "slurm", "sacct", {JOBS: b""}),
    Case("sacct-header-only", "slurm", "sacct", {JOBS: text(H)}),
    Case("sacct-header-only-no-newline", "slurm", "sacct", {JOBS: text(H, end=False)}),
    Case("sacct-blank-lines-only", "slurm", "sacct", {JOBS: b"\n  \n\t\n\r\n"}),
    Case(
        "sacct-truncated-last-line",
        "slurm",
        "sacct",
        {JOBS: text(H, J, P, "count|9004|00:30", end=False)},
        rows=((JOBS, 2, *slurm_key(JOB)), (JOBS, 3, *slurm_key(PENDING))),
        rejects=((JOBS, 4, "expected 11 fields, found 3"),),
        texts=("count|9004|00:30",),
    ),
    Case(
        "sacct-crlf",
        "slurm",
        "sacct",
        {JOBS: text(H, J, P, newline="\r\n")},
        rows=((JOBS, 2, *slurm_key(JOB)), (JOBS, 3, *slurm_key(PENDING))),
    ),
    Case(
        "sacct-bom-and-header",
        "slurm",
        "sacct",
        {JOBS: BOM + text(H, J)},
        rows=((JOBS, 2, *slurm_key(JOB)),),
    ),
    Case(
        "sacct-bom-without-header",
        "slurm",
        "sacct",
        {JOBS: BOM + text(J, P)},
        rows=((JOBS, 1, *slurm_key(JOB)), (JOBS, 2, *slurm_key(PENDING))),
    ),
    Case(
        "sacct-crlf-bom-utf8-names",
        "slurm",
        "sacct",
        {JOBS: BOM + text(H, P, job(JobName="计数-ü", JobID="9005"), newline="\r\n")},
        rows=((JOBS, 2, *slurm_key(PENDING)), (JOBS, 3, "计数-ü", "9005", "00:01:02", JOB[4])),
    ),
    Case(
        "sacct-latin1-byte-mid-file",
        "slurm",
        "sacct",
        {JOBS: text(H, J) + job(JobName="caf\xe9").encode("latin-1") + b"\n" + text(P)},
        rows=((JOBS, 2, *slurm_key(JOB)), (JOBS, 4, *slurm_key(PENDING))),
        rejects=((JOBS, 3, NOT_UTF8),),
        texts=(job(JobName="caf\\xe9"),),
    ),
    Case(
        # sacct does not escape its delimiter: the fields around JobName are the name
        "sacct-pipe-inside-job-name",
        "slurm",
        "sacct",
        {JOBS: text(H, J, job(JobName="a|b||c", JobID="9006"), P)},
        rows=(
            (JOBS, 2, *slurm_key(JOB)),
            (JOBS, 3, "a|b||c", "9006", JOB[3], JOB[4]),
            (JOBS, 4, *slurm_key(PENDING)),
        ),
    ),
    Case(
        # extra fields that do not read as a name with bars: the extra fields are the error
        "sacct-extra-fields",
        "slurm",
        "sacct",
        {JOBS: text(H, J + "|x|y", P)},
        rows=((JOBS, 3, *slurm_key(PENDING)),),
        rejects=((JOBS, 2, "expected 11 fields, found 13"),),
    ),
    Case(
        "sacct-missing-fields-no-header",
        "slurm",
        "sacct",
        {JOBS: text(J, "|".join(PENDING[:9]), R)},
        rows=((JOBS, 1, *slurm_key(JOB)), (JOBS, 3, *slurm_key(RUNNING))),
        rejects=((JOBS, 2, "expected 11 fields, found 9"),),
    ),
    Case(
        "sacct-all-fields-empty",
        "slurm",
        "sacct",
        {JOBS: text(H, "|" * 10, J)},
        rows=((JOBS, 3, *slurm_key(JOB)),),
        rejects=((JOBS, 2, "empty JobID"),),
    ),
    Case(
        "sacct-feb-30",
        "slurm",
        "sacct",
        {JOBS: text(H, J, job(JobID="9007", Submit="2023-02-30T10:00:00"))},
        rows=((JOBS, 2, *slurm_key(JOB)),),
        rejects=((JOBS, 3, NOT_SLURM_TIME.format("2023-02-30T10:00:00")),),
    ),
    Case(
        "sacct-hour-24",
        "slurm",
        "sacct",
        {JOBS: text(H, job(JobID="9007", Start="2023-03-12T24:00:00"), J)},
        rows=((JOBS, 3, *slurm_key(JOB)),),
        rejects=((JOBS, 2, NOT_SLURM_TIME.format("2023-03-12T24:00:00")),),
    ),
    Case(
        "sacct-time-with-offset",
        "slurm",
        "sacct",
        {JOBS: text(H, job(End="2023-03-12T02:01:02+00:00"))},
        rejects=((JOBS, 2, NOT_SLURM_TIME.format("2023-03-12T02:01:02+00:00")),),
    ),
    Case(
        "sacct-negative-elapsed",
        "slurm",
        "sacct",
        {JOBS: text(H, job(Elapsed="-00:00:05"), P)},
        rows=((JOBS, 3, *slurm_key(PENDING)),),
        rejects=((JOBS, 2, "duration '-00:00:05' is not [D-]HH:MM:SS"),),
    ),
    Case(
        "sacct-elapsed-mm-ss",
        "slurm",
        "sacct",
        {JOBS: text(job(Elapsed="12:34"), P)},
        rows=((JOBS, 2, *slurm_key(PENDING)),),
        rejects=((JOBS, 1, "duration '12:34' is not [D-]HH:MM:SS"),),
    ),
    Case(
        "sacct-timelimit-word",
        "slurm",
        "sacct",
        {JOBS: text(H, job(Timelimit="infinite"))},
        rejects=((JOBS, 2, "time limit 'infinite' is not [D-]HH:MM:SS"),),
    ),
    Case(
        "sacct-reqnodes-not-a-number",
        "slurm",
        "sacct",
        {JOBS: text(H, job(ReqNodes="1K"), P)},
        rows=((JOBS, 3, *slurm_key(PENDING)),),
        rejects=((JOBS, 2, "ReqNodes '1K' is not a whole number"),),
    ),
    Case(
        # a job id stays text; ReqNodes is cast to a 4-byte integer by staging
        "sacct-30-digit-job-id-and-nodes",
        "slurm",
        "sacct",
        {JOBS: text(H, job(JobID=HUGE), job(ReqNodes=HUGE))},
        rows=((JOBS, 2, "count", HUGE, "00:01:02", JOB[4]),),
        rejects=((JOBS, 3, f"ReqNodes {HUGE!r} is too large"),),
    ),
    Case(
        "sacct-duplicate-lines-both-load",
        "slurm",
        "sacct",
        {JOBS: text(H, J, J)},
        rows=((JOBS, 2, *slurm_key(JOB)), (JOBS, 3, *slurm_key(JOB))),
    ),
    Case(
        "sacct-repeated-header-appended-outputs",
        "slurm",
        "sacct",
        {JOBS: text(H, J, H, P)},
        rows=((JOBS, 2, *slurm_key(JOB)), (JOBS, 4, *slurm_key(PENDING))),
    ),
    Case(
        "sacct-second-header-in-another-order",
        "slurm",
        "sacct",
        # appended outputs: each header gives the field order of the lines after it
        {JOBS: text(H, J, H_SWAPPED, P_SWAPPED)},
        rows=((JOBS, 2, *slurm_key(JOB)), (JOBS, 4, *slurm_key(PENDING))),
    ),
    Case(
        # headerless lines, then an appended output whose header reorders the fields: the
        # records after that header are in its order
        "sacct-headerless-then-header-in-another-order",
        "slurm",
        "sacct",
        {JOBS: text(J, H_SWAPPED, P_SWAPPED)},
        rows=((JOBS, 1, *slurm_key(JOB)), (JOBS, 3, *slurm_key(PENDING))),
    ),
    Case(
        "sacct-parsable-trailing-pipe-with-header",
        "slurm",
        "sacct",
        {JOBS: text(H + "|", J + "|")},
        rows=((JOBS, 2, *slurm_key(JOB)),),
    ),
    Case(
        # `sacct --parsable --noheader`: every line ends with a bar
        "sacct-parsable-trailing-pipe-without-header",
        "slurm",
        "sacct",
        {JOBS: text(J + "|", P + "|")},
        rows=((JOBS, 1, *slurm_key(JOB)), (JOBS, 2, *slurm_key(PENDING))),
    ),
    Case(
        # only \n ends a line: a file with bare \r line ends is one long line
        "sacct-bare-cr-line-ends",
        "slurm",
        "sacct",
        {JOBS: text(H, J, J, newline="\r")},
        rejects=((JOBS, 1, "expected 11 fields, found 31"),),
    ),
    Case(
        # `cat a.txt b.txt` of two files that each start with a BOM: the second header keeps
        # its BOM, so it is not a header but a record whose Submit is 'Submit'
        "sacct-appended-outputs-each-with-bom",
        "slurm",
        "sacct",
        # the second file's BOM sits before its header's first name: still a header
        {JOBS: BOM + text(H, J) + BOM + text(H, P)},
        rows=((JOBS, 2, *slurm_key(JOB)), (JOBS, 4, *slurm_key(PENDING))),
    ),
    Case(
        "sacct-nul-in-job-name",
        "slurm",
        "sacct",
        {JOBS: text(H, job(JobName="a\x00b"))},
        rows=((JOBS, 2, "a\x00b", "9001", "00:01:02", JOB[4]),),
    ),
    Case(
        "sacct-unknown-none-unlimited-partition-limit",
        "slurm",
        "sacct",
        {JOBS: text(H, P, R)},
        rows=((JOBS, 2, *slurm_key(PENDING)), (JOBS, 3, *slurm_key(RUNNING))),
    ),
    Case(
        "sacct-two-files-one-bad",
        "slurm",
        "sacct",
        {"a.txt": text(H, J), "b.txt": text(H, P, job(Elapsed="x"))},
        rows=(("a.txt", 2, *slurm_key(JOB)), ("b.txt", 2, *slurm_key(PENDING))),
        rejects=(("b.txt", 3, "duration 'x' is not [D-]HH:MM:SS"),),
    ),
    Case("csv-empty-file", "slurm", "csv", {JOBS_CSV: b""}),
    Case("csv-header-only", "slurm", "csv", {JOBS_CSV: text(CSV_HEADER)}),
    Case(
        "csv-sacct-header-in-a-csv",
        "slurm",
        "csv",
        {JOBS_CSV: text(H, J)},
        rejects=(
            (
                JOBS_CSV,
                1,
                f"header lacks {', '.join(CSV_FIELDS)} (expected {','.join(CSV_FIELDS)}; got {H})",
            ),
        ),
        fatal=True,
        texts=(H,),
    ),
    Case(
        "csv-quoted-comma-and-quote-in-name",
        "slurm",
        "csv",
        {JOBS_CSV: text(CSV_HEADER, '"a, ""b"""' + CSV_JOB.removeprefix("count"))},
        rows=((JOBS_CSV, 2, 'a, "b"', "9001", "00:01:02", JOB[4]),),
    ),
    Case(
        "csv-unterminated-quote",
        "slurm",
        "csv",
        {JOBS_CSV: text(CSV_HEADER, CSV_JOB, '"abc' + CSV_JOB.removeprefix("count"), CSV_PENDING)},
        rejects=((JOBS_CSV, 4, "malformed CSV: unexpected end of data"),),
        fatal=True,
        texts=(CSV_PENDING,),
    ),
    Case(
        "csv-latin1-byte-mid-file",
        "slurm",
        "csv",
        {
            JOBS_CSV: text(CSV_HEADER, CSV_JOB)
            + ("caf\xe9" + CSV_JOB.removeprefix("count")).encode("latin-1")
            + b"\n"
            + text(CSV_PENDING)
        },
        rows=((JOBS_CSV, 2, *slurm_key(JOB)), (JOBS_CSV, 4, *slurm_key(PENDING))),
        rejects=((JOBS_CSV, 3, NOT_UTF8),),
        texts=("caf\\xe9" + CSV_JOB.removeprefix("count"),),
    ),
    Case(
        "csv-crlf-and-bom",
        "slurm",
        "csv",
        {JOBS_CSV: BOM + text(CSV_HEADER, CSV_JOB, CSV_PENDING, newline="\r\n")},
        rows=((JOBS_CSV, 2, *slurm_key(JOB)), (JOBS_CSV, 3, *slurm_key(PENDING))),
    ),
    Case(
        "csv-missing-fields",
        "slurm",
        "csv",
        {JOBS_CSV: text(CSV_HEADER, "count,9001,00:30:00,00:01:02,2023-03-12T01:59:30")},
        rejects=((JOBS_CSV, 2, "expected 11 fields, found 5"),),
    ),
    Case(
        "csv-extra-field",
        "slurm",
        "csv",
        {JOBS_CSV: text(CSV_HEADER, CSV_PENDING, CSV_JOB + ",extra")},
        rows=((JOBS_CSV, 2, *slurm_key(PENDING)),),
        rejects=((JOBS_CSV, 3, "expected 11 fields, found 12"),),
    ),
    Case(
        "csv-feb-30",
        "slurm",
        "csv",
        {JOBS_CSV: text(CSV_HEADER, CSV_JOB.replace("2023-03-12T01:59:30", "2023-02-30T01:59:30"))},
        rejects=((JOBS_CSV, 2, NOT_SLURM_TIME.format("2023-02-30T01:59:30")),),
    ),
    Case(
        # a quoted name over two lines: the record is numbered by its last line
        "csv-newline-inside-quoted-name",
        "slurm",
        "csv",
        {JOBS_CSV: text(CSV_HEADER, '"two\nlines"' + CSV_JOB.removeprefix("count"), CSV_PENDING)},
        rows=(
            (JOBS_CSV, 3, "two\nlines", "9001", "00:01:02", JOB[4]),
            (JOBS_CSV, 4, *slurm_key(PENDING)),
        ),
    ),
    Case(
        # a bare \r inside a quoted name does not end a line: record numbers stay physical
        "csv-carriage-return-inside-quoted-name",
        "slurm",
        "csv",
        {
            JOBS_CSV: text(
                CSV_HEADER,
                '"a\rb"' + CSV_JOB.removeprefix("count"),
                CSV_PENDING.replace("00:00:00", "bad"),
            )
        },
        rows=((JOBS_CSV, 2, "a\rb", "9001", "00:01:02", JOB[4]),),
        rejects=((JOBS_CSV, 3, "duration 'bad' is not [D-]HH:MM:SS"),),
        texts=(CSV_PENDING.replace("00:00:00", "bad"),),
    ),
]

DISTILLER_CASES = [
    Case(
        "distiller-header-id-slurm-elapsed",
        "distiller_db",
        "csv",
        {SCANS: text("id,slurm,elapsed", "1,2,00:00:01")},
        rejects=((SCANS, 1, "header is not id,slurm_id,elapsed"),),
        fatal=True,
        texts=("id,slurm,elapsed",),
    ),
    Case(
        "distiller-header-in-another-order",
        "distiller_db",
        "csv",
        {SCANS: text("slurm_id,id,elapsed", "2,1,00:00:01")},
        rejects=((SCANS, 1, "header is not id,slurm_id,elapsed"),),
        fatal=True,
    ),
    Case(
        "distiller-file-named-big-csv",
        "distiller_db",
        "csv",
        {"big.csv": text(DISTILLER_HEADER, "1,2,00:00:01")},
        rejects=(("big.csv", None, DISTILLER_NAME),),
        fatal=True,
        texts=(f"{DISTILLER_HEADER}\n1,2,00:00:01\n",),
    ),
    Case("distiller-empty-file", "distiller_db", "csv", {SCANS: b""}),
    Case("distiller-header-only", "distiller_db", "csv", {SCANS: text(DISTILLER_HEADER)}),
    Case(
        "distiller-crlf-bom-spaced-header",
        "distiller_db",
        "csv",
        {SCANS: BOM + text(" id , slurm_id , elapsed ", "1,,00:00:01", newline="\r\n")},
        rows=((SCANS, 2, "1", "", "00:00:01", "512", "256"),),
    ),
    Case(
        "distiller-day-intervals-and-fractions",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER, "1,7,1 day 00:00:01", "2,,2 days 10:00:01.5")},
        rows=(
            (SCANS, 2, "1", "7", "1 day 00:00:01", "512", "256"),
            (SCANS, 3, "2", "", "2 days 10:00:01.5", "512", "256"),
        ),
    ),
    Case(
        "distiller-negative-interval",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER, "1,7,-00:00:05", "2,8,00:00:05")},
        rows=((SCANS, 3, "2", "8", "00:00:05", "512", "256"),),
        rejects=((SCANS, 2, "interval '-00:00:05' is not HH:MM:SS"),),
    ),
    Case(
        "distiller-scan-id-not-a-number",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER, "12a,7,", "13,8,")},
        rows=((SCANS, 3, "13", "8", "", "512", "256"),),
        rejects=((SCANS, 2, "scan id '12a' is not a whole number"),),
    ),
    Case(
        "distiller-slurm-id-not-a-number",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER, "12,abc,")},
        rejects=((SCANS, 2, "slurm_id 'abc' is not a whole number"),),
    ),
    Case(
        "distiller-30-digit-scan-id",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER, f"{HUGE},7,", "2147483647,8,", "2147483648,9,")},
        rows=((SCANS, 3, "2147483647", "8", "", "512", "256"),),
        rejects=(
            (SCANS, 2, f"scan id {HUGE!r} is too large"),
            (SCANS, 4, "scan id '2147483648' is too large"),
        ),
    ),
    Case(
        "distiller-extra-field",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER, "1,7,00:00:01,x", "2,8,")},
        rows=((SCANS, 3, "2", "8", "", "512", "256"),),
        rejects=((SCANS, 2, "expected 3 fields, found 4"),),
    ),
    Case(
        "distiller-truncated-last-line",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER, "1,7,00:00:01", "2,8", end=False)},
        rows=((SCANS, 2, "1", "7", "00:00:01", "512", "256"),),
        rejects=((SCANS, 3, "expected 3 fields, found 2"),),
    ),
    Case(
        "distiller-latin1-byte",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER) + b"1,7,00:00:01\xe9\n" + text("2,8,00:00:02")},
        rows=((SCANS, 3, "2", "8", "00:00:02", "512", "256"),),
        rejects=((SCANS, 2, NOT_UTF8),),
        texts=("1,7,00:00:01\\xe9",),
    ),
    Case(
        "distiller-duplicate-lines-both-load",
        "distiller_db",
        "csv",
        {SCANS: text(DISTILLER_HEADER, "1,7,00:00:01", "1,7,00:00:01")},
        rows=(
            (SCANS, 2, "1", "7", "00:00:01", "512", "256"),
            (SCANS, 3, "1", "7", "00:00:01", "512", "256"),
        ),
    ),
]


def rec_row(scan: str, receiver: str, stamp: str, line: int = 1, name: str = REC) -> Row:
    return (name, line, scan, receiver, stamp, None, None)


REC_CASES = [
    Case(
        "rec-json-array",
        "rec_status",
        "json",
        {REC: b'[{"time": "2023-10-16T08:30:45Z"}]'},
        rejects=((REC, 1, "JSON is an array, not an object"),),
        fatal=True,
        texts=('[{"time": "2023-10-16T08:30:45Z"}]',),
    ),
    Case(
        "rec-json-scalar-number",
        "rec_status",
        "json",
        {REC: b"42"},
        rejects=((REC, 1, "JSON is a number, not an object"),),
        fatal=True,
    ),
    Case(
        "rec-json-scalar-string",
        "rec_status",
        "json",
        {REC: b'"2023-10-16T08:30:45Z"'},
        rejects=((REC, 1, "JSON is a string, not an object"),),
        fatal=True,
    ),
    Case(
        "rec-json-null",
        "rec_status",
        "json",
        {REC: b"null"},
        rejects=((REC, 1, "JSON is null, not an object"),),
        fatal=True,
    ),
    Case(
        "rec-json-missing-time",
        "rec_status",
        "json",
        {REC: b'{"progress": 1.0}'},
        rejects=((REC, 1, "JSON object has no string 'time'"),),
        fatal=True,
    ),
    Case(
        "rec-json-time-is-a-number",
        "rec_status",
        "json",
        {REC: b'{"time": 1697470245}'},
        rejects=((REC, 1, "JSON object has no string 'time'"),),
        fatal=True,
    ),
    Case(
        "rec-json-empty-file",
        "rec_status",
        "json",
        {REC: b""},
        rejects=((REC, 1, "empty file, not a JSON object"),),
        fatal=True,
        texts=("",),
    ),
    Case(
        "rec-json-whitespace-only",
        "rec_status",
        "json",
        {REC: b" \r\n\n"},
        rejects=((REC, 1, "empty file, not a JSON object"),),
        fatal=True,
    ),
    Case(
        "rec-json-non-utf8-byte",
        "rec_status",
        "json",
        {REC: b'{\n "time": "2023-10-16T08:30:45Z",\n "UUID": "caf\xe9"\n}'},
        rejects=((REC, 3, NOT_UTF8),),
        fatal=True,
        texts=(' "UUID": "caf\\xe9"',),
    ),
    Case(
        "rec-json-time-without-offset",
        "rec_status",
        "json",
        {REC: b'{"time": "2023-10-16T08:30:45"}'},
        rejects=((REC, 1, NOT_AWARE.format("2023-10-16T08:30:45")),),
        fatal=True,
    ),
    Case(
        "rec-json-feb-30",
        "rec_status",
        "json",
        {REC: b'{"time": "2023-02-30T08:30:45Z"}'},
        rejects=((REC, 1, NOT_AWARE.format("2023-02-30T08:30:45Z")),),
        fatal=True,
    ),
    Case(
        "rec-json-hour-24",
        "rec_status",
        "json",
        {REC: b'{"time": "2023-10-16T24:00:00+00:00"}'},
        rejects=((REC, 1, NOT_AWARE.format("2023-10-16T24:00:00+00:00")),),
        fatal=True,
    ),
    Case(
        "rec-json-receiver-4-in-name",
        "rec_status",
        "json",
        {"4dstem_rec_status_4_scan_9.json": b'{"time": "2023-10-16T08:30:45Z"}'},
        rejects=(("4dstem_rec_status_4_scan_9.json", None, REC_NAME),),
        fatal=True,
    ),
    Case(
        "rec-json-trailing-comma",
        "rec_status",
        "json",
        {REC: b'{"time": "2023-10-16T08:30:45Z",\n "progress": 1,\n}'},
        rejects=((REC, 3, "invalid JSON: Expecting property name enclosed in double quotes"),),
        fatal=True,
        texts=("}",),
    ),
    Case(
        "rec-json-two-objects",
        "rec_status",
        "json",
        {REC: b'{"time": "2023-10-16T08:30:45Z"}{"time": "2023-10-16T08:30:46Z"}'},
        rejects=((REC, 1, "invalid JSON: Extra data"),),
        fatal=True,
    ),
    Case(
        "rec-json-bom-crlf",
        "rec_status",
        "json",
        {REC: BOM + b'{\r\n"time": "2023-10-16T08:30:45-07:00",\r\n"progress": 0.5\r\n}\r\n'},
        rows=((REC, 1, "9", "1", "2023-10-16T08:30:45-07:00", None, "0.5"),),
    ),
    Case(
        "rec-json-progress-nan",
        "rec_status",
        "json",
        {REC: b'{"time": "2023-10-16T08:30:45Z", "progress": NaN}'},
        rejects=((REC, 1, "progress 'NaN' is not a number"),),
        fatal=True,
    ),
    Case(
        "rec-json-last-scan-number-fraction",
        "rec_status",
        "json",
        {REC: b'{"time": "2023-10-16T08:30:45Z", "last_scan_number": 1.0}'},
        rejects=((REC, 1, "last_scan_number '1.0' is not a whole number"),),
        fatal=True,
    ),
    Case(
        "rec-json-good-and-bad-file",
        "rec_status",
        "json",
        {
            "4dstem_rec_status_0_scan_9.json": b'{"time": "2023-10-16T08:30:45Z"}',
            REC: b'{"time": "yesterday"}',
            "4dstem_rec_status_2_scan_9.json": b'{"time": "2023-10-16T08:30:47Z"}',
        },
        rows=(
            rec_row("9", "0", "2023-10-16T08:30:45Z", name="4dstem_rec_status_0_scan_9.json"),
            rec_row("9", "2", "2023-10-16T08:30:47Z", name="4dstem_rec_status_2_scan_9.json"),
        ),
        rejects=((REC, 1, NOT_AWARE.format("yesterday")),),
        fatal=True,
    ),
    Case(
        "rec-csv-wide-with-three-times",
        "rec_status",
        "csv",
        {WIDE: text("scan_number,time0,time1,time2", "100,2023-10-16T08:30:45Z,x,y")},
        rejects=(
            (
                WIDE,
                1,
                "header lacks time3 (expected scan_number,time0,time1,time2,time3; got "
                "scan_number,time0,time1,time2)",
            ),
        ),
        fatal=True,
    ),
    Case(
        "rec-csv-row-with-three-times",
        "rec_status",
        "csv",
        {WIDE: text(WIDE_HEADER, WIDE_100, "101,2023-10-16T09:00:00Z,x,y")},
        rows=tuple(
            rec_row("100", str(r), f"2023-10-16T08:30:4{5 + r}Z", 2, WIDE) for r in range(4)
        ),
        rejects=((WIDE, 3, "expected 5 fields, found 4"),),
    ),
    Case(
        "rec-csv-time-without-offset",
        "rec_status",
        "csv",
        {WIDE: text(WIDE_HEADER, WIDE_100.replace("08:30:46Z", "08:30:46"))},
        rejects=((WIDE, 2, NOT_AWARE.format("2023-10-16T08:30:46")),),
    ),
    Case(
        "rec-csv-scan-not-a-number",
        "rec_status",
        "csv",
        {WIDE: text(WIDE_HEADER, "x1" + WIDE_100.removeprefix("100"))},
        rejects=((WIDE, 2, "scan_number 'x1' is not a whole number"),),
    ),
    Case("rec-csv-empty-file", "rec_status", "csv", {WIDE: b""}),
    Case(
        "rec-csv-latin1-byte-in-a-time",
        "rec_status",
        "csv",
        {WIDE: text(WIDE_HEADER) + WIDE_100.replace("46Z", "46\xe9").encode("latin-1") + b"\n"},
        rejects=((WIDE, 2, NOT_UTF8),),
        texts=(WIDE_100.replace("46Z", "46\\xe9"),),
    ),
    Case(
        "rec-csv-crlf-bom",
        "rec_status",
        "csv",
        {WIDE: BOM + text(WIDE_HEADER, WIDE_100, newline="\r\n")},
        rows=tuple(
            rec_row("100", str(r), f"2023-10-16T08:30:4{5 + r}Z", 2, WIDE) for r in range(4)
        ),
    ),
]

FILE_CASES = [
    Case(
        "ncem-stat-line-without-pipe",
        "ncem_data_files",
        "stat",
        {LISTING: text(f"{NCEM_1}|1697470245", f"{NCEM_2} 1697470245")},
        rows=((LISTING, 1, NCEM_1, "0000000001", "00", "1697470245"),),
        rejects=((LISTING, 2, "line is not <path>|<mtime>"),),
    ),
    Case(
        "ncem-stat-mtime-yesterday",
        "ncem_data_files",
        "stat",
        {LISTING: text(f"{NCEM_1}|yesterday", f"{NCEM_2}|1697470245.5")},
        rows=((LISTING, 2, NCEM_2, "0000000002", "01", "1697470245.5"),),
        rejects=((LISTING, 1, NOT_MTIME.format("yesterday")),),
    ),
    Case(
        "ncem-stat-bad-name-rejected-readme-skipped",
        "ncem_data_files",
        "stat",
        {
            LISTING: text(
                "/x/README.txt|1697470245",
                "/x/data_scanXYZ_00.data|1697470245",
                f"{NCEM_1}|1697470245",
            )
        },
        rows=((LISTING, 3, NCEM_1, "0000000001", "00", "1697470245"),),
        rejects=((LISTING, 2, NCEM_NAME),),
        skipped=1,
        texts=("/x/data_scanXYZ_00.data|1697470245",),
    ),
    Case(
        "ncem-stat-only-unrelated-files",
        "ncem_data_files",
        "stat",
        {LISTING: text("/x/README.txt|1", "/x/data_scan0000000001_00.data.tmp|2", "|3")},
        skipped=3,
    ),
    Case("ncem-stat-empty-file", "ncem_data_files", "stat", {LISTING: b""}),
    Case(
        "ncem-stat-crlf-bom-pipe-in-path",
        "ncem_data_files",
        "stat",
        {LISTING: BOM + text("/a|b c/data_scan0000000001_00.data| 1697470245", newline="\r\n")},
        rows=(
            (LISTING, 1, "/a|b c/data_scan0000000001_00.data", "0000000001", "00", "1697470245"),
        ),
    ),
    Case(
        "ncem-stat-latin1-path",
        "ncem_data_files",
        "stat",
        {LISTING: b"/caf\xe9/data_scan0000000001_00.data|1\n" + text(f"{NCEM_2}|2")},
        rows=((LISTING, 2, NCEM_2, "0000000002", "01", "2"),),
        rejects=((LISTING, 1, NOT_UTF8),),
        texts=("/caf\\xe9/data_scan0000000001_00.data|1",),
    ),
    Case(
        "ncem-stat-negative-epoch",
        "ncem_data_files",
        "stat",
        {LISTING: text(f"{NCEM_1}|-5")},
        rejects=((LISTING, 1, NOT_MTIME.format("-5")),),
    ),
    Case(
        "ncem-stat-empty-mtime",
        "ncem_data_files",
        "stat",
        {LISTING: text(f"{NCEM_1}|")},
        rejects=((LISTING, 1, NOT_MTIME.format("")),),
    ),
    Case(
        "ncem-stat-y-feb-30",
        "ncem_data_files",
        "stat",
        {
            LISTING: text(
                f"{NCEM_1}|2023-02-30 10:00:00.5 -0700", f"{NCEM_2}|2023-02-28 10:00:00 -0700"
            )
        },
        rows=((LISTING, 2, NCEM_2, "0000000002", "01", "2023-02-28 10:00:00 -0700"),),
        rejects=((LISTING, 1, NOT_MTIME.format("2023-02-30 10:00:00.5 -0700")),),
    ),
    Case(
        "ncem-stat-30-digit-scan-in-name",
        "ncem_data_files",
        "stat",
        {LISTING: text(f"/d/data_scan{HUGE}_00.data|1697470245")},
        rejects=((LISTING, 1, NCEM_NAME),),
    ),
    Case(
        "ncem-stat-duplicate-lines-both-load",
        "ncem_data_files",
        "stat",
        {LISTING: text(f"{NCEM_1}|1", f"{NCEM_1}|1")},
        rows=(
            (LISTING, 1, NCEM_1, "0000000001", "00", "1"),
            (LISTING, 2, NCEM_1, "0000000001", "00", "1"),
        ),
    ),
    Case(
        "ncem-dir-nested-with-symlink-loop",
        "ncem_data_files",
        "dir",
        {},
        setup=ncem_tree_with_symlink_loop,
        paths=("in",),
        inputs=(".",),
        rows=(
            (".", 2, "data_scan0000000001_00.data", "0000000001", "00", MTIME),
            (".", 3, "a/b/data_scan0000000002_01.data", "0000000002", "01", MTIME),
        ),
        skipped=1,
    ),
    Case(
        "ncem-dir-bad-name-and-dangling-symlink",
        "ncem_data_files",
        "dir",
        {},
        setup=ncem_tree_with_bad_name_and_dangling_link,
        paths=("in",),
        inputs=(".",),
        rows=((".", 1, "data_scan0000000001_00.data", "0000000001", "00", MTIME),),
        rejects=((".", 2, NCEM_NAME),),
    ),
    Case(
        "ncem-dir-empty-folder",
        "ncem_data_files",
        "dir",
        {},
        setup=empty_folder,
        paths=("in",),
        inputs=(".",),
    ),
    Case(
        "ncem-csv-time-without-offset",
        "ncem_data_files",
        "csv",
        {
            NCEM_CSV: text(
                "time_last_written,scan_number", "2023-10-16T08:30:45,1", "2023-10-16T08:30:46Z,2"
            )
        },
        rows=((NCEM_CSV, 3, None, "2", None, "2023-10-16T08:30:46Z"),),
        rejects=((NCEM_CSV, 2, NOT_AWARE.format("2023-10-16T08:30:45")),),
    ),
    Case(
        # the byte is in a column the extract does not keep: the record is still not UTF-8
        "ncem-csv-latin1-byte-in-an-unused-column",
        "ncem_data_files",
        "csv",
        {
            NCEM_CSV: text("time_last_written,host,scan_number")
            + b"2023-10-16T08:30:45Z,caf\xe9,1\n"
            + text("2023-10-16T08:30:46Z,ncem-1,2")
        },
        rows=((NCEM_CSV, 3, None, "2", None, "2023-10-16T08:30:46Z"),),
        rejects=((NCEM_CSV, 2, NOT_UTF8),),
        texts=("2023-10-16T08:30:45Z,caf\\xe9,1",),
    ),
    Case(
        "ncem-csv-30-digit-scan",
        "ncem_data_files",
        "csv",
        {NCEM_CSV: text("scan_number,time_last_written", f"{HUGE},2023-10-16T08:30:46Z")},
        rejects=((NCEM_CSV, 2, f"scan_number {HUGE!r} is too large"),),
    ),
    Case(
        "ncem-csv-header-lacks-time",
        "ncem_data_files",
        "csv",
        {NCEM_CSV: text("scan_number,time", "1,2023-10-16T08:30:46Z")},
        rejects=(
            (
                NCEM_CSV,
                1,
                "header lacks time_last_written (expected scan_number,time_last_written; got "
                "scan_number,time)",
            ),
        ),
        fatal=True,
    ),
    Case(
        "nersc-stat-short-distiller-id",
        "nersc_counted_files",
        "stat",
        {
            LISTING: text(
                "/p/FOURD_231016_0831_1235_00043.h5|1697470245",
                f"{FOURD}|1697470246",
                "/p/FOURD_231016_0830_01234_00042.H5|1",
            )
        },
        rows=((LISTING, 2, "01234", "00042", "231016_0830", "1697470246"),),
        rejects=((LISTING, 1, NERSC_NAME),),
        skipped=1,
    ),
    Case(
        "nersc-stat-y-offset-with-colon",
        "nersc_counted_files",
        "stat",
        {LISTING: text(f"{FOURD}|2023-10-16 08:31:00 -07:00")},
        rejects=((LISTING, 1, NOT_MTIME.format("2023-10-16 08:31:00 -07:00")),),
    ),
    Case(
        "nersc-dir-symlink-loop-to-root",
        "nersc_counted_files",
        "dir",
        {},
        setup=nersc_tree_with_symlink_loop,
        paths=("in",),
        inputs=(".",),
        rows=((".", 1, "01234", "00042", "231016_0830", MTIME),),
        skipped=1,
    ),
    Case(
        "nersc-csv-offset-where-naive-expected",
        "nersc_counted_files",
        "csv",
        {NERSC_CSV: text("distiller_id,scan_number,datetime", "1,2,2023-10-16 08:30:45-07:00")},
        rejects=((NERSC_CSV, 2, "time '2023-10-16 08:30:45-07:00' is not YYYY-MM-DD HH:MM:SS"),),
    ),
    Case(
        "nersc-csv-hour-24",
        "nersc_counted_files",
        "csv",
        {
            NERSC_CSV: text(
                "distiller_id,scan_number,datetime", "1,2,2023-10-16 24:00:00", "1,3,2023-10-16"
            )
        },
        rejects=(
            (NERSC_CSV, 2, "time '2023-10-16 24:00:00' is not YYYY-MM-DD HH:MM:SS"),
            (NERSC_CSV, 3, "time '2023-10-16' is not YYYY-MM-DD HH:MM:SS"),
        ),
    ),
    Case(
        "nersc-csv-latin1-byte-in-a-time",
        "nersc_counted_files",
        "csv",
        {
            NERSC_CSV: text("distiller_id,scan_number,datetime", "1,2,2023-10-16 08:30:45")
            + b"1,3,2023-10-16 08:30:4\xe9\n"
        },
        rows=((NERSC_CSV, 2, "1", "2", None, "2023-10-16 08:30:45"),),
        rejects=((NERSC_CSV, 3, NOT_UTF8),),
        texts=("1,3,2023-10-16 08:30:4\\xe9",),
    ),
    Case(
        "nersc-csv-30-digit-scan-and-empty-distiller-id",
        "nersc_counted_files",
        "csv",
        {
            NERSC_CSV: text(
                "distiller_id,scan_number,datetime",
                f"1,{HUGE},2023-10-16 08:30:45",
                ",4,2023-10-16 08:30:45",
            )
        },
        rejects=(
            (NERSC_CSV, 2, f"scan_number {HUGE!r} is too large"),
            (NERSC_CSV, 3, "distiller_id '' is not a whole number"),
        ),
    ),
]

STEMPY_CASES = [
    Case(
        "stempy-json-array",
        "stempy_log",
        "json",
        {STEMPY: b"[]"},
        rejects=((STEMPY, 1, "JSON is an array, not an object of scans"),),
        fatal=True,
    ),
    Case(
        # the reader parses numbers as its own str subclass, whose name leaks into the reason
        "stempy-json-scalar",
        "stempy_log",
        "json",
        {STEMPY: b"42"},
        rejects=((STEMPY, 1, "JSON is a number, not an object of scans"),),
        fatal=True,
    ),
    Case(
        "stempy-empty-file",
        "stempy_log",
        "json",
        {STEMPY: b""},
        rejects=((STEMPY, 1, "invalid JSON: Expecting value"),),
        fatal=True,
    ),
    Case(
        "stempy-non-utf8-byte",
        "stempy_log",
        "json",
        {STEMPY: b'{\n "12": [' + STEMPY_RUN.encode() + b'],\n "x\xe9": []\n}'},
        rejects=((STEMPY, 3, NOT_UTF8),),
        fatal=True,
        texts=(' "x\\xe9": []',),
    ),
    Case(
        "stempy-truncated",
        "stempy_log",
        "json",
        {STEMPY: b'{\n "12": [\n  ' + STEMPY_RUN.encode() + b',\n  {"count_time": 1'},
        rejects=((STEMPY, 4, "invalid JSON: Expecting ',' delimiter"),),
        fatal=True,
    ),
    Case(
        "stempy-run-not-an-object",
        "stempy_log",
        "json",
        {STEMPY: f'{{"12": [[1, 2], {STEMPY_RUN}]}}'.encode()},
        rows=((STEMPY, 2, "12", "1", "1.5", "0.5"),),
        rejects=((STEMPY, 1, "run 0 of scan '12' is not an object"),),
    ),
    Case(
        "stempy-number-as-string",
        "stempy_log",
        "json",
        {STEMPY: f'{{"14": [{STEMPY_RUN.replace("1.5", chr(34) + "1.5" + chr(34))}]}}'.encode()},
        rejects=((STEMPY, 1, "run 0 of scan '14': count_time is not a number"),),
    ),
    Case(
        "stempy-missing-save-time",
        "stempy_log",
        "json",
        {STEMPY: b'{"12": [{"count_time": 1, "total_time": 2}]}'},
        rejects=((STEMPY, 1, "run 0 of scan '12': save_time is not a number"),),
    ),
    Case(
        "stempy-nan-count-time",
        "stempy_log",
        "json",
        {STEMPY: b'{"12": [{"count_time": NaN, "total_time": 2, "save_time": 3}]}'},
        rejects=((STEMPY, 1, "run 0 of scan '12': count_time is not a number"),),
    ),
    Case(
        "stempy-scan-not-a-list",
        "stempy_log",
        "json",
        {STEMPY: f'{{\n "12": [{STEMPY_RUN}],\n "13": {{"0": 1}}\n}}'.encode()},
        rows=((STEMPY, 1, "12", "0", "1.5", "0.5"),),
        rejects=((STEMPY, 3, "scan '13' does not hold a list of runs"),),
    ),
    Case(
        # the reject's line is where the scan's key is, not where the same text first appears
        "stempy-scan-line-is-its-key-line",
        "stempy_log",
        "json",
        {
            STEMPY: (
                b'{\n "12": [{"count_time": 1, "total_time": 2, "save_time": 3, "image": "13"}],'
                b'\n "13": 5\n}'
            )
        },
        rows=((STEMPY, 1, "12", "0", "1", "3"),),
        rejects=((STEMPY, 3, "scan '13' does not hold a list of runs"),),
    ),
    Case(
        "stempy-scan-key-not-a-number",
        "stempy_log",
        "json",
        {STEMPY: f'{{"abc": [{STEMPY_RUN}], "7": [{STEMPY_RUN}]}}'.encode()},
        rows=((STEMPY, 1, "7", "0", "1.5", "0.5"),),
        rejects=((STEMPY, 1, "scan number 'abc' is not a whole number"),),
    ),
    Case(
        "stempy-30-digit-scan-and-numbers",
        "stempy_log",
        "json",
        {
            STEMPY: (
                f'{{"{HUGE}": [{STEMPY_RUN}],'
                f' "7": [{{"count_time": {HUGE}, "total_time": 1e400, "save_time": 0}}]}}'
            ).encode()
        },
        # a 30-digit number is a finite double; 1e400 is not, and rejects its run (a run's
        # reject carries its record number: the first run read)
        rejects=(
            (STEMPY, 1, f"scan number {HUGE!r} is too large"),
            (STEMPY, 1, "run 0 of scan '7': total_time '1e400' is too large"),
        ),
    ),
    Case("stempy-empty-object", "stempy_log", "json", {STEMPY: b"{}"}),
    Case(
        "stempy-bom-crlf",
        "stempy_log",
        "json",
        {STEMPY: BOM + f'{{\r\n"12": [{STEMPY_RUN}, {STEMPY_RUN}]\r\n}}\r\n'.encode()},
        rows=((STEMPY, 1, "12", "0", "1.5", "0.5"), (STEMPY, 2, "12", "1", "1.5", "0.5")),
    ),
]

OTHER_CASES = [
    Case(
        "path-that-does-not-exist",
        "slurm",
        "sacct",
        {},
        paths=("missing/*.txt",),
        inputs=(),
        unmatched=("missing/*.txt",),
    ),
    Case(
        "file-glob-matching-only-a-folder",
        "slurm",
        "sacct",
        {},
        setup=folder_only,
        inputs=(),
        unmatched=("in/*",),
    ),
    Case(
        "dir-glob-that-does-not-exist",
        "nersc_counted_files",
        "dir",
        {},
        paths=("pscratch",),
        inputs=(),
        unmatched=("pscratch",),
    ),
]

CASES = [*SLURM_CASES, *DISTILLER_CASES, *REC_CASES, *FILE_CASES, *STEMPY_CASES, *OTHER_CASES]


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
    """values.py promises that a value staging will cast does parse; staging casts these to
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
