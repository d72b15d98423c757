"""What the benchmark (bench/run.py) measures at one demo scale: its stages and the references
the rec_status loader and the file listings are set against."""

from __future__ import annotations

import statistics
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


@dataclass
class EngineBuild:
    """One `turnaround build --config F` of a loaded warehouse on one engine (bench/spark.py):
    the whole process, the rows in raw it builds from (the ledger), the nodes dbt ran."""

    engine: str  # "DuckDB", "Spark local[2]", "Spark cluster"
    scale: int | None  # demo scale; None: the empty warehouse (no inputs)
    rows: int
    nodes: int
    run: Timed


@dataclass
class SparkStart:
    """What one Spark mode costs before any model: a Python process that creates the
    SparkSession (the build's master and settings) and stops it, median of its whole-process
    wall; in other processes, `select 1` and a first job right after the session started."""

    engine: str
    session: Timed
    select_1: float
    first_job: float


@dataclass(frozen=True)
class Trend:
    """An engine's build time as a line, fixed + per_row x rows in raw (least squares over its
    builds at the demo scales)."""

    engine: str
    fixed: float
    per_row: float
    largest: int  # the largest scale it was fitted on
    level: float  # its mean wall over those builds


@dataclass
class SparkResult:
    """The Spark section: every build, the fixed costs, the cluster's own start."""

    builds: list[EngineBuild] = field(default_factory=list)
    starts: list[SparkStart] = field(default_factory=list)
    cluster_start: float | None = None
    seconds: float = 0.0
    load_before: str = ""
    load_after: str = ""

    def build(self, engine: str, scale: int | None) -> EngineBuild | None:
        """The build of `engine` at `scale` (None: the empty warehouse), if it ran."""
        return next((b for b in self.builds if b.engine == engine and b.scale == scale), None)

    @property
    def rows_per_x1(self) -> float:
        """Rows in raw at x1, the published volume (by the smallest scale measured)."""
        smallest = min((b for b in self.builds if b.scale), key=lambda b: b.scale or 0)
        return smallest.rows / (smallest.scale or 1)

    def trend(self, engine: str) -> Trend | None:
        """The engine's line through its builds at the demo scales (None: under two scales)."""
        points = [(b.rows, b.run.wall) for b in self.builds if b.engine == engine and b.scale]
        if len({rows for rows, _ in points}) < 2:
            return None
        mean_rows = statistics.fmean(rows for rows, _ in points)
        mean_wall = statistics.fmean(wall for _, wall in points)
        spread = sum((rows - mean_rows) ** 2 for rows, _ in points)
        slope = sum((rows - mean_rows) * (wall - mean_wall) for rows, wall in points) / spread
        largest = max(b.scale or 0 for b in self.builds if b.engine == engine)
        return Trend(engine, mean_wall - slope * mean_rows, slope, largest, mean_wall)

    @property
    def scales(self) -> list[int]:
        """The demo scales built."""
        return sorted({b.scale for b in self.builds if b.scale})
