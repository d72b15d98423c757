"""The synthetic demo dataset: deterministic, in the native formats, internally consistent."""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import re
import statistics
import tomllib
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from turnaround.demo import OFFLOAD, STREAMING, Experiment, write_demo

TZ = ZoneInfo("America/Los_Angeles")
SOURCES = (
    "slurm",
    "distiller_db",
    "rec_status",
    "ncem_data_files",
    "nersc_counted_files",
    "stempy_log",
)
LATENCY_TARGETS = {128: 4.0, 256: 7.0, 512: 25.0, 1024: 97.0}
OFFLOAD_TARGETS = {128: 2.7, 256: 7.9, 512: 33.2, 1024: 149.4}
STAT_Y = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\.(\d{9}) ([+-]\d{4})$")
EPOCH_INT = re.compile(r"^\d{10}$")
EPOCH_FRACTION = re.compile(r"^\d{10}\.\d{10}$")
SACCT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
DATA_NAME = re.compile(r"/data_scan(\d{10})_(\d{2})\.data$")
COUNTED_NAME = re.compile(r"/FOURD_(\d{6})_(\d{4})_(\d{5})_(\d{5})(_[^/]*)?\.h5$")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scale-1, seed-0 dataset, written once for the module."""
    root = tmp_path_factory.mktemp("demo")
    write_demo(root)
    return root


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scale-2, seed-1 dataset (one tree for both the seed and the scale checks)."""
    root = tmp_path_factory.mktemp("other")
    write_demo(root, scale=2, seed=1)
    return root


# --------------------------------------------------------------------------- helpers


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def sacct_records(root: Path) -> dict[str, list[list[str]]]:
    """The non-header lines of every sacct file, split on `|`, by file name."""
    records = {}
    for path in sorted((root / "slurm").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        records[path.name] = [line.split("|") for line in lines if not line.startswith("JobName|")]
    return records


def passes_filters(fields: list[str]) -> bool:
    """The published analysis' filters on an allocation line."""
    name, _, _, _, _, start, _, nodes, qos, _, exit_code = fields
    return (
        "distiller-count" in name
        and start not in ("Unknown", "None")
        and nodes == "4"
        and "realtime_" in qos
        and exit_code == "0:0"
    )


def seconds(text: str) -> int:
    """`HH:MM:SS` or `D-HH:MM:SS` in seconds."""
    days, _, hms = text.rpartition("-")
    hours, minutes, secs = (int(part) for part in hms.split(":"))
    return int(days or 0) * 86400 + hours * 3600 + minutes * 60 + secs


def local_epoch(text: str) -> float:
    """Epoch seconds of a naive facility-local time that exists and is unambiguous."""
    naive = datetime.fromisoformat(text)
    aware = naive.replace(tzinfo=TZ)
    assert aware.astimezone(TZ).replace(tzinfo=None) == naive, f"{text} does not exist"
    assert aware.utcoffset() == aware.replace(fold=1).utcoffset(), f"{text} is ambiguous"
    return aware.timestamp()


def mtime_epoch(text: str) -> tuple[str, float]:
    """(form, epoch seconds) of an mtime in `%Y`, `%T@` or `%y` form."""
    if EPOCH_INT.match(text):
        return "epoch", float(text)
    if EPOCH_FRACTION.match(text):
        return "find", float(text)
    match = STAT_Y.match(text)
    assert match, f"mtime {text!r} is in no known form"
    stamp, fraction, offset = match.groups()
    moment = datetime.strptime(f"{stamp} {offset}", "%Y-%m-%d %H:%M:%S %z")
    local = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=TZ)
    assert local.utcoffset() == moment.utcoffset(), f"{text} has the wrong local offset"
    return "stat_y", moment.timestamp() + int(fraction) / 1e9


def listing(root: Path, pattern: str) -> list[tuple[str, str, float]]:
    """(path, mtime form, epoch) of every line of the matching stat listings."""
    entries = []
    for path in sorted(root.glob(pattern)):
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, mtime = line.rpartition("|")
            assert sep and name.startswith("/"), f"{path.name}: {line!r} is not <path>|<mtime>"
            entries.append((name, *mtime_epoch(mtime)))
    return entries


def receiver_times(root: Path) -> dict[int, dict[int, datetime]]:
    """scan number -> receiver -> status time, from every rec_status file but the planted
    defects (their own folder, malformed on purpose; tests/test_demo_refresh.py checks them)."""
    times: dict[int, dict[int, datetime]] = defaultdict(dict)
    for path in sorted((root / "ncem" / "rec_status").rglob("*.json")):
        if "defects" in path.relative_to(root).parts:
            continue
        match = re.fullmatch(r"4dstem_rec_status_([0-3])_scan_(\d+)\.json", path.name)
        assert match, path.name
        receiver, scan = int(match.group(1)), int(match.group(2))
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(doc, dict)
        assert doc["last_scan_number"] == scan
        moment = datetime.fromisoformat(doc["time"])
        assert moment.tzinfo is not None, f"{path.name}: time without offset"
        assert moment.astimezone(TZ).date().isoformat() == path.parent.name
        times[scan][receiver] = moment
    return times


def experiment_size(scan: int, experiments: tuple[Experiment, ...]) -> int | None:
    """The size of the experiment holding the scan number, if any."""
    for experiment in experiments:
        if experiment.first_scan <= scan <= experiment.last_scan:
            return experiment.size
    return None


def assert_means_near(values: dict[int, list[float]], targets: dict[int, float]) -> None:
    """Every value is positive and each size's mean is within 15% of its target."""
    assert sorted(values) == sorted(targets)
    for size, target in targets.items():
        assert min(values[size]) > 0, size
        mean = statistics.mean(values[size])
        assert abs(mean - target) <= 0.15 * target, (size, mean, target)


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files(demo: Path, tmp_path: Path) -> None:
    config = write_demo(tmp_path / "again", scale=1, seed=0)
    assert config == tmp_path / "again" / "turnaround.toml"
    assert tree_digest(tmp_path / "again") == tree_digest(demo)


def test_other_seed_gives_other_content(demo: Path, other: Path) -> None:
    # the windows and the experiments do not depend on the scale, only on the seed
    first, second = tree_digest(demo), tree_digest(other)
    assert sorted((demo / "slurm").iterdir()) != sorted((other / "slurm").iterdir())
    for name in (
        "stempy/save_times.json",
        "nersc/counted_files_1.txt",
        "nersc/counted_files_2.txt",
        "ncem/data_files_2.txt",
        "ncem/data_files_3.txt",
        "ncem/rec_status/2023-10-13/4dstem_rec_status_0_scan_2709.json",
    ):
        assert first[name] != second[name], name


def count_jobs(root: Path) -> int:
    """Distinct distiller-count job ids over every sacct file."""
    return len(
        {
            fields[1]
            for records in sacct_records(root).values()
            for fields in records
            if fields[0].startswith("distiller-count-")
        }
    )


def test_scale_two_doubles_count_jobs(demo: Path, other: Path) -> None:
    single = count_jobs(demo)
    assert 2500 <= single <= 3300
    assert 1.8 <= count_jobs(other) / single <= 2.2


def test_scale_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        write_demo(tmp_path, scale=0)


# --------------------------------------------------------------------------- config


def test_config_names_every_source_and_each_glob_matches(demo: Path) -> None:
    doc = tomllib.loads((demo / "turnaround.toml").read_text(encoding="utf-8"))
    assert doc["warehouse"] == "warehouse.duckdb"
    assert doc["timezone"] == "America/Los_Angeles"
    assert tuple(spec["source"] for spec in doc["inputs"]) == SOURCES
    for spec in doc["inputs"]:
        assert set(spec) == {"source", "format", "paths"}
        for pattern in spec["paths"]:
            hits = [Path(p) for p in glob.glob(str(demo / pattern), recursive=True)]
            assert any(hit.is_file() for hit in hits), pattern


# --------------------------------------------------------------------------- sacct


def test_sacct_lines_have_eleven_fields_and_steps(demo: Path) -> None:
    records = sacct_records(demo)
    assert len(records) >= 10
    lines = [fields for file_records in records.values() for fields in file_records]
    assert all(len(fields) == 11 for fields in lines)
    step_kinds = {fields[1].split(".")[1] for fields in lines if "." in fields[1]}
    assert step_kinds == {"batch", "extern", "0"}
    steps = [fields for fields in lines if "." in fields[1]]
    assert all(fields[2] == fields[8] == fields[9] == "" for fields in steps)


def test_sacct_header_in_some_files_only(demo: Path) -> None:
    firsts = [
        path.read_text(encoding="utf-8").split("\n", 1)[0]
        for path in sorted((demo / "slurm").glob("*.txt"))
    ]
    with_header = sum(line.startswith("JobName|JobID|") for line in firsts)
    assert 0 < with_header < len(firsts)


def test_sacct_windows_overlap(demo: Path) -> None:
    files_of: dict[str, set[str]] = defaultdict(set)
    for name, records in sacct_records(demo).items():
        for fields in records:
            if "." not in fields[1]:
                files_of[fields[1]].add(name)
    assert sum(len(names) > 1 for names in files_of.values()) >= 10


def test_sacct_times_exist_and_are_unambiguous(demo: Path) -> None:
    for records in sacct_records(demo).values():
        for fields in records:
            for stamp in fields[4:7]:
                if stamp not in ("Unknown", "None"):
                    assert SACCT_TIME.match(stamp), stamp
                    local_epoch(stamp)


def test_sacct_elapsed_is_end_minus_start(demo: Path) -> None:
    for records in sacct_records(demo).values():
        for fields in records:
            start, end = fields[5], fields[6]
            if start not in ("Unknown", "None") and end not in ("Unknown", "None"):
                assert local_epoch(end) - local_epoch(start) == seconds(fields[3]), fields


def test_sacct_count_jobs_on_dst_days(demo: Path) -> None:
    submits = [
        fields[4]
        for records in sacct_records(demo).values()
        for fields in records
        if passes_filters(fields)
    ]
    assert any(stamp.startswith("2022-11-06T") for stamp in submits)
    assert any(stamp.startswith("2023-03-12T01:59:") for stamp in submits)
    assert any(stamp.startswith("2023-03-12T") and stamp[11:13] > "03" for stamp in submits)


def test_sacct_defects_and_odd_values_present(demo: Path) -> None:
    lines = [f for records in sacct_records(demo).values() for f in records if "." not in f[1]]
    names = {f[0] for f in lines}
    assert "jupyter" in names
    assert any(name.startswith("distiller-transfer-") for name in names)
    count = [f for f in lines if f[0].startswith("distiller-count-")]
    assert {f[5] for f in count} >= {"Unknown", "None"}
    assert "1" in {f[7] for f in count}
    assert {f[8] for f in count} >= {"regular", "debug"}
    assert {f[10] for f in count} >= {"1:0", "0:15"}
    assert any(f[6] == "Unknown" and f[5] not in ("Unknown", "None") for f in count)
    assert any(re.match(r"^\d+-\d{2}:\d{2}:\d{2}$", f[3]) for f in lines)
    assert {f[2] for f in lines} >= {"00:30:00", "UNLIMITED", "Partition_Limit"}
    assert {f[2] for f in count} == {"00:30:00"}


def test_jobs_running_at_a_window_end_finish_in_another(demo: Path) -> None:
    finished = set()
    running = set()
    for records in sacct_records(demo).values():
        for fields in records:
            if "." in fields[1] or fields[5] in ("Unknown", "None"):
                continue
            (running if fields[6] == "Unknown" else finished).add(fields[1])
    assert running
    assert running <= finished


def test_sacct_job_ids_increase_with_submit_time(demo: Path) -> None:
    submitted: dict[int, str] = {}
    for records in sacct_records(demo).values():
        for fields in records:
            if "." not in fields[1]:
                assert submitted.setdefault(int(fields[1]), fields[4]) == fields[4]
    stamps = [local_epoch(submitted[job_id]) for job_id in sorted(submitted)]
    assert stamps == sorted(stamps)


# --------------------------------------------------------------------------- Distiller


def distiller_rows(root: Path) -> dict[int, list[dict[str, str]]]:
    rows = {}
    for size in (128, 256, 512, 1024):
        path = root / "distiller_db" / f"{size}_{size}.csv"
        assert path.read_text(encoding="utf-8").split("\n", 1)[0] == "id,slurm_id,elapsed"
        with path.open(encoding="utf-8", newline="") as handle:
            rows[size] = list(csv.DictReader(handle))
    return rows


def test_distiller_exports_have_their_defects(demo: Path) -> None:
    rows = [row for size_rows in distiller_rows(demo).values() for row in size_rows]
    assert any(row["slurm_id"] == "" and row["elapsed"] == "" for row in rows)
    assert any(row["elapsed"] and seconds(row["elapsed"]) > 29 * 60 for row in rows)
    sacct_ids = {fields[1] for records in sacct_records(demo).values() for fields in records}
    assert any(row["slurm_id"] and row["slurm_id"] not in sacct_ids for row in rows)
    assert any(row["slurm_id"] in sacct_ids and seconds(row["elapsed"]) > 29 * 60 for row in rows)


def test_every_kept_count_job_has_one_distiller_row(demo: Path) -> None:
    kept = {
        fields[1]
        for records in sacct_records(demo).values()
        for fields in records
        if passes_filters(fields)
    }
    rows_of: dict[str, int] = defaultdict(int)
    for size_rows in distiller_rows(demo).values():
        for row in size_rows:
            rows_of[row["slurm_id"]] += 1
    assert all(rows_of[job_id] == 1 for job_id in kept)


# --------------------------------------------------------------------------- NCEM / NERSC


def test_rec_status_files(demo: Path) -> None:
    times = receiver_times(demo)
    for experiment in STREAMING + OFFLOAD:
        scans = [n for n in range(experiment.first_scan, experiment.last_scan + 1) if n in times]
        expected = experiment.last_scan - experiment.first_scan + 1
        assert 0.9 * expected <= len(scans) <= expected  # about 1% of streaming scans dropped
        for scan in scans:
            assert sorted(times[scan]) == [0, 1, 2, 3]
            spread = max(times[scan].values()) - min(times[scan].values())
            assert spread <= timedelta(seconds=2)
    routine = [n for n in times if experiment_size(n, STREAMING + OFFLOAD) is None]
    assert any(n < 2709 for n in routine) and any(n >= 4900 for n in routine)
    offsets = {moment.utcoffset() for scan in times.values() for moment in scan.values()}
    assert offsets >= {timedelta(0), timedelta(hours=-7)}
    texts = [
        json.loads(path.read_text(encoding="utf-8"))["time"]
        for path in sorted((demo / "ncem" / "rec_status" / "2023-10-13").glob("*.json"))[:2000]
    ]
    assert any(t.endswith("Z") for t in texts) and any(t.endswith("+00:00") for t in texts)


def test_listings_are_path_mtime_in_all_three_forms(demo: Path) -> None:
    ncem = listing(demo, "ncem/data_files*.txt")
    nersc = listing(demo, "nersc/counted_files*.txt")
    assert {form for _, form, _ in ncem} == {"epoch", "find", "stat_y"}
    assert {form for _, form, _ in nersc} == {"epoch", "find", "stat_y"}
    assert any(not DATA_NAME.search(name) for name, _, _ in ncem)
    counted = [COUNTED_NAME.search(name) for name, _, _ in nersc]
    assert all(counted)
    assert [m.group(3) for m in counted if m].count("00000") >= 2
    assert any(m.group(5) for m in counted if m)


def test_streaming_latency_near_targets(demo: Path) -> None:
    times = receiver_times(demo)
    latencies: dict[int, list[float]] = defaultdict(list)
    for name, _, mtime in listing(demo, "nersc/counted_files*.txt"):
        match = COUNTED_NAME.search(name)
        assert match
        scan, distiller_id = int(match.group(4)), int(match.group(3))
        size = experiment_size(scan, STREAMING)
        if size is None or distiller_id == 0:
            continue
        earliest = min(times[scan].values())
        latencies[size].append(mtime - earliest.timestamp())
        label = earliest.astimezone(TZ).strftime("%y%m%d_%H%M")
        assert f"{match.group(1)}_{match.group(2)}" == label
    assert_means_near(latencies, LATENCY_TARGETS)


def test_offload_times_near_targets(demo: Path) -> None:
    times = receiver_times(demo)
    newest: dict[int, float] = {}
    for name, _, mtime in listing(demo, "ncem/data_files*.txt"):
        match = DATA_NAME.search(name)
        if match:
            scan = int(match.group(1))
            newest[scan] = max(newest.get(scan, 0.0), mtime)
    offloads: dict[int, list[float]] = defaultdict(list)
    for scan, written in newest.items():
        earliest = min(times[scan].values()).timestamp()
        assert written > earliest
        size = experiment_size(scan, OFFLOAD)
        if size is not None:
            offloads[size].append(written - earliest)
    assert all(len(values) == 30 for values in offloads.values())
    assert_means_near(offloads, OFFLOAD_TARGETS)


# --------------------------------------------------------------------------- stempy


def test_stempy_log(demo: Path) -> None:
    log = json.loads((demo / "stempy" / "save_times.json").read_text(encoding="utf-8"))
    expected = [f"{n:05d}" for n in [*range(14, 30), *range(93, 97)]]
    assert list(log) == expected
    save_means = {
        key: statistics.mean(run["save_time"] for run in runs) for key, runs in log.items()
    }
    for runs in log.values():
        assert 4 <= len(runs) <= 5
        for run in runs:
            assert set(run) == {"timestamp", "count_time", "total_time", "save_time", "image"}
            assert re.fullmatch(r"\d{6}_\d{4}", run["timestamp"])
            assert run["total_time"] > run["count_time"] + run["save_time"]
    real = [0.255, 0.99, 4.03, 16.8]
    blank = [0.027, 0.085, 0.333, 1.2]
    for i, target in enumerate(real):
        for key in (f"{14 + i + 4 * k:05d}" for k in range(4)):
            assert abs(save_means[key] - target) <= 0.1 * target
    for i, target in enumerate(blank):
        assert abs(save_means[f"{93 + i:05d}"] - target) <= 0.1 * target
