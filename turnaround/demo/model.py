"""The model: scans (acquisitions) and the Slurm jobs that count them."""

from __future__ import annotations

from dataclasses import dataclass, field

from turnaround.demo.params import COUNT_QOS, COUNT_TIMELIMIT


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
