"""`stempy/save_times.json`: the stempy counting-job performance log."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from turnaround.demo.params import PROFILES, SIZES

StempyRun = dict[str, float | str]


def stempy_runs(
    rng: random.Random, size: int, blank: bool, clock: datetime
) -> tuple[list[StempyRun], datetime]:
    """4-5 timed counting runs of one scan from `clock`; also returns when the next may start."""
    profile = PROFILES[size]
    runs: list[StempyRun] = []
    for _ in range(rng.choice((4, 5, 5, 5, 5))):
        count_time = rng.gauss(profile.count_time[blank], profile.count_time[blank] * 0.02)
        save_time = rng.gauss(profile.save_time[blank], profile.save_time[blank] * 0.025)
        overhead = profile.overhead * rng.uniform(0.8, 1.3)
        runs.append(
            {
                "timestamp": clock.strftime("%y%m%d_%H%M"),
                "count_time": count_time,
                "total_time": count_time + save_time + overhead,
                "save_time": save_time,
                "image": "stempy-mpi-3.3.14",
            }
        )
        clock += timedelta(seconds=count_time + save_time + rng.uniform(5, 20))
    return runs, clock + timedelta(seconds=rng.uniform(10, 40))


def write_stempy(out: Path, rng: random.Random) -> None:
    """Scans 14-29 (real data, sizes cycling 128..1024) and 93-96 (blank data)."""
    plan = [(n, SIZES[(n - 14) % 4], False) for n in range(14, 30)]
    plan += [(n, SIZES[n - 93], True) for n in range(93, 97)]
    clock = datetime(2024, 5, 3, 7, 33, 12)
    log: dict[str, list[StempyRun]] = {}
    for number, size, blank in plan:
        log[f"{number:05d}"], clock = stempy_runs(rng, size, blank, clock)
    folder = out / "stempy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "save_times.json").write_text(
        json.dumps(log, indent=4) + "\n", encoding="utf-8", newline="\n"
    )
