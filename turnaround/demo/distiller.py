"""`distiller_db/<W>_<W>.csv`: psql CSV exports `id,slurm_id,elapsed` per scan size."""

from __future__ import annotations

import random
from pathlib import Path

from turnaround.demo.files import write_text
from turnaround.demo.jobs import count_elapsed
from turnaround.demo.model import Job, Scan
from turnaround.demo.params import LONG_ELAPSED_RATE, SIZES, UNKNOWN_JOB_RATE
from turnaround.demo.times import duration


def distiller_elapsed(rng: random.Random, job: Job) -> str:
    """Distiller's own measure of a job: sacct's elapsed give or take 2 s, a few wild ones."""
    if job.good and rng.random() < LONG_ELAPSED_RATE:
        return duration(rng.randint(31 * 60 + 10, 70 * 60))
    if job.start is None:
        return "00:00:00"
    return duration(max(0, job.end - job.start + rng.randint(-2, 2)))


def write_distiller(out: Path, rng: random.Random, scans: list[Scan]) -> None:
    """`<W>_<W>.csv` per size: one row per (scan, job), plus rows without or with unknown jobs."""
    rows: dict[int, list[str]] = {size: [] for size in SIZES}
    for scan in scans:
        size_rows = rows[scan.size]
        if not scan.jobs:
            size_rows.append(f"{scan.distiller_id},,")
        for job in scan.jobs:
            if job.good or job.distiller_row:
                size_rows.append(f"{scan.distiller_id},{job.job_id},{distiller_elapsed(rng, job)}")
        if scan.jobs and rng.random() < UNKNOWN_JOB_RATE:
            old_id = rng.randint(57_000_000, 59_999_999)
            elapsed = duration(count_elapsed(rng, scan.size))
            size_rows.append(f"{scan.distiller_id},{old_id},{elapsed}")
    folder = out / "distiller_db"
    folder.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        body = rows[size]
        rng.shuffle(body)  # psql returns rows in no particular order
        write_text(folder / f"{size}_{size}.csv", ["id,slurm_id,elapsed", *body])
