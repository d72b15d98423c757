"""The experiment plan: four streaming runs on 2023-10-13, four offload runs on 2023-10-16."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from turnaround.demo.model import Scan
from turnaround.demo.routine import receiver_delays
from turnaround.demo.times import epoch


@dataclass(frozen=True)
class Experiment:
    """A run of scans of one size at a fixed pace, with fixed scan numbers."""

    kind: str  # "streaming" or "offload"
    size: int
    first_scan: int
    last_scan: int
    start: datetime  # local wall time of the first acquisition
    interval: int  # seconds between acquisitions
    distiller_offset: int = 0  # streaming: Distiller id = scan number - offset


STREAMING = (
    Experiment("streaming", 128, 2709, 3688, datetime(2023, 10, 13, 9, 45, 9), 5, 500),
    Experiment("streaming", 256, 3813, 4226, datetime(2023, 10, 13, 11, 46, 12), 15, 499),
    Experiment("streaming", 512, 4227, 4644, datetime(2023, 10, 13, 13, 42, 33), 55, 497),
    Experiment("streaming", 1024, 4653, 4698, datetime(2023, 10, 13, 20, 51, 3), 140, 488),
)
OFFLOAD = (
    Experiment("offload", 1024, 4768, 4797, datetime(2023, 10, 16, 9, 0, 4), 210),
    Experiment("offload", 512, 4798, 4827, datetime(2023, 10, 16, 11, 15, 7), 75),
    Experiment("offload", 256, 4828, 4857, datetime(2023, 10, 16, 13, 0, 2), 25),
    Experiment("offload", 128, 4858, 4887, datetime(2023, 10, 16, 13, 30, 5), 12),
)
STREAMING_DROP_RATE = 0.01
NOT_DISTILLER_SCANS = (3690, 3691)  # counted at NERSC with Distiller id 00000


def experiment_scans(rng: random.Random, experiment: Experiment) -> list[Scan]:
    """The experiment's scans at its pace; streaming drops about 1% of scans entirely."""
    first = epoch(experiment.start)
    scans: list[Scan] = []
    for i, number in enumerate(range(experiment.first_scan, experiment.last_scan + 1)):
        jitter = rng.randint(0, max(1, experiment.interval // 5))
        delays = receiver_delays(rng)
        if experiment.kind == "streaming" and rng.random() < STREAMING_DROP_RATE:
            continue
        scan = Scan(experiment.size, first + i * experiment.interval + jitter, number)
        scan.receiver_delays = delays
        if experiment.kind == "streaming":
            scan.distiller_id = number - experiment.distiller_offset
        scans.append(scan)
    return scans
