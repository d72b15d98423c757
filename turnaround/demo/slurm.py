"""`slurm/sacct_<from>_<to>.txt`: `sacct --parsable2` output, one file per extraction window."""

from __future__ import annotations

from pathlib import Path

from turnaround.demo.files import write_text
from turnaround.demo.model import Job
from turnaround.demo.params import SACCT_HEADER
from turnaround.demo.times import duration, sacct_time
from turnaround.demo.windows import Window


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
