"""The parameters of the demo: time zone, scan sizes, per-size profiles, calendar and rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/Los_Angeles")
SIZES = (128, 256, 512, 1024)
NS = 1_000_000_000
MAX_SCALE = 100  # the benchmark's largest volume
FIVE_DIGITS = 99_999  # counted file names hold 5-digit Distiller ids and scan numbers

SACCT_HEADER = "JobName|JobID|Timelimit|Elapsed|Submit|Start|End|ReqNodes|QOS|User|ExitCode"
COUNT_QOS = "realtime_m3795"
COUNT_TIMELIMIT = "00:30:00"
COUNTED_DIR = "/pscratch/sd/s/someone/counted"


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


ROUTINE_FIRST_DAY = date(2022, 8, 26)
ROUTINE_LAST_DAY = date(2023, 10, 31)
EXPERIMENT_DAYS = (date(2023, 10, 13), date(2023, 10, 17))  # first, last (inclusive)
DST_DAYS = (date(2022, 11, 6), date(2023, 3, 12))
BAD_QUEUE_DAYS = (date(2023, 2, 15), date(2023, 2, 17), date(2023, 6, 15))
LONG_JOB_START = datetime(2023, 5, 1, 10, 4, 11)  # a jupyter job running over a day
# The planted regression: from this Monday (2023-W41) to the end of the routine data, every good
# count job hangs until a stall of this many seconds (drawn per job) clears, so file transfer's
# time to data rises to about 10 minutes and the 30-day file_transfer_p90 level is breached.
REGRESSION_FIRST_DAY = date(2023, 10, 9)
REGRESSION_STALL = (560, 580)

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
