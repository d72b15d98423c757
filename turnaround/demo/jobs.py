"""Slurm jobs: count jobs of the routine scans (good and defective), other jobs, job ids, and the
planted regression of the last weeks (good count jobs that hang on a stall)."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator

from turnaround.demo.model import Job, Scan
from turnaround.demo.params import (
    DEFECT_JOB_RATE,
    DST_DAYS,
    FIRST_COUNT_NUMBER,
    FIRST_JOB_ID,
    LONG_JOB_START,
    OTHER_JOB_RATE,
    OUTLIER_JOB_RATE,
    PROFILES,
    REGRESSION_FIRST_DAY,
    REGRESSION_STALL,
    ROUTINE_FIRST_DAY,
    ROUTINE_LAST_DAY,
    SLURM_JOBS_PER_SECOND,
    TWICE_RATE,
)
from turnaround.demo.times import days_between, epoch, midnight


def count_elapsed(rng: random.Random, size: int) -> int:
    """Seconds a count job runs: log-normal around the size's median, a few slow outliers."""
    low, median, high = PROFILES[size].elapsed
    if rng.random() < OUTLIER_JOB_RATE:
        return rng.randint(high, 25 * 60)
    for _ in range(20):  # redraw rather than clamp, so no pile-up at the bounds
        value = round(rng.lognormvariate(math.log(median), PROFILES[size].elapsed_sigma))
        if low <= value <= high:
            return value
    return round(median)


def queue_seconds(rng: random.Random, bad_queue: bool) -> int:
    """Seconds between submit and start: mostly 0-10 s, hours on the bad days."""
    if bad_queue and rng.random() < 0.8:
        return rng.randint(3600, 5 * 3600)
    draw = rng.random()
    if draw < 0.82:
        return rng.randint(0, 10)
    if draw < 0.97:
        return rng.randint(11, 180)
    return rng.randint(181, 1200)


def python_step(rng: random.Random) -> int | None:
    """Most count jobs run a `python` step starting a few seconds in."""
    return rng.randint(2, 5) if rng.random() < 0.7 else None


def regression_elapsed(stall: random.Random, submit: int, elapsed: int) -> int:
    """The planted regression: a job submitted from REGRESSION_FIRST_DAY on cannot end before a
    stall of its own clears (its counted file's write hangs on the file system), so it runs at
    least 560-580 s. The stall comes from its own stream, drawn for those jobs only: the draws
    of everything else, and so every file not covering those weeks, stay as they were."""
    if submit < midnight(REGRESSION_FIRST_DAY):
        return elapsed
    return max(elapsed, stall.randint(*REGRESSION_STALL))


def good_job(
    rng: random.Random, stall: random.Random, seq: Iterator[int], scan: Scan, submit: int
) -> Job:
    """A count job that passes the filters (slowed by the regression in its weeks)."""
    start = submit + queue_seconds(rng, scan.bad_queue)
    end = start + regression_elapsed(stall, submit, count_elapsed(rng, scan.size))
    return Job(next(seq), submit, start, end, python_step=python_step(rng), good=True)


def defect_job(rng: random.Random, seq: Iterator[int], scan: Scan, submit: int) -> Job:
    """A count job the warehouse filters must drop, of a random kind."""
    kind = rng.choice(("unknown", "none", "nodes", "regular", "debug", "exit1", "exit15"))
    if kind in ("unknown", "none"):  # cancelled while pending
        cancel = submit + rng.randint(5, 300)
        return Job(
            next(seq),
            submit,
            None,
            cancel,
            never_started=kind.title(),
            distiller_row=rng.random() < 0.5,
        )
    start = submit + queue_seconds(rng, False)
    if kind in ("regular", "debug"):
        start += rng.randint(30, 900)
    elapsed = {"exit1": rng.randint(5, 60), "exit15": rng.randint(20, 300)}.get(
        kind, count_elapsed(rng, scan.size)
    )
    job = Job(next(seq), submit, start, start + elapsed, python_step=python_step(rng))
    job.distiller_row = rng.random() < 0.5
    if kind == "nodes":
        job.req_nodes = "1"
    elif kind in ("regular", "debug"):
        job.qos = kind
    else:
        job.exit_code = "1:0" if kind == "exit1" else "0:15"
    return job


def scan_jobs(
    rng: random.Random, stall: random.Random, seq: Iterator[int], scan: Scan
) -> list[Job]:
    """The count jobs of one scan: maybe a defective attempt, then one or two good runs."""
    if not scan.has_job:
        return []
    jobs: list[Job] = []
    submit = scan.acquired + rng.randint(5, 40)
    if not scan.plain and rng.random() < DEFECT_JOB_RATE:
        jobs.append(defect_job(rng, seq, scan, submit))
        submit = jobs[-1].end + rng.randint(20, 240)
    runs = 2 if not scan.plain and rng.random() < TWICE_RATE else 1
    for _ in range(runs):
        jobs.append(good_job(rng, stall, seq, scan, submit))
        submit = jobs[-1].end + rng.randint(30, 1800)
    return jobs


def other_jobs(rng: random.Random, seq: Iterator[int], count: int) -> list[Job]:
    """Jobs that are not Distiller counting jobs: notebooks and transfers."""
    days = [d for d in days_between(ROUTINE_FIRST_DAY, ROUTINE_LAST_DAY) if d not in DST_DAYS]
    jobs: list[Job] = []
    for _ in range(count):
        day = rng.choice(days)
        submit = midnight(day) + rng.randint(8 * 3600, 18 * 3600 - 1)
        start = submit + rng.randint(0, 60)
        if rng.random() < 0.5:
            job = Job(next(seq), submit, start, start + rng.randint(600, 3 * 3600), "jupyter")
            job.timelimit = rng.choice(("UNLIMITED", "04:00:00"))
            job.req_nodes, job.qos, job.user = "1", "interactive", "someone"
        else:
            name = f"distiller-transfer-{rng.randint(10, 99)}"
            job = Job(next(seq), submit, start, start + rng.randint(10, 600), name)
            job.timelimit, job.req_nodes, job.qos = "Partition_Limit", "1", "xfer"
        jobs.append(job)
    long_start = epoch(LONG_JOB_START)
    long_job = Job(next(seq), long_start - 7, long_start, long_start + 97965, "jupyter")
    long_job.timelimit, long_job.req_nodes, long_job.qos = "UNLIMITED", "1", "interactive"
    long_job.user = "someone"
    return [*jobs, long_job]


def number_jobs(rng: random.Random, jobs: list[Job]) -> None:
    """Slurm job ids increasing with submit time; count jobs named distiller-count-<n>."""
    jobs.sort(key=lambda j: (j.submit, j.seq))
    job_id, count_number, previous = FIRST_JOB_ID, FIRST_COUNT_NUMBER, jobs[0].submit
    for job in jobs:
        gap = (job.submit - previous) * SLURM_JOBS_PER_SECOND * rng.uniform(0.5, 1.5)
        job_id += 1 + int(gap)
        job.job_id, previous = job_id, job.submit
        if not job.name:
            job.name = f"distiller-count-{count_number}"
            count_number += rng.choice((1, 1, 2, 3))


def slurm_jobs(rng: random.Random, stall: random.Random, scans: list[Scan]) -> list[Job]:
    """Every job: the scans' count jobs (set on each scan) and other jobs, numbered by submit;
    `stall` is the regression's own stream (`regression_elapsed`)."""
    seq = itertools.count(1)  # creation order of jobs
    count_jobs: list[Job] = []
    for scan in scans:
        scan.jobs = scan_jobs(rng, stall, seq, scan)
        count_jobs += scan.jobs
    jobs = count_jobs + other_jobs(rng, seq, round(OTHER_JOB_RATE * len(count_jobs)))
    number_jobs(rng, jobs)
    return jobs
