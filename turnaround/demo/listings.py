"""Stat listings `<path>|<mtime>`: NCEM data files (`ncem/data_files_<k>.txt`) and counted
files at NERSC (`nersc/counted_files_<k>.txt`)."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

from turnaround.demo.experiments import NOT_DISTILLER_SCANS
from turnaround.demo.files import write_listing
from turnaround.demo.model import Scan
from turnaround.demo.params import COUNTED_DIR, FIVE_DIGITS, NS, PROFILES
from turnaround.demo.times import epoch, local

# --------------------------------------------------------------------------- NCEM data files


def data_files(rng: random.Random, scan: Scan) -> list[tuple[str, int]]:
    """(path, mtime ns) of a scan's data files; the newest lands `offload` s after acquisition."""
    profile = PROFILES[scan.size]
    offload = max(1.0, rng.gauss(profile.offload, profile.offload * 0.04))
    last_receiver = rng.randrange(4)
    files: list[tuple[str, int]] = []
    for receiver in range(4):
        for part in range(profile.data_parts):
            share = (part + 1) / profile.data_parts * rng.uniform(0.9, 0.999)
            if receiver == last_receiver and part == profile.data_parts - 1:
                share = 1.0
            path = f"/mnt/nvmedata{receiver + 1}/data_scan{scan.number:010d}_{part:02d}.data"
            files.append((path, scan.acquired * NS + round(offload * share * NS)))
    return files


NCEM_EXTRAS = (
    "/mnt/nvmedata1/README.txt",
    "/mnt/nvmedata2/lost+found",
    "/mnt/nvmedata3/receiver.log",
)


def write_data_files(out: Path, k: int, rng: random.Random, scans: list[Scan], form: str) -> None:
    """`ncem/data_files_<k>.txt`: the scans' data files plus one line that is not a data file."""
    extra_ns = epoch(datetime(2023, 10, 16, 8, 30, 45)) * NS + 123_456_789 + k * NS
    entries = [entry for scan in scans for entry in data_files(rng, scan)]
    entries.append((NCEM_EXTRAS[k - 1], extra_ns))
    write_listing(out / "ncem" / f"data_files_{k}.txt", entries, form)


# --------------------------------------------------------------------------- NERSC files


def counted_name(scan: Scan, distiller_id: int, suffix: str = "") -> str:
    """`FOURD_<yymmdd>_<hhmm>_<distiller id>_<scan>[_suffix].h5` with the local acquisition."""
    label = local(scan.acquired).strftime("%y%m%d_%H%M")
    return f"{COUNTED_DIR}/FOURD_{label}_{distiller_id:05d}_{scan.number:05d}{suffix}.h5"


def streaming_latency(rng: random.Random, size: int) -> float:
    """Seconds from the earliest receiver status to the counted file at NERSC (always > 0)."""
    profile = PROFILES[size]
    rate, low, high = profile.latency_outliers
    if rng.random() < rate:
        return rng.uniform(low, high)
    return max(1.0, rng.gauss(profile.latency, profile.latency_sd))


def streaming_counted(rng: random.Random, scans: list[Scan]) -> list[tuple[str, int]]:
    """One counted file per streaming scan."""
    entries: list[tuple[str, int]] = []
    for scan in scans:
        assert scan.distiller_id is not None
        mtime = scan.acquired * NS + round(streaming_latency(rng, scan.size) * NS)
        entries.append((counted_name(scan, scan.distiller_id), mtime))
    return entries


def routine_counted(rng: random.Random, scans: list[Scan]) -> list[tuple[str, int]]:
    """Counted files written near the end of the scan's last good job; some also `_centered`."""
    entries: list[tuple[str, int]] = []
    for scan in scans:
        good = [job for job in scan.jobs if job.good]
        if not good or scan.distiller_id is None:
            continue
        if max(scan.number, scan.distiller_id) > FIVE_DIGITS:
            continue  # not expressible in a counted file's name; routine scans need none
        mtime = (good[-1].end - rng.randint(1, 20)) * NS + rng.randrange(NS)
        entries.append((counted_name(scan, scan.distiller_id), mtime))
        if rng.random() < 0.1:
            later = mtime + rng.randint(30, 600) * NS
            entries.append((counted_name(scan, scan.distiller_id, "_centered"), later))
    return entries


def not_distiller_counted(rng: random.Random) -> list[tuple[str, int]]:
    """Counted files of test scans that Distiller never saw (id 00000)."""
    entries: list[tuple[str, int]] = []
    for i, number in enumerate(NOT_DISTILLER_SCANS):
        acquired = epoch(datetime(2023, 10, 13, 11, 20, 31)) + 40 * i
        scan = Scan(128, acquired, number)
        entries.append((counted_name(scan, 0), (acquired + 5) * NS + rng.randrange(NS)))
    return entries


def write_streaming_counted(out: Path, rng: random.Random, streaming: list[Scan]) -> None:
    """Small streaming sizes as `%y` (file 1), large ones and id-00000 files as `%T@` (file 2)."""
    folder = out / "nersc"
    small = [s for s in streaming if s.size < 512]
    large = [s for s in streaming if s.size >= 512]
    write_listing(folder / "counted_files_1.txt", streaming_counted(rng, small), "stat_y")
    large_entries = streaming_counted(rng, large) + not_distiller_counted(rng)
    write_listing(folder / "counted_files_2.txt", large_entries, "find")


def write_routine_counted(out: Path, rng: random.Random, routine: list[Scan]) -> None:
    """Routine scans' counted files as `%Y` (file 3)."""
    write_listing(out / "nersc" / "counted_files_3.txt", routine_counted(rng, routine), "epoch")
