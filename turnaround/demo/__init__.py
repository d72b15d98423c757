"""A synthetic demo dataset in the native formats the loaders read, plus its `turnaround.toml`.

`write_demo(out, scale, seed)` imitates the 4D Camera (NCEM) -> NERSC measurements: routine
Distiller counting jobs over 2022-08 .. 2023-10, four streaming experiments on 2023-10-13 and
four offload experiments on 2023-10-16. Files written under `out`:

    turnaround.toml                      the config naming every input below
    slurm/sacct_<from>_<to>.txt          `sacct --parsable2` (JobName|JobID|Timelimit|Elapsed|
                                         Submit|Start|End|ReqNodes|QOS|User|ExitCode), one file
                                         per extraction window; windows of a week or a month that
                                         overlap by a day or two; header in some files only;
                                         facility-local naive times; job steps after each job
    distiller_db/<W>_<W>.csv             psql CSV exports `id,slurm_id,elapsed` per scan size
    ncem/rec_status/<date>/4dstem_rec_status_<r>_scan_<n>.json
                                         receiver status files, r = 0..3, `time` with an offset
    ncem/data_files_<k>.txt              stat listings `<path>|<mtime>` of `data_scan*.data`
    nersc/counted_files_<k>.txt          stat listings `<path>|<mtime>` of counted `FOURD_*.h5`
    stempy/save_times.json               stempy counting-job performance log

Mtimes come in the three forms the tools print: `stat -c %Y` (integer epoch), `find -printf %T@`
(fractional epoch) and `stat -c %y` (`2023-10-16 08:30:45.123456789 -0700`).

Every instant is drawn in UTC (epoch seconds or nanoseconds) and only formatted as local time at
the end, through zoneinfo, so local times are consistent and never nonexistent; no time is
placed in the repeated hour of 2022-11-06 (a check raises if one were).

Scan numbers: the experiments keep their real fixed ranges (2709..4887). Routine scans are
numbered by the camera counter: before the experiments up to 2708 (older ones, at larger
scales, 10000 and up), after them 4900 and up. Routine Distiller ids start at 5001, above the
experiments' ids (scan - 500 .. scan - 488), so the two never collide.

Defects the warehouse must filter are planted on purpose: jobs of other names, count jobs that
never started (Start Unknown/None), ReqNodes 1, QOS regular/debug, ExitCode 1:0/0:15; Distiller
rows with no job, with an elapsed over 29 minutes, or naming a job sacct does not know; listing
lines that are not data files; counted files with Distiller id 00000.

The output is a pure function of (scale, seed): `random.Random` streams seeded from `seed`, no
clock, no unordered iteration. The windows, the experiments and the stempy log have streams of
their own, so they are the same at every scale for a given seed. `out` should be empty or
absent; files already there are overwritten, not removed.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/Los_Angeles")
SIZES = (128, 256, 512, 1024)
NS = 1_000_000_000
MAX_SCALE = 100  # the benchmark's largest volume
FIVE_DIGITS = 99_999  # counted file names hold 5-digit Distiller ids and scan numbers

CONFIG = """\
warehouse = "warehouse.duckdb"
timezone = "America/Los_Angeles"

[[inputs]]
source = "slurm"
format = "sacct"
paths = ["slurm/**/*.txt"]

[[inputs]]
source = "distiller_db"
format = "csv"
paths = ["distiller_db/**/*.csv"]

[[inputs]]
source = "rec_status"
format = "json"
paths = ["ncem/rec_status/**/4dstem_rec_status_*.json"]

[[inputs]]
source = "ncem_data_files"
format = "stat"
paths = ["ncem/**/data_files*.txt"]

[[inputs]]
source = "nersc_counted_files"
format = "stat"
paths = ["nersc/counted_files*.txt"]

[[inputs]]
source = "stempy_log"
format = "json"
paths = ["stempy/save_times.json"]
"""

SACCT_HEADER = "JobName|JobID|Timelimit|Elapsed|Submit|Start|End|ReqNodes|QOS|User|ExitCode"
COUNT_QOS = "realtime_m3795"
COUNT_TIMELIMIT = "00:30:00"
COUNTED_DIR = "/pscratch/sd/s/someone/counted"


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class SizeProfile:
    """How a scan size behaves: share of routine scans, job times, transfer times."""

    share: float  # share of routine scans
    elapsed: tuple[int, float, int]  # count job seconds: low, median, high
    elapsed_sigma: float  # log-normal spread of the job time around the median
    offload: float  # s, earliest receiver status -> newest data file at NCEM
    latency: float  # s, earliest receiver status -> counted file at NERSC
    latency_sd: float
    latency_outliers: tuple[float, float, float]  # rate, low, high
    data_parts: int  # data files per receiver
    count_time: tuple[float, float]  # stempy count_time mean: real, blank data
    save_time: tuple[float, float]  # stempy save_time mean: real, blank data
    overhead: float  # stempy total_time - count_time - save_time


PROFILES: dict[int, SizeProfile] = {
    128: SizeProfile(
        share=0.09,
        elapsed=(15, 38, 140),
        elapsed_sigma=0.50,
        offload=2.7,
        latency=4.0,
        latency_sd=0.5,
        latency_outliers=(0.015, 10, 14),
        data_parts=2,
        count_time=(3.9, 3.9),
        save_time=(0.255, 0.027),
        overhead=0.07,
    ),
    256: SizeProfile(
        share=0.41,
        elapsed=(20, 81, 240),
        elapsed_sigma=0.40,
        offload=7.9,
        latency=6.9,
        latency_sd=0.55,
        latency_outliers=(0.01, 12, 28),
        data_parts=2,
        count_time=(5.05, 4.77),
        save_time=(0.99, 0.085),
        overhead=0.07,
    ),
    512: SizeProfile(
        share=0.35,
        elapsed=(58, 108, 220),
        elapsed_sigma=0.22,
        offload=33.2,
        latency=25.1,
        latency_sd=1.3,
        latency_outliers=(0.02, 30, 45),
        data_parts=3,
        count_time=(11.3, 9.94),
        save_time=(4.03, 0.333),
        overhead=0.06,
    ),
    1024: SizeProfile(
        share=0.15,
        elapsed=(233, 325, 560),
        elapsed_sigma=0.16,
        offload=149.4,
        latency=97.0,
        latency_sd=4.0,
        latency_outliers=(0.0, 0, 0),
        data_parts=4,
        count_time=(38.5, 34.9),
        save_time=(16.8, 1.2),
        overhead=0.2,
    ),
}


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

ROUTINE_FIRST_DAY = date(2022, 8, 26)
ROUTINE_LAST_DAY = date(2023, 10, 31)
EXPERIMENT_DAYS = (date(2023, 10, 13), date(2023, 10, 17))  # first, last (inclusive)
DST_DAYS = (date(2022, 11, 6), date(2023, 3, 12))
BAD_QUEUE_DAYS = (date(2023, 2, 15), date(2023, 2, 17), date(2023, 6, 15))
LONG_JOB_START = datetime(2023, 5, 1, 10, 4, 11)  # a jupyter job running over a day

SACCT_FIRST_DAY = date(2022, 8, 20)
SACCT_LAST_DAY = date(2023, 11, 2)

ROUTINE_SCANS_PER_SCALE = 2450  # Distiller scans with count jobs
REC_STATUS_ROUTINE_PER_SCALE = 700  # routine scans whose receiver status files remain
TWICE_RATE = 0.12  # scans counted twice
DEFECT_JOB_RATE = 0.12  # scans with a failed or odd count job before the good one
NO_JOB_RATE = 0.015  # Distiller scans with no job (empty slurm_id)
LONG_ELAPSED_RATE = 0.008  # Distiller rows whose elapsed is over 29 minutes
UNKNOWN_JOB_RATE = 0.012  # extra Distiller rows naming jobs sacct does not have
OTHER_JOB_RATE = 0.035  # non-count jobs per count job
OUTLIER_JOB_RATE = 0.05  # count jobs far slower than their size
ROUTINE_DATA_FILE_RATE = 0.2  # routine rec_status scans with data files listed
ROUTINE_COUNTED_RATE = 0.4  # routine rec_status scans with counted files listed

FIRST_JOB_ID = 3055478
SLURM_JOBS_PER_SECOND = 0.38  # facility-wide submissions between two of ours
FIRST_COUNT_NUMBER = 2318


# --------------------------------------------------------------------------- time helpers


def epoch(wall: datetime) -> int:
    """Epoch seconds of a facility-local wall time (which must exist and be unambiguous)."""
    aware = wall.replace(tzinfo=TZ)
    if datetime.fromtimestamp(aware.timestamp(), TZ).replace(tzinfo=None) != wall:
        raise ValueError(f"local time {wall} does not exist")
    if aware.replace(fold=1).utcoffset() != aware.utcoffset():
        raise ValueError(f"local time {wall} is ambiguous")
    return int(aware.timestamp())


def local(seconds: int) -> datetime:
    """The facility-local aware datetime of an epoch second, refusing ambiguous wall times."""
    moment = datetime.fromtimestamp(seconds, TZ)
    if moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset():
        raise ValueError(f"{moment} is ambiguous in {TZ.key}; the demo must not write it")
    return moment


def sacct_time(seconds: int) -> str:
    """`2023-03-12T01:59:30`: sacct's naive local time."""
    return local(seconds).strftime("%Y-%m-%dT%H:%M:%S")


def duration(seconds: int) -> str:
    """`HH:MM:SS`, or `D-HH:MM:SS` from a day on (sacct Elapsed)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    hms = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{hms}" if days else hms


def iso_time(seconds: int, form: str) -> str:
    """A receiver status `time`: form `utc` (+00:00), `z` (Z) or `local` (-07:00/-08:00)."""
    if form == "local":
        return local(seconds).isoformat()
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return text.replace("+00:00", "Z") if form == "z" else text


def mtime_text(ns: int, form: str) -> str:
    """An mtime as `stat %Y` (`epoch`), `find %T@` (`find`) or `stat %y` (`stat_y`)."""
    seconds, fraction = divmod(ns, NS)
    if form == "epoch":
        return str(seconds)
    if form == "find":
        return f"{seconds}.{fraction:09d}0"
    moment = local(seconds)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{fraction:09d} {moment:%z}"


def midnight(day: date) -> int:
    """Epoch seconds of a day's local midnight (never a DST transition in Los Angeles)."""
    return epoch(datetime.combine(day, datetime.min.time()))


def days_between(first: date, last: date) -> list[date]:
    """Every day from first to last, inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --------------------------------------------------------------------------- the model


@dataclass
class Scan:
    """One acquisition; `acquired` is the earliest receiver status, in epoch seconds."""

    size: int
    acquired: int
    number: int = 0
    distiller_id: int | None = None
    receiver_delays: tuple[int, int, int, int] = (0, 0, 0, 0)
    bad_queue: bool = False  # submitted on a day of hours-long queues
    plain: bool = False  # exactly one good job, no defects (scans placed on purpose)
    has_job: bool = True
    jobs: list[Job] = field(default_factory=list)


@dataclass
class Job:
    """One Slurm job. `end` is when it left the system (also for jobs that never started)."""

    seq: int  # creation order, breaks submit-time ties
    submit: int
    start: int | None
    end: int
    name: str = ""  # count jobs are named once numbered
    timelimit: str = COUNT_TIMELIMIT
    req_nodes: str = "4"
    qos: str = COUNT_QOS
    user: str = "dstlr"
    exit_code: str = "0:0"
    never_started: str = "Unknown"  # how Start shows when start is None: Unknown or None
    python_step: int | None = None  # seconds after start when step .0 starts, if any
    good: bool = False  # passes the warehouse filters
    distiller_row: bool = True
    job_id: int = 0


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


# --------------------------------------------------------------------------- sacct windows


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


# --------------------------------------------------------------------------- routine scans


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


# --------------------------------------------------------------------------- jobs


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


def good_job(rng: random.Random, seq: Iterator[int], scan: Scan, submit: int) -> Job:
    """A count job that passes the filters."""
    start = submit + queue_seconds(rng, scan.bad_queue)
    end = start + count_elapsed(rng, scan.size)
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


def scan_jobs(rng: random.Random, seq: Iterator[int], scan: Scan) -> list[Job]:
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
        jobs.append(good_job(rng, seq, scan, submit))
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


# --------------------------------------------------------------------------- sacct output


def sacct_line(job: Job, step: str, times: tuple[str, str, str], elapsed: int) -> str:
    """One `--parsable2` line of the job (`step` "") or of a step (batch, extern, 0).

    Steps show no time limit, QOS or user; the extern step always exits 0:0.
    """
    submit, start, end = times
    if not step:
        head = [job.name, str(job.job_id), job.timelimit]
        tail = [job.qos, job.user, job.exit_code]
    else:
        name = "python" if step == "0" else step
        head = [name, f"{job.job_id}.{step}", ""]
        tail = ["", "", "0:0" if step == "extern" else job.exit_code]
    return "|".join([*head, duration(elapsed), submit, start, end, job.req_nodes, *tail])


def sacct_lines(job: Job, finish: int) -> list[str]:
    """The job as sacct shows it when run at `finish` (a window's end), steps included."""
    if job.start is None or job.start >= finish:  # never started, or still pending
        cancelled = job.start is None and job.end <= finish
        start_text = job.never_started if cancelled else "Unknown"
        end_text = sacct_time(job.end) if cancelled and start_text == "None" else "Unknown"
        times = (sacct_time(job.submit), start_text, end_text)
        return [sacct_line(job, "", times, 0)]
    end = job.end if job.end <= finish else None
    end_text = sacct_time(end) if end is not None else "Unknown"
    elapsed = (end if end is not None else finish) - job.start
    start_text = sacct_time(job.start)
    lines = [sacct_line(job, "", (sacct_time(job.submit), start_text, end_text), elapsed)]
    for step in ("batch", "extern"):
        lines.append(sacct_line(job, step, (start_text, start_text, end_text), elapsed))
    if job.python_step is not None and job.start + job.python_step < finish:
        step_start = job.start + job.python_step
        step_end = end - 1 if end is not None else None
        step_elapsed = (step_end if step_end is not None else finish) - step_start
        step_times = (
            sacct_time(step_start),
            sacct_time(step_start),
            sacct_time(step_end) if step_end is not None else "Unknown",
        )
        lines.append(sacct_line(job, "0", step_times, step_elapsed))
    return lines


def write_sacct(out: Path, windows: list[Window], jobs: list[Job]) -> None:
    """One file per window with every job it overlaps, ordered by job id."""
    folder = out / "slurm"
    folder.mkdir(parents=True, exist_ok=True)
    by_id = sorted(jobs, key=lambda j: j.job_id)
    for window in windows:
        begin, finish = window.begin, window.finish
        lines = [SACCT_HEADER] if window.header else []
        for job in by_id:
            if job.submit < finish and job.end >= begin:
                lines += sacct_lines(job, finish)
        write_text(folder / window.filename, lines)


# --------------------------------------------------------------------------- Distiller


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


# --------------------------------------------------------------------------- experiments


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


# --------------------------------------------------------------------------- NCEM files


def uuid_like(rng: random.Random) -> str:
    """A deterministic UUID-shaped hex string."""
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def write_rec_status(out: Path, rng: random.Random, scans: list[Scan]) -> None:
    """Four receiver status files per scan, in a folder per local day of acquisition."""
    root = out / "ncem" / "rec_status"
    made: set[Path] = set()
    for scan in sorted(scans, key=lambda s: s.number):
        folder = root / local(scan.acquired).date().isoformat()
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        uuid = uuid_like(rng)
        for receiver, delay in enumerate(scan.receiver_delays):
            draw = rng.random()
            form = "utc" if draw < 0.85 else "z" if draw < 0.93 else "local"
            doc = {
                "time": iso_time(scan.acquired + delay, form),
                "last_scan_number": scan.number,
                "progress": 1.0,
                "UUID": uuid,
            }
            name = f"4dstem_rec_status_{receiver}_scan_{scan.number}.json"
            (folder / name).write_text(json.dumps(doc) + "\n", encoding="utf-8", newline="\n")


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


def write_listing(path: Path, entries: list[tuple[str, int]], form: str) -> None:
    """A stat listing `<path>|<mtime>` sorted by path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name}|{mtime_text(ns, form)}" for name, ns in sorted(entries)]
    write_text(path, lines)


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


# --------------------------------------------------------------------------- stempy


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


# --------------------------------------------------------------------------- entry point


def write_text(path: Path, lines: list[str]) -> None:
    """Write lines with `\\n` endings, whatever the platform."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------- planted defects

DEFECT_JOB = 990_000_000  # job ids of the planted defects, far above the routine ones


def _sacct(name: str, job: int, timelimit: str, elapsed: str, times: tuple[int, int, int]) -> str:
    submit, start, end = (sacct_time(t) for t in times)
    return f"{name}|{job}|{timelimit}|{elapsed}|{submit}|{start}|{end}|4|realtime_m3795|dstlr|0:0"


def write_defects(out: Path) -> None:
    """One of each defect the warehouse's warn-level tests name, and malformed records the
    loaders set aside, in files of their own (`defects/` folders), the same at every seed."""
    base = epoch(datetime(2023, 3, 1, 10, 0, 0))
    hour = 3600
    lines = [
        SACCT_HEADER,
        # suspended 20 minutes: Elapsed 10 min, End - Start 30 min
        _sacct("suspended", DEFECT_JOB + 1, "00:30:00", "00:10:00", (base, base, base + 1800)),
        # started before it was submitted
        _sacct("early", DEFECT_JOB + 2, "00:30:00", "00:01:00", (base, base - 60, base)),
        # ended before it started
        _sacct("backwards", DEFECT_JOB + 3, "00:30:00", "00:00:00", (base, base + 60, base)),
        # no time limit, and running for more than a day
        _sacct(
            "forever", DEFECT_JOB + 4, "UNLIMITED", "1-02:00:00", (base, base, base + 26 * hour)
        ),
        # a count job whose Distiller elapsed disagrees with sacct's by a minute
        _sacct(
            "distiller-count-99001",
            DEFECT_JOB + 5,
            "00:30:00",
            "00:01:00",
            (base + hour, base + hour + 5, base + hour + 65),
        ),
        # malformed: a date that does not exist
        _sacct(
            "distiller-count-99002", DEFECT_JOB + 6, "00:30:00", "00:01:00", (base, base, base)
        ).replace("2023-03-01T10:00:00", "2023-02-30T10:00:00", 1),
    ]
    write_text(out / "slurm" / "defects" / "sacct_defects.txt", lines)
    write_text(
        out / "distiller_db" / "defects" / "128_128.csv",
        ["id,slurm_id,elapsed", f"99001,{DEFECT_JOB + 5},00:02:00"],
    )
    folder = out / "ncem" / "rec_status" / "defects"
    statuses = {
        # receiver 3's clock 45 s behind the others
        (9001, base): (0, 0, 1, 45),
        # receiver 3 never reported
        (9002, base + hour): (0, 1, 1),
        # the counter was reset: scan 9003 again, six months later, in another folder
        (9003, base + 2 * hour): (0, 0, 1, 1),
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
    # malformed: a data file whose name breaks the pattern, beside an unrelated file
    write_text(
        out / "ncem" / "defects" / "data_files_defects.txt",
        [f"/mnt/nvmedata1/data_scanXYZ_00.data|{base}", f"/mnt/nvmedata1/notes.txt|{base}"],
    )


def write_demo(out: Path, scale: int = 1, seed: int = 0) -> Path:
    """Write a synthetic dataset in the native formats under `out` plus `out/turnaround.toml`.

    Return the config path. The same (scale, seed) always gives byte-identical files.
    """
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, not {scale}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Separate streams, all from the seed: what does not depend on the scale (the extraction
    # windows, the experiments, the stempy log) comes out the same at every scale.
    rng = random.Random(seed)
    windows_rng = random.Random(f"{seed}/windows")
    lab = random.Random(f"{seed}/experiments")
    seq = itertools.count(1)  # creation order of jobs

    windows = sacct_windows(windows_rng)
    routine = routine_scans(rng, scale, windows)
    count_jobs: list[Job] = []
    for scan in routine:
        scan.jobs = scan_jobs(rng, seq, scan)
        count_jobs += scan.jobs
    jobs = count_jobs + other_jobs(rng, seq, round(OTHER_JOB_RATE * len(count_jobs)))
    number_jobs(rng, jobs)
    write_sacct(out, windows, jobs)
    write_distiller(out, rng, routine)

    kept = sorted(
        rng.sample(routine, min(len(routine), REC_STATUS_ROUTINE_PER_SCALE * scale)),
        key=lambda s: s.number,
    )
    with_data = [s for s in kept if rng.random() < ROUTINE_DATA_FILE_RATE]
    with_counted = [s for s in kept if rng.random() < ROUTINE_COUNTED_RATE]
    write_rec_status(out, rng, kept)
    write_data_files(out, 1, rng, with_data, "epoch")
    write_routine_counted(out, rng, with_counted)

    streaming = [scan for e in STREAMING for scan in experiment_scans(lab, e)]
    offload = [scan for e in OFFLOAD for scan in experiment_scans(lab, e)]
    write_rec_status(out, lab, streaming + offload)
    write_data_files(out, 2, lab, [s for s in offload if s.size >= 512], "find")
    write_data_files(out, 3, lab, [s for s in offload if s.size < 512], "stat_y")
    write_streaming_counted(out, lab, streaming)
    write_stempy(out, lab)
    write_defects(out)

    config = out / "turnaround.toml"
    config.write_text(CONFIG, encoding="utf-8", newline="\n")
    return config
