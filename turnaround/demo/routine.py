"""Routine scans: Distiller counting sessions over 2022-08 .. 2023-10, numbered by the camera."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta

from turnaround.demo.model import Scan
from turnaround.demo.params import (
    BAD_QUEUE_DAYS,
    DST_DAYS,
    EXPERIMENT_DAYS,
    NO_JOB_RATE,
    PROFILES,
    ROUTINE_FIRST_DAY,
    ROUTINE_LAST_DAY,
    ROUTINE_SCANS_PER_SCALE,
    SIZES,
)
from turnaround.demo.times import days_between, epoch, midnight
from turnaround.demo.windows import Window, crossing_days


def pick_size(rng: random.Random, previous: int | None) -> int:
    """A scan size; sessions tend to repeat the previous size."""
    if previous is not None and rng.random() < 0.65:
        return previous
    return rng.choices(SIZES, weights=[PROFILES[s].share for s in SIZES])[0]


def receiver_delays(rng: random.Random) -> tuple[int, int, int, int]:
    """Seconds each receiver's status lags the earliest one (0-2 s, synchronised clocks)."""
    delays = [rng.randint(0, 2) for _ in range(4)]
    low = min(delays)
    return (delays[0] - low, delays[1] - low, delays[2] - low, delays[3] - low)


def session(
    rng: random.Random, start: datetime, count: int, *, bad_queue: bool = False
) -> list[Scan]:
    """`count` scans from a local start time, 15 s to 4 min apart."""
    scans: list[Scan] = []
    moment = epoch(start)
    size: int | None = None
    for _ in range(count):
        size = pick_size(rng, size)
        scans.append(Scan(size, moment, receiver_delays=receiver_delays(rng), bad_queue=bad_queue))
        moment += rng.randint(15, 240)
    return scans


def special_scans(rng: random.Random, windows: list[Window]) -> list[Scan]:
    """Scans placed on purpose: DST days, days of long queues, jobs across a window's end."""
    scans = session(rng, datetime(2022, 11, 6, 10, 5, 17), 5)
    dst_start = Scan(512, epoch(datetime(2023, 3, 12, 1, 59, 5)), plain=True)
    scans.append(dst_start)  # its job is submitted at 01:59:xx, just before the jump
    scans += session(rng, datetime(2023, 3, 12, 9, 31, 40), 4)
    for day in BAD_QUEUE_DAYS:
        start = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=12)
        scans += session(rng, start, 10, bad_queue=True)
    for day in crossing_days(windows):
        late = datetime.combine(day, datetime.min.time()) + timedelta(hours=23, minutes=55)
        scans.append(Scan(1024, epoch(late), plain=True))
    for scan in scans:
        scan.plain = scan.plain or scan.bad_queue
        scan.receiver_delays = receiver_delays(rng)
    return scans


def routine_days() -> tuple[list[date], list[float]]:
    """Days routine sessions may fall on, with weekends less likely."""
    skip = {*DST_DAYS, *BAD_QUEUE_DAYS, *days_between(*EXPERIMENT_DAYS)}
    days = [d for d in days_between(ROUTINE_FIRST_DAY, ROUTINE_LAST_DAY) if d not in skip]
    return days, [1.0 if d.weekday() < 5 else 0.25 for d in days]


def routine_scans(rng: random.Random, scale: int, windows: list[Window]) -> list[Scan]:
    """Routine Distiller scans in sessions over 2022-08 .. 2023-10, numbered, chronological."""
    scans = special_scans(rng, windows)
    days, weights = routine_days()
    cum_weights = list(itertools.accumulate(weights))
    target = ROUTINE_SCANS_PER_SCALE * scale
    while len(scans) < target:
        day = rng.choices(days, cum_weights=cum_weights)[0]
        start = datetime.combine(day, datetime.min.time()) + timedelta(
            seconds=rng.randint(7 * 3600 + 1800, 16 * 3600 + 1800)
        )  # sessions end by about 18:10, so no job nears midnight
        scans += session(rng, start, min(rng.randint(2, 25), target - len(scans)))
    scans.sort(key=lambda s: s.acquired)
    number_scans(rng, scans)
    return scans


def number_scans(rng: random.Random, scans: list[Scan]) -> None:
    """Camera scan numbers and Distiller ids; some scans never got a job."""
    cut = midnight(EXPERIMENT_DAYS[0])
    before = [s for s in scans if s.acquired < cut]
    after = [s for s in scans if s.acquired >= cut]
    recent = min(len(before), 2600)
    old = len(before) - recent
    for i, scan in enumerate(before):
        scan.number = 10000 + i if i < old else 2708 - (len(before) - 1 - i)
    for i, scan in enumerate(after):
        scan.number = 4900 + i
    distiller_id = 5000
    for scan in scans:
        distiller_id += 1 if rng.random() < 0.9 else 2
        scan.distiller_id = distiller_id
        scan.has_job = scan.plain or rng.random() >= NO_JOB_RATE
