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

A regression is planted too, for `turnaround check` to find: from Monday 2023-10-09 (ISO week
2023-W41) to the end of the routine data (2023-10-31, W44), every good count job hangs until
a stall of 560-580 s clears (`jobs.regression_elapsed`), so file transfer's time to data rises
to about 10 minutes for every size (several times its usual p90 for the small sizes, about
1.3 x for 1024 x 1024). `marts.weekly_trends` flags those weeks for file transfer and the
30-day `file_transfer_p90` level (600 s, error) is breached, while the other default levels,
`file_transfer_1024_p90` (720 s) included, stay met. The stall has its own stream, so only the
files covering those weeks differ from a demo without it: the sacct files of the windows
overlapping them, the Distiller exports and the routine counted-file listing
(`nersc/counted_files_3.txt`). Check it a day after the newest records
(`turnaround check --as-of 2023-11-01`); at today's clock every source is also stale.

The output is a pure function of (scale, seed): `random.Random` streams seeded from `seed`, no
clock, no unordered iteration. The windows, the experiments and the stempy log have streams of
their own, so they are the same at every scale for a given seed. `out` should be empty or
absent; files already there are overwritten, not removed.
"""

from __future__ import annotations

import random
from pathlib import Path

from turnaround.demo.config import write_config
from turnaround.demo.defects import write_defects
from turnaround.demo.distiller import write_distiller
from turnaround.demo.experiments import OFFLOAD, STREAMING, experiment_scans
from turnaround.demo.jobs import slurm_jobs
from turnaround.demo.listings import (
    write_data_files,
    write_routine_counted,
    write_streaming_counted,
)
from turnaround.demo.params import (
    MAX_SCALE,
    REC_STATUS_ROUTINE_PER_SCALE,
    ROUTINE_COUNTED_RATE,
    ROUTINE_DATA_FILE_RATE,
)
from turnaround.demo.rec_status import write_rec_status
from turnaround.demo.routine import routine_scans
from turnaround.demo.slurm import write_sacct
from turnaround.demo.stempy import write_stempy
from turnaround.demo.windows import Window, sacct_windows


def write_routine(
    out: Path, rng: random.Random, stall: random.Random, scale: int, windows: list[Window]
) -> None:
    """The routine scans: their sacct and Distiller records, then receiver status files for a
    sample of them, with data files listed for some and counted files for others. `stall` is
    the planted regression's stream."""
    routine = routine_scans(rng, scale, windows)
    write_sacct(out, windows, slurm_jobs(rng, stall, routine))
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


def write_experiments(out: Path, lab: random.Random) -> None:
    """The streaming and offload experiments' files, then the stempy log, from one stream."""
    streaming = [scan for e in STREAMING for scan in experiment_scans(lab, e)]
    offload = [scan for e in OFFLOAD for scan in experiment_scans(lab, e)]
    write_rec_status(out, lab, streaming + offload)
    write_data_files(out, 2, lab, [s for s in offload if s.size >= 512], "find")
    write_data_files(out, 3, lab, [s for s in offload if s.size < 512], "stat_y")
    write_streaming_counted(out, lab, streaming)
    write_stempy(out, lab)


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
    # The regression's own stream, so planting it changes no other draw.
    stall = random.Random(f"{seed}/regression")

    write_routine(out, rng, stall, scale, sacct_windows(windows_rng))
    write_experiments(out, lab)
    write_defects(out)
    return write_config(out)
