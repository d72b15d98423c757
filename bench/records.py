"""What the benchmark (bench/run.py) measures at one demo scale: its stages and the references
the rec_status loader and the file listings are set against."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.timing import Timed

# the parts of a refresh of one more day that do not shrink with the new data, timed apart
FLOOR_STAGES = (
    ("load, nothing new", "load"),
    ("dbt build, nothing new", "build"),
    ("report", "report"),
)
SAMPLE = 1000  # files for the cat|jq loop


@dataclass
class Stage:
    """One timed stage of one scale."""

    name: str
    run: Timed
    files: int | None = None
    rows: int | None = None


@dataclass
class RecStatusReference:
    """The rec_status JSON loader against its references, at one scale."""

    files: int  # status files the loader loaded
    wall: float  # wall seconds of the whole `turnaround load rec_status` process
    loader: float  # seconds the load itself reports for the source (no start-up, no commit)
    floor_before: float
    floor_after: float
    stat_floor: float
    stat_files: int
    noop_reload: float  # reported seconds of `turnaround load rec_status` with nothing new
    jq_files: int
    jq_seconds: float

    @property
    def floor(self) -> float:
        return (self.floor_before + self.floor_after) / 2

    @property
    def loader_per_file(self) -> float:
        return self.loader / self.files

    @property
    def jq_per_file(self) -> float:
        return self.jq_seconds / self.jq_files


@dataclass
class StatusProcess:
    """The status files' load as a user runs it, one whole `turnaround load --config F
    rec_status` process into a fresh warehouse, against one whole plain-read Python process
    over the same files (both start-up included; median wall of REPEATS each)."""

    layout: str  # "flat folder" or "dated tree"
    files: int
    floor: float
    load: float

    @property
    def ratio(self) -> float:
        return self.load / self.floor


@dataclass
class WalkReference:
    """File listings against the stat floor: a tree of as many (empty) data files as the NCEM
    listings name, walked by the loader (format `dir`), and the listings themselves (format
    `stat`), each against one plain `os.stat` pass over that tree."""

    files: int  # data files in the tree (the listings' lines that name one)
    walk: float  # reported seconds of `load ncem_data_files` with format dir
    listing: float  # reported seconds of `load ncem_data_files` with format stat (the text)
    floor_before: float
    floor_after: float

    @property
    def floor(self) -> float:
        return (self.floor_before + self.floor_after) / 2


@dataclass
class ScaleResult:
    """Everything measured at one demo scale."""

    scale: int
    tree_files: int = 0
    stages: list[Stage] = field(default_factory=list)
    reference: RecStatusReference | None = None
    processes: list[StatusProcess] = field(default_factory=list)
    walk: WalkReference | None = None
    held: str = ""
    day: str = ""
    held_files: int = 0
    held_lines: int = 0
    identical: bool = False

    def stage_named(self, prefix: str) -> Stage:
        """The stage whose name starts with prefix."""
        return next(s for s in self.stages if s.name.startswith(prefix))

    def floor(self, startup: float, pandas: float) -> float:
        """What a refresh of one more day costs whatever the new data: the nothing-new stages,
        less what one refresh process pays once and they paid each: the interpreter's start
        (all but one of them) and pandas' import (load and report both import it)."""
        runs = [self.stage_named(stage).run.wall for stage, _ in FLOOR_STAGES]
        return sum(runs) - (len(runs) - 1) * startup - pandas
