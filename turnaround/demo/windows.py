"""sacct extraction windows: a week or a month long, overlapping by a day or two."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from turnaround.demo.params import (
    BAD_QUEUE_DAYS,
    DST_DAYS,
    EXPERIMENT_DAYS,
    SACCT_FIRST_DAY,
    SACCT_LAST_DAY,
)
from turnaround.demo.times import midnight


@dataclass
class Window:
    """One sacct extraction: jobs from `first` 00:00 to `last` 00:00, run at `last` 00:00."""

    first: date
    last: date
    header: bool

    @property
    def begin(self) -> int:
        return midnight(self.first)

    @property
    def finish(self) -> int:
        return midnight(self.last)

    @property
    def filename(self) -> str:
        return f"sacct_{self.first.isoformat()}_{self.last.isoformat()}.txt"


def sacct_windows(rng: random.Random) -> list[Window]:
    """Week- or month-long windows, each starting a day or two before the previous one ends."""
    windows: list[Window] = []
    first = SACCT_FIRST_DAY
    while True:
        last = first + timedelta(days=rng.choice((7, 7, 30, 31)))
        windows.append(Window(first, last, header=len(windows) % 3 != 1))
        if last >= SACCT_LAST_DAY:
            return windows
        first = last - timedelta(days=rng.choice((1, 2)))


def crossing_days(windows: list[Window]) -> list[date]:
    """Two days whose late-evening job runs past a window's end (shown running there)."""
    special = {*DST_DAYS, *BAD_QUEUE_DAYS}
    days = [w.last - timedelta(days=1) for w in windows[2:]]
    days = [d for d in days if d not in special and d < EXPERIMENT_DAYS[0]]
    return [days[0], days[len(days) // 2]]
