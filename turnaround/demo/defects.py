"""Planted defects: one of each defect the warehouse's warn-level tests name, and malformed
records the loaders set aside, in files of their own (`defects/` folders), the same at every
seed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from turnaround.demo.files import write_text
from turnaround.demo.params import SACCT_HEADER
from turnaround.demo.times import epoch, iso_time, sacct_time

DEFECT_JOB = 990_000_000  # job ids of the planted defects, far above the routine ones
HOUR = 3600


def _sacct(name: str, job: int, timelimit: str, elapsed: str, times: tuple[int, int, int]) -> str:
    submit, start, end = (sacct_time(t) for t in times)
    return f"{name}|{job}|{timelimit}|{elapsed}|{submit}|{start}|{end}|4|realtime_m3795|dstlr|0:0"


def defect_sacct_lines(base: int) -> list[str]:
    """`sacct_defects.txt`: jobs with odd times or limits, and a line with a malformed date."""
    return [
        SACCT_HEADER,
        # suspended 20 minutes: Elapsed 10 min, End - Start 30 min
        _sacct("suspended", DEFECT_JOB + 1, "00:30:00", "00:10:00", (base, base, base + 1800)),
        # started before it was submitted
        _sacct("early", DEFECT_JOB + 2, "00:30:00", "00:01:00", (base, base - 60, base)),
        # ended before it started
        _sacct("backwards", DEFECT_JOB + 3, "00:30:00", "00:00:00", (base, base + 60, base)),
        # no time limit, and running for more than a day
        _sacct(
            "forever", DEFECT_JOB + 4, "UNLIMITED", "1-02:00:00", (base, base, base + 26 * HOUR)
        ),
        # a count job whose Distiller elapsed disagrees with sacct's by a minute
        _sacct(
            "distiller-count-99001",
            DEFECT_JOB + 5,
            "00:30:00",
            "00:01:00",
            (base + HOUR, base + HOUR + 5, base + HOUR + 65),
        ),
        # malformed: a date that does not exist
        _sacct(
            "distiller-count-99002", DEFECT_JOB + 6, "00:30:00", "00:01:00", (base, base, base)
        ).replace("2023-03-01T10:00:00", "2023-02-30T10:00:00", 1),
    ]


def write_defect_statuses(folder: Path, base: int) -> None:
    """Receiver status files with a skewed clock, a missing receiver, a reset counter, and one
    without its time, a folder per scan under `folder`."""
    statuses = {
        # receiver 3's clock 45 s behind the others
        (9001, base): (0, 0, 1, 45),
        # receiver 3 never reported
        (9002, base + HOUR): (0, 1, 1),
        # the counter was reset: scan 9003 again, six months later, in another folder
        (9003, base + 2 * HOUR): (0, 0, 1, 1),
        (9003, epoch(datetime(2023, 9, 1, 10, 0, 0))): (0, 1, 1, 2),
    }
    for index, ((scan, acquired), delays) in enumerate(statuses.items()):
        for receiver, delay in enumerate(delays):
            doc = {"time": iso_time(acquired + delay, "utc"), "last_scan_number": scan}
            name = f"4dstem_rec_status_{receiver}_scan_{scan}.json"
            path = folder / str(index) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(doc) + "\n", encoding="utf-8", newline="\n")
    # malformed: a status without its time
    (folder / "4dstem_rec_status_0_scan_9004.json").write_text(
        '{"last_scan_number": 9004}\n', encoding="utf-8", newline="\n"
    )


def write_defects(out: Path) -> None:
    """One of each defect the warehouse's warn-level tests name, and malformed records the
    loaders set aside, in files of their own (`defects/` folders), the same at every seed."""
    base = epoch(datetime(2023, 3, 1, 10, 0, 0))
    write_text(out / "slurm" / "defects" / "sacct_defects.txt", defect_sacct_lines(base))
    write_text(
        out / "distiller_db" / "defects" / "128_128.csv",
        ["id,slurm_id,elapsed", f"99001,{DEFECT_JOB + 5},00:02:00"],
    )
    write_defect_statuses(out / "ncem" / "rec_status" / "defects", base)
    # malformed: a data file whose name breaks the pattern, beside an unrelated file
    write_text(
        out / "ncem" / "defects" / "data_files_defects.txt",
        [f"/mnt/nvmedata1/data_scanXYZ_00.data|{base}", f"/mnt/nvmedata1/notes.txt|{base}"],
    )
