"""The synthetic demo dataset: `write_demo(out, scale, seed)` writes the 4D Camera (NCEM) ->
NERSC inputs in their native formats plus their `turnaround.toml` (described in `generate`).

Modules: `params` (profiles, calendar, rates), `times` (time formats), `model` (scans, jobs),
`windows` (sacct extractions), `routine` (routine scans), `jobs` (Slurm jobs, and the planted
regression), `experiments` (the experiment plan), the writers `slurm`, `distiller`,
`rec_status`, `listings` and `stempy` (with `files`), `defects` (planted defects), `config`
(`turnaround.toml`) and `generate` (`write_demo`, the entry point).
"""

from __future__ import annotations

from turnaround.demo.experiments import OFFLOAD, STREAMING, Experiment
from turnaround.demo.generate import write_demo
from turnaround.demo.params import MAX_SCALE

__all__ = ["MAX_SCALE", "OFFLOAD", "STREAMING", "Experiment", "write_demo"]
