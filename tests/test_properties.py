"""Property tests: generated inputs through the readers, and the time checks of loaders/checks.py.

The readers are called directly (`KINDS[source].readers[fmt](path, data)`); one property goes
through `load` into a warehouse to check that raw values are stored exactly as written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import checks as v
from loaders import load, load_config
from loaders.sources import KINDS
from loaders.sources.common import Parsed, Reject

# --------------------------------------------------------------------------- helpers

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
HEADER = "|".join(SACCT_FIELDS)
BOM = b"\xef\xbb\xbf"
Record = tuple[str, ...]

NOT_SLURM_TIME = "time {!r} is not YYYY-MM-DDTHH:MM:SS, Unknown or None"
NOT_NAIVE = "time {!r} is not YYYY-MM-DD HH:MM:SS"
NOT_AWARE = "time {!r} is not ISO 8601 with an offset (like 2023-10-13T16:45:09+00:00)"
NOT_MTIME = "mtime {!r} is neither epoch seconds nor 'YYYY-MM-DD HH:MM:SS[.fraction] +HHMM'"


def read(source: str, fmt: str, name: str, data: bytes) -> Parsed:
    """Run one reader on bytes, as the pipeline does."""
    return KINDS[source].readers[fmt](Path("/inputs") / name, data)


def iso_naive(moment: datetime, sep: str = "T") -> str:
    """YYYY-MM-DD<sep>HH:MM:SS of a datetime, its year always four digits."""
    return moment.replace(tzinfo=None, microsecond=0).isoformat(sep=sep)


def offset_text(offset: timedelta, colon: bool) -> str:
    """+HH:MM / +HHMM of a whole-minute UTC offset."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


def naive_parses(text: str) -> bool:
    """True when `datetime.fromisoformat` reads `text` as a naive date and time."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return False
    return parsed.tzinfo is None


def aware_parses(text: str) -> bool:
    """True when `datetime.fromisoformat` reads `text` as a date and time with an offset."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return False
    return parsed.tzinfo is not None


def stat_y_parses(text: str) -> bool:
    """True when `strptime` reads stat's %y form (the fraction dropped: %f stops at 6)."""
    stamp, _, zone = text.rpartition(" ")
    try:
        datetime.strptime(f"{stamp.split('.')[0]} {zone}", "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return False
    return True


def hms_parses(text: str) -> bool:
    """True when a [D-]HH:MM:SS duration reads as a clock: minutes and seconds below 60, and
    hours below 24 when days are given (sacct writes 25 hours as 1-01:00:00; without days the
    hours are a count, which staging multiplies by 3600)."""
    days, _, clock = text.rpartition("-")
    hours, minutes, seconds = clock.split(":")
    try:
        datetime.strptime(f"{hours if days else '00'}:{minutes}:{seconds}", "%H:%M:%S")
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- strategies

# free text of a sacct field: no field separator, no line end, no BOM (a leading BOM is the
# file's, not the field's), no lone surrogates (hypothesis never gives those)
FIELD_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="|\n\r\ufeff", blacklist_categories=("Cs",)),
    max_size=12,
)
MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
UNIX_MOMENTS = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30))


def digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


@st.composite
def durations(draw: st.DrawFn) -> str:
    """A valid sacct duration [D-]HH:MM:SS."""
    days = draw(st.one_of(st.none(), st.integers(0, 9999)))
    hours, minutes, seconds = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    return ("" if days is None else f"{days}-") + f"{hours:02d}:{minutes:02d}:{seconds:02d}"


SLURM_TIMES = st.one_of(
    st.sampled_from(["Unknown", "None", ""]),
    MOMENTS.map(iso_naive),
    MOMENTS.map(datetime.isoformat),
)
JOB_IDS = st.from_regex(r"[0-9]{1,9}(\.(batch|extern|[0-9]{1,2}))?", fullmatch=True)
RECORDS = st.tuples(
    FIELD_TEXT,
    JOB_IDS,
    st.one_of(st.sampled_from(["UNLIMITED", "Partition_Limit", ""]), durations()),
    durations(),
    SLURM_TIMES,
    SLURM_TIMES,
    SLURM_TIMES,
    st.one_of(st.just(""), st.integers(0, 10**6).map(str)),
    FIELD_TEXT,
    FIELD_TEXT,
    st.builds("{}:{}".format, st.integers(0, 255), st.integers(0, 255)),
)


def sacct_bytes(lines: list[str], newline: str, bom: bool) -> bytes:
    return (BOM if bom else b"") + "".join(line + newline for line in lines).encode()


# A malformed line made from a valid record: (its text, its reason); its bytes are the text's
# UTF-8 except for the latin-1 case, whose text is how the reject shows it.
Malformation = Callable[[Record], tuple[str, bytes, str]]


def _replace(record: Record, index: int, value: str) -> str:
    return "|".join((*record[:index], value, *record[index + 1 :]))


MALFORMATIONS: dict[str, Malformation] = {
    "one-field-short": lambda r: (
        "|".join(r[:-1]),
        "|".join(r[:-1]).encode(),
        "expected 11 fields, found 10",
    ),
    "one-field-extra": lambda r: (
        "|".join(r) + "|x",
        ("|".join(r) + "|x").encode(),
        "expected 11 fields, found 12",
    ),
    "empty-job-id": lambda r: (_replace(r, 1, ""), _replace(r, 1, "").encode(), "empty JobID"),
    "feb-30-submit": lambda r: (
        _replace(r, 4, "2023-02-30T00:00:00"),
        _replace(r, 4, "2023-02-30T00:00:00").encode(),
        NOT_SLURM_TIME.format("2023-02-30T00:00:00"),
    ),
    "negative-elapsed": lambda r: (
        _replace(r, 3, "-00:00:05"),
        _replace(r, 3, "-00:00:05").encode(),
        "duration '-00:00:05' is not [D-]HH:MM:SS",
    ),
    "latin1-job-name": lambda r: (
        _replace(r, 0, r[0] + "\\xe9"),
        _replace(r, 0, r[0] + "\udce9").encode("utf-8", "surrogateescape"),
        "bytes that are not UTF-8",
    ),
}


# --------------------------------------------------------------------------- sacct


@settings(max_examples=80, deadline=None)
@given(
    records=st.lists(RECORDS, max_size=8),
    header=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_valid_sacct_records_load_as_written_on_their_lines(
    records: list[Record], header: bool, newline: str, bom: bool
) -> None:
    lines = ([HEADER] if header else []) + ["|".join(record) for record in records]
    parsed = read("slurm", "sacct", "jobs.txt", sacct_bytes(lines, newline, bom))
    first = 2 if header else 1
    # no State field: the raw column is NULL
    assert parsed.rows == [(first + i, *record, None) for i, record in enumerate(records)]
    assert (parsed.rejects, parsed.skipped) == ([], 0)


@settings(max_examples=80, deadline=None)
@given(
    records=st.lists(RECORDS, min_size=1, max_size=6),
    names=st.lists(st.lists(FIELD_TEXT, min_size=2, max_size=4), min_size=1, max_size=6),
    header=st.booleans(),
    parsable=st.booleans(),
)
def test_a_bar_in_a_job_name_keeps_the_name_whole(
    records: list[Record], names: list[list[str]], header: bool, parsable: bool
) -> None:
    # sacct does not escape its delimiter: `a|b` splits the name; --parsable ends every line
    # (the header too) with a bar
    named = [("|".join(parts), *record[1:]) for parts, record in zip(names, records, strict=False)]
    end = "|" if parsable else ""
    lines = ([HEADER + end] if header else []) + ["|".join(record) + end for record in named]
    parsed = read("slurm", "sacct", "jobs.txt", sacct_bytes(lines, "\n", False))
    first = 2 if header else 1
    assert parsed.rejects == []
    assert parsed.rows == [(first + i, *record, None) for i, record in enumerate(named)]


@settings(max_examples=80, deadline=None)
@given(
    records=st.lists(RECORDS, min_size=1, max_size=8),
    header=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    data=st.data(),
)
def test_one_malformed_sacct_line_is_rejected_and_the_rest_kept(
    records: list[Record], header: bool, newline: str, data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(records)), label="position")
    kind = data.draw(st.sampled_from(sorted(MALFORMATIONS)), label="malformation")
    base = data.draw(RECORDS, label="malformed record")
    shown, raw, reason = MALFORMATIONS[kind](base)
    head = [HEADER.encode()] if header else []
    body = [("|".join(record)).encode() for record in records]
    body.insert(position, raw)
    content = b"".join(line + newline.encode() for line in [*head, *body])
    parsed = read("slurm", "sacct", "jobs.txt", content)
    first = 2 if header else 1
    bad_line = first + position
    assert parsed.rejects == [Reject(bad_line, reason, shown)]
    assert parsed.rows == [
        (first + i + (1 if i >= position else 0), *record, None) for i, record in enumerate(records)
    ]


@settings(max_examples=10, deadline=None)
@given(records=st.lists(RECORDS, min_size=1, max_size=5), newline=st.sampled_from(["\n", "\r\n"]))
def test_sacct_values_reach_the_warehouse_unchanged(records: list[Record], newline: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        jobs = root / "in" / "jobs.txt"
        jobs.parent.mkdir()
        jobs.write_bytes(sacct_bytes([HEADER, *("|".join(r) for r in records)], newline, False))
        (root / "turnaround.toml").write_text(
            '[[inputs]]\nsource = "slurm"\nformat = "sacct"\npaths = ["in/*"]\n', encoding="utf-8"
        )
        config = load_config(root / "turnaround.toml")
        summary = load(config, strict=True)
        assert summary.sources["slurm"].rows == len(records)
        columns = ", ".join(KINDS["slurm"].columns)
        with closing(duckdb.connect(str(config.warehouse), read_only=True)) as con:
            stored = con.execute(
                f"select _source_file, _record_number, {columns} from raw.slurm "
                "order by _record_number"
            ).fetchall()
        path = "in/jobs.txt"  # relative to the config's folder
        assert stored == [(path, i + 2, *record, None) for i, record in enumerate(records)]


# --------------------------------------------------------------------------- stat listings

# a folder path: anything but a line end (spaces and `|` included), no BOM, never blank
FOLDERS = st.text(
    alphabet=st.characters(blacklist_characters="\n\ufeff", blacklist_categories=("Cs",)),
    max_size=20,
).map(lambda folder: "/" + folder)


@st.composite
def mtimes(draw: st.DrawFn) -> str:
    """An mtime as stat prints it: epoch seconds (maybe with nanoseconds) or %y with offset."""
    moment = draw(UNIX_MOMENTS.map(lambda d: d.replace(tzinfo=UTC)))
    nanos = draw(st.integers(0, 10**9 - 1))
    form = draw(st.sampled_from(["epoch", "epoch-ns", "y", "y-ns"]))
    if form.startswith("epoch"):
        seconds = int(moment.timestamp())
        return f"{seconds}.{nanos:09d}" if form == "epoch-ns" else str(seconds)
    offset = timedelta(minutes=draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1)))
    local = moment.astimezone(timezone(offset))
    fraction = f".{nanos:09d}" if form == "y-ns" else ""
    return f"{iso_naive(local, ' ')}{fraction} {offset_text(offset, colon=False)}"


@st.composite
def ncem_entries(draw: st.DrawFn) -> tuple[str, tuple[str, ...] | None]:
    """A listing line and the row it gives (None: an unrelated file, skipped)."""
    folder = draw(FOLDERS)
    mtime = draw(mtimes())
    if draw(st.integers(0, 4)) == 0:
        name = draw(st.sampled_from(["README.txt", "data_scan0000000001_00.data.tmp", "x.h5"]))
        return f"{folder}/{name}|{mtime}", None
    # a scan number the staging integer holds (larger ones are rejected: test_bad_inputs.py)
    scan = f"{draw(st.integers(0, 2**31 - 1)):010d}"
    part = draw(st.from_regex(r"[0-9]{1,3}", fullmatch=True))
    path = f"{folder}/data_scan{scan}_{part}.data"
    return f"{path}|{mtime}", (path, scan, part, mtime)


@st.composite
def nersc_entries(draw: st.DrawFn) -> tuple[str, tuple[str, ...] | None]:
    """A listing line of a counted file (or an unrelated one) and the row it gives."""
    folder = draw(FOLDERS)
    mtime = draw(mtimes())
    if draw(st.integers(0, 4)) == 0:
        return f"{folder}/FOURD_231016_0830_01234_00042.log|{mtime}", None
    label = f"{draw(digits(6))}_{draw(digits(4))}"
    distiller, scan = draw(digits(5)), draw(digits(5))
    suffix = draw(st.sampled_from(["", "_centered", "_a|b c"]))
    path = f"{folder}/FOURD_{label}_{distiller}_{scan}{suffix}.h5"
    return f"{path}|{mtime}", (path, distiller, scan, label, mtime)


def check_listing(
    source: str, entries: list[tuple[str, tuple[str, ...] | None]], newline: str
) -> None:
    content = "".join(line + newline for line, _ in entries).encode()
    parsed = read(source, "stat", "listing.txt", content)
    assert parsed.rows == [
        (number, *row) for number, (_, row) in enumerate(entries, 1) if row is not None
    ]
    assert parsed.skipped == sum(1 for _, row in entries if row is None)
    assert parsed.rejects == []


@settings(max_examples=80, deadline=None)
@given(entries=st.lists(ncem_entries(), max_size=8), newline=st.sampled_from(["\n", "\r\n"]))
def test_ncem_stat_listing_rows_equal_the_listed_paths_and_mtimes(
    entries: list[tuple[str, tuple[str, ...] | None]], newline: str
) -> None:
    check_listing("ncem_data_files", entries, newline)


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(nersc_entries(), max_size=8), newline=st.sampled_from(["\n", "\r\n"]))
def test_nersc_stat_listing_rows_equal_the_listed_paths_and_mtimes(
    entries: list[tuple[str, tuple[str, ...] | None]], newline: str
) -> None:
    check_listing("nersc_counted_files", entries, newline)


# --------------------------------------------------------------------------- time checks

OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=OFFSETS
    ),
    nanos=st.integers(0, 10**9 - 1),
)
def test_aware_time_accepts_every_iso_form_of_a_datetime(moment: datetime, nanos: int) -> None:
    offset = moment.utcoffset()
    assert offset is not None
    base = iso_naive(moment)
    utc = iso_naive(moment.astimezone(UTC))
    forms = [
        moment.isoformat(),
        moment.isoformat(sep=" "),
        moment.isoformat(timespec="milliseconds"),
        f"{base}{offset_text(offset, colon=False)}",
        f"{base}.{nanos:09d}{offset_text(offset, colon=True)}",
        f"{utc}Z",
        f"{utc}.{nanos:09d}Z",
    ]
    assert {form: v.aware_time_error(form) for form in forms} == dict.fromkeys(forms)


@settings(max_examples=200, deadline=None)
@given(moment=MOMENTS, fraction=st.integers(1, 6), data=st.data())
def test_naive_and_slurm_time_accept_every_form_of_a_datetime(
    moment: datetime, fraction: int, data: st.DataObject
) -> None:
    tail = data.draw(digits(fraction), label="fraction")
    forms = [
        iso_naive(moment),
        iso_naive(moment, " "),
        moment.isoformat(),
        f"{iso_naive(moment)}.{tail}",
        f"{iso_naive(moment, ' ')}.{tail}",
    ]
    assert {form: v.naive_time_error(form) for form in forms} == dict.fromkeys(forms)
    assert {form: v.slurm_time_error(form) for form in forms} == dict.fromkeys(forms)


def test_slurm_time_accepts_the_words_for_no_time() -> None:
    assert [v.slurm_time_error(word) for word in ("Unknown", "None", "")] == [None, None, None]
    assert v.naive_time_error("Unknown") == NOT_NAIVE.format("Unknown")


@settings(max_examples=200, deadline=None)
@given(mtime=mtimes())
def test_mtime_accepts_every_stat_form_of_a_datetime(mtime: str) -> None:
    assert v.mtime_error(mtime) is None


@settings(max_examples=200, deadline=None)
@given(
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9999)),
    with_days=st.booleans(),
)
def test_slurm_duration_accepts_every_formatted_timedelta(span: timedelta, with_days: bool) -> None:
    whole = span.days * 86400 + span.seconds
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if with_days or days:
        text = f"{days}-{hours:02d}:{minutes:02d}:{seconds:02d}"
    else:
        text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    assert v.slurm_duration_error(text) is None
    assert v.slurm_duration_error(text, limit=True) is None


def test_slurm_time_limit_words() -> None:
    assert [
        v.slurm_duration_error(w, limit=True) for w in ("UNLIMITED", "Partition_Limit", "")
    ] == [
        None,
        None,
        None,
    ]
    assert v.slurm_duration_error("UNLIMITED") == "duration 'UNLIMITED' is not [D-]HH:MM:SS"


# strings shaped like the accepted forms, every digit free: most name no real instant


def field(low: int, high: int, width: int) -> st.SearchStrategy[str]:
    """A fixed-width number field: often in its valid range, otherwise any digits."""
    return st.one_of(st.integers(low, high).map(f"{{:0{width}d}}".format), digits(width))


@st.composite
def naive_shaped(draw: st.DrawFn) -> str:
    date = f"{draw(field(1, 9999, 4))}-{draw(field(1, 12, 2))}-{draw(field(1, 28, 2))}"
    clock = f"{draw(field(0, 23, 2))}:{draw(field(0, 59, 2))}:{draw(field(0, 59, 2))}"
    fraction = draw(st.one_of(st.just(""), st.integers(1, 6).flatmap(digits).map(".".__add__)))
    return f"{date}{draw(st.sampled_from(['T', ' ']))}{clock}{fraction}"


def offset_shaped(colon: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """±HH[:]MM with any digits (often a real offset)."""
    return st.builds(
        "{}{}{}{}".format, st.sampled_from("+-"), field(0, 23, 2), colon, field(0, 59, 2)
    )


@st.composite
def aware_shaped(draw: st.DrawFn) -> str:
    fraction = draw(st.one_of(st.just(""), st.integers(1, 9).flatmap(digits).map(".".__add__)))
    stamp = draw(naive_shaped()).split(".")[0] + fraction
    return stamp + draw(st.one_of(st.just("Z"), offset_shaped(st.sampled_from([":", ""]))))


@st.composite
def stat_y_shaped(draw: st.DrawFn) -> str:
    fraction = draw(st.one_of(st.just(""), st.integers(1, 9).flatmap(digits).map(".".__add__)))
    stamp = draw(naive_shaped()).replace("T", " ").split(".")[0] + fraction
    return f"{stamp} {draw(offset_shaped(st.just('')))}"


@st.composite
def duration_shaped(draw: st.DrawFn) -> str:
    days = draw(st.one_of(st.just(""), st.integers(0, 999).map("{}-".format)))
    return f"{days}{draw(field(0, 23, 2))}:{draw(field(0, 59, 2))}:{draw(field(0, 59, 2))}"


@settings(max_examples=300, deadline=None)
@given(text=naive_shaped())
def test_naive_and_slurm_time_refuse_what_fromisoformat_refuses(text: str) -> None:
    if naive_parses(text):
        assert (v.naive_time_error(text), v.slurm_time_error(text)) == (None, None)
    else:
        assert v.naive_time_error(text) == NOT_NAIVE.format(text)
        assert v.slurm_time_error(text) == NOT_SLURM_TIME.format(text)


@settings(max_examples=100, deadline=None)
@given(moment=MOMENTS, offset=OFFSETS)
def test_naive_and_slurm_time_refuse_an_offset(moment: datetime, offset: timezone) -> None:
    text = moment.replace(tzinfo=offset, microsecond=0).isoformat()
    assert v.naive_time_error(text) == NOT_NAIVE.format(text)
    assert v.slurm_time_error(text) == NOT_SLURM_TIME.format(text)


@settings(max_examples=300, deadline=None)
@given(text=aware_shaped())
def test_aware_time_refuses_what_fromisoformat_refuses(text: str) -> None:
    if not aware_parses(text):
        assert v.aware_time_error(text) == NOT_AWARE.format(text)


@settings(max_examples=100, deadline=None)
@given(moment=MOMENTS)
def test_aware_time_refuses_a_naive_time(moment: datetime) -> None:
    text = iso_naive(moment)
    assert v.aware_time_error(text) == NOT_AWARE.format(text)


@settings(max_examples=300, deadline=None)
@given(text=stat_y_shaped())
def test_mtime_refuses_what_strptime_refuses(text: str) -> None:
    if not stat_y_parses(text):
        assert v.mtime_error(text) == NOT_MTIME.format(text)


@settings(max_examples=300, deadline=None)
@given(text=duration_shaped())
def test_slurm_duration_refuses_what_strptime_refuses(text: str) -> None:
    if not hms_parses(text):
        assert v.slurm_duration_error(text) == f"duration {text!r} is not [D-]HH:MM:SS"
        assert v.slurm_duration_error(text, limit=True) == (
            f"time limit {text!r} is not [D-]HH:MM:SS"
        )


# --------------------------------------------------------------------------- digits staging reads

UNICODE_DIGITS = st.text(st.characters(whitelist_categories=("Nd",)), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(number=UNICODE_DIGITS)
def test_whole_numbers_are_ascii_digits_as_staging_casts_them(number: str) -> None:
    """`cast(x as integer)` in staging reads ASCII digits only; any other digit is refused."""
    expected = None if number.isascii() else f"scan id {number!r} is not a whole number"
    assert v.integer_error(number, "scan id") == expected


@settings(max_examples=200, deadline=None)
@given(seconds=UNICODE_DIGITS)
def test_epoch_mtimes_are_ascii_digits_as_staging_casts_them(seconds: str) -> None:
    assert v.mtime_error(seconds) == (None if seconds.isascii() else NOT_MTIME.format(seconds))


@settings(max_examples=200, deadline=None)
@given(hours=UNICODE_DIGITS)
def test_durations_are_ascii_digits_as_staging_casts_them(hours: str) -> None:
    text = f"{hours}:00:00"
    expected = None if hours.isascii() else f"duration {text!r} is not [D-]HH:MM:SS"
    assert v.slurm_duration_error(text) == expected
