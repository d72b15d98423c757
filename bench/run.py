"""`make bench`: time the pipeline on the published data and on demo data at x1, x10 and x100 of
its volume, and write bench/RESULTS.md. Not a test: CI does not run it (it takes long at x100).

Measures, in one run on this machine, each stage as its own `turnaround` process:

- the published data (read where it is, never copied): first load, dbt build, report, and a
  no-op refresh (nothing new; target: at most 5 s);
- per demo scale (`turnaround demo --scale N`): each loader (`turnaround load SOURCE`, one per
  source, into a fresh warehouse), `turnaround build`, a full `turnaround refresh` on a fresh
  warehouse with the newest day held back (bench/oneday.py), and the incremental refresh after
  putting that day back (target at x100: at most 15% of the full refresh): wall time, files/s
  and rows/s from the ledger raw.loads, peak RSS (target at x100: full refresh at most 2 GB);
- the rec_status JSON loader against references (bench/reference.py): a plain Python read of
  every status file (target at x100: loader at most 1.5x that floor), `os.stat` of the tree
  (the walk floor, against a no-op reload), and the analysis notes' `cat | jq` + `date` loop
  over a 1,000-file sample (target at x100: the loader 1000x faster per file);
- the pull from Distiller's PostgreSQL database at x100 the published rows (bench/distiller.py:
  a throwaway PostgreSQL server): first pull, a pull with nothing changed, a pull after one job
  changed (no target).

    .venv/bin/python bench/run.py [--scales 1,10,100] [--seed 0] [--work DIR] [--keep]
        [--distiller-scale 100] [--skip-distiller]

Needs jq, bash and GNU date for the cat|jq reference. Demo data goes to a temporary folder under
/tmp (or under --work DIR) and is removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import reference  # noqa: E402
from bench.oneday import HeldBack, hold_back_day, manifest, restore  # noqa: E402
from loaders.config import SOURCES  # noqa: E402
from tests.conftest import INPUTS, write_published_config  # noqa: E402

if TYPE_CHECKING:
    from bench.distiller import DistillerResult

TURNAROUND = str(Path(sys.executable).with_name("turnaround"))
DBT = str(Path(sys.executable).with_name("dbt"))
REPEATS = 3  # published data: report and no-op refresh, median of
# the parts of an incremental refresh that do not shrink with the new data, timed apart
FLOOR_STAGES = (
    ("load, nothing new", "load"),
    ("dbt build, nothing new", "build"),
    ("report", "report"),
)
SAMPLE = 1000  # files for the cat|jq loop
TARGET_SCALE = 100
GB = 10**9
MIB = 2**20


# --------------------------------------------------------------------------- running commands


@dataclass(frozen=True)
class Timed:
    """One `turnaround` command: wall seconds, peak RSS, exit code, where its output went."""

    wall: float
    rss_mib: float
    code: int
    log: Path


def timed(log: Path, *args: str, program: str = TURNAROUND) -> Timed:
    """Run `turnaround ARGS` (or another program) as a child process; output to `log`.

    Peak RSS is ru_maxrss of os.wait4 on the child: Linux gives the largest resident set of the
    child and of every descendant it waited for (dbt runs as a subprocess turnaround waits
    for), i.e. the biggest single process, not a sum of processes alive at the same time.
    Exit 1 of build or refresh (a dbt test at error severity failed) is recorded; any other
    failure (or a Python traceback, which also exits 1) stops the bench.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        child = subprocess.Popen([program, *args], stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    crashed = "Traceback (most recent call last)" in log.read_text(errors="replace")
    if code != 0 and (crashed or code != 1 or args[0] not in ("build", "refresh")):
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
        raise SystemExit(f"{Path(program).name} {' '.join(args)} failed ({code}):\n{tail}")
    return Timed(wall, usage.ru_maxrss * 1024 / MIB, code, log)


def reported_seconds(log: Path, source: str) -> float:
    """The seconds `turnaround load` reports for one source (its line ends `; 1.23 s`)."""
    for line in log.read_text(encoding="utf-8").splitlines():
        found = re.match(rf"\s*{source}\s.*; ([0-9.]+) s$", line)
        if found:
            return float(found.group(1))
    raise SystemExit(f"bench: {log} reports no time for {source}")


def has_flag(command: str, flag: str) -> bool:
    """Whether `turnaround COMMAND --help` mentions the flag (the CLI may gain flags)."""
    done = subprocess.run(
        [TURNAROUND, command, "--help"], capture_output=True, text=True, check=False
    )
    return flag in done.stdout


# --------------------------------------------------------------------------- the warehouse


def last_load_id(warehouse: Path) -> int:
    """The newest load id in the ledger (0 before the first load)."""
    if not warehouse.exists():
        return 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (value,) = con.execute("select coalesce(max(load_id), 0) from raw.loads").fetchone() or (0,)
    return int(value)


def ledger(warehouse: Path, after: int, source: str | None = None) -> tuple[int, int]:
    """Files and rows the loads after load id `after` wrote (of one source, or all)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files, rows = con.execute(
            "select count(*), coalesce(sum(rows), 0) from raw.loads "
            "where load_id > ? and (? is null or source = ?) and status in ('loaded', 'replaced')",
            [after, source, source],
        ).fetchone() or (0, 0)
    return int(files), int(rows)


def write_config(data: Path, warehouse: Path, dest: Path) -> Path:
    """The demo's turnaround.toml with absolute globs and another warehouse, at `dest` (outside
    the data, so reports and dbt output beside it stay out of the tree)."""
    spec = tomllib.loads((data / "turnaround.toml").read_text(encoding="utf-8"))

    def toml(value: object) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(toml(item) for item in value) + "]"
        text = str(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'

    lines = [f"warehouse = {toml(warehouse)}", f"timezone = {toml(spec['timezone'])}"]
    for entry in spec["inputs"]:
        lines += ["", "[[inputs]]"]
        for key, value in entry.items():
            if key == "paths":
                value = [p if Path(p).is_absolute() else str(data / p) for p in value]
            lines.append(f"{key} = {toml(value)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def fresh(warehouse: Path) -> None:
    """Remove a warehouse (and its WAL) so the next command starts from nothing."""
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- results


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
        """What an incremental refresh costs whatever the new data: the nothing-new stages,
        less what one refresh process pays once and they paid each: the interpreter's start
        (all but one of them) and pandas' import (load and report both import it)."""
        runs = [self.stage_named(stage).run.wall for stage, _ in FLOOR_STAGES]
        return sum(runs) - (len(runs) - 1) * startup - pandas


# --------------------------------------------------------------------------- one scale


def bench_scale(scale: int, seed: int, root: Path, full_refresh_flag: list[str]) -> ScaleResult:
    """Generate the demo at `scale` under root/x<scale> and time every stage on it."""
    result = ScaleResult(scale)
    base = root / f"x{scale}"
    data, logs = base / "data", base / "logs"
    print(f"x{scale}: generating the demo data", flush=True)
    demo = timed(
        logs / "demo.log", "demo", "--out", str(data), "--scale", str(scale), "--seed", str(seed)
    )
    original = manifest(data)
    result.tree_files = len(original)
    result.stages.append(Stage("generate the data (turnaround demo)", demo, len(original)))
    reference.warm_page_cache(data)
    time_loaders(result, data, base)
    time_refreshes(result, data, base, original, full_refresh_flag)
    return result


def time_loaders(result: ScaleResult, data: Path, base: Path) -> None:
    """Each loader in turn into a fresh warehouse (each source's raw table starts empty), the
    rec_status references around its loader, then dbt build on that warehouse."""
    config = write_config(data, base / "loaders" / "warehouse.duckdb", base / "loaders.toml")
    warehouse = base / "loaders" / "warehouse.duckdb"
    logs, rec_status_dir = base / "logs", data / "ncem" / "rec_status"
    fresh(warehouse)
    for source in SOURCES:
        print(f"x{result.scale}: load {source}", flush=True)
        before = last_load_id(warehouse)
        args = ("load", "--config", str(config), source)
        if source != "rec_status":
            run = timed(logs / f"load-{source}.log", *args)
            result.stages.append(Stage(f"load {source}", run, *ledger(warehouse, before, source)))
            continue
        floor_before, _, _ = reference.read_floor(rec_status_dir)
        run = timed(logs / f"load-{source}.log", *args)
        floor_after, _, _ = reference.read_floor(rec_status_dir)
        stat_seconds, stat_files = reference.stat_floor(rec_status_dir)
        noop = timed(logs / "load-rec_status-again.log", *args)
        files, rows = ledger(warehouse, before, source)
        result.stages.append(Stage(f"load {source}", run, files, rows))
        dated = [p for p in reference.rec_status_files(rec_status_dir) if "defects" not in p.parts]
        sample = reference.sample(dated, SAMPLE)
        print(f"x{result.scale}: cat|jq loop over {len(sample)} files", flush=True)
        result.reference = RecStatusReference(
            files=files,
            wall=run.wall,
            loader=reported_seconds(run.log, source),
            floor_before=floor_before,
            floor_after=floor_after,
            stat_floor=stat_seconds,
            stat_files=stat_files,
            noop_reload=reported_seconds(noop.log, source),
            jq_files=len(sample),
            jq_seconds=reference.cat_jq_seconds(sample, base / "cat-jq"),
        )
    print(f"x{result.scale}: dbt build", flush=True)
    build = timed(logs / "build.log", "build", "--config", str(config), "--quiet")
    result.stages.append(Stage("dbt build", build, None, ledger(warehouse, 0)[1]))
    listing = reported_seconds(logs / "load-ncem_data_files.log", "ncem_data_files")
    result.walk = time_walk(result.scale, data, base, listing)


def time_walk(scale: int, data: Path, base: Path, listing: float) -> WalkReference:
    """Make the tree of data files the NCEM listings name (empty files at their listed paths,
    under base/walk), then time the loader walking it (format dir) between two plain stat
    passes over it."""
    tree = base / "walk"
    paths: set[str] = set()
    for listing_file in sorted((data / "ncem").glob("data_files*.txt")):
        for line in listing_file.read_text(encoding="utf-8", errors="replace").splitlines():
            path = line.rpartition("|")[0]
            name = os.path.basename(path)
            if name.startswith("data_scan") and name.endswith(".data") and ".." not in path:
                paths.add(path.lstrip("/"))
    for path in sorted(paths):
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).touch()
    names = paths
    config = base / "walk.toml"
    config.write_text(
        f'warehouse = "{base / "walk.duckdb"}"\ntimezone = "UTC"\n\n[[inputs]]\n'
        f'source = "ncem_data_files"\nformat = "dir"\npaths = ["{tree}"]\n',
        encoding="utf-8",
    )
    print(f"x{scale}: walk of {len(names):,} data files (format dir)", flush=True)
    reference.warm_page_cache(tree)
    floor_before, _ = reference.stat_floor(tree)
    run = timed(base / "logs" / "load-walk.log", "load", "--config", str(config))
    floor_after, _ = reference.stat_floor(tree)
    walk = reported_seconds(run.log, "ncem_data_files")
    return WalkReference(len(names), walk, listing, floor_before, floor_after)


def time_refreshes(
    result: ScaleResult,
    data: Path,
    base: Path,
    original: dict[str, str],
    full_refresh_flag: list[str],
) -> None:
    """A full refresh on a fresh warehouse without the newest day, then the incremental one
    after putting it back (and checking the tree is again what the generator wrote)."""
    config = write_config(data, base / "refresh" / "warehouse.duckdb", base / "refresh.toml")
    warehouse = base / "refresh" / "warehouse.duckdb"
    logs = base / "logs"
    fresh(warehouse)
    held: HeldBack = hold_back_day(data, base / "held-back", timezone_of(data))
    result.day, result.held = held.day.isoformat(), held.describe()
    result.held_files = held.files_moved()
    result.held_lines = sum(len(lines.lines) for lines in held.lines)
    print(f"x{result.scale}: full refresh (newest day {held.day} held back)", flush=True)
    try:
        full = timed(
            logs / "refresh-full.log", "refresh", "--config", str(config), *full_refresh_flag
        )
    finally:
        restore(held)
    result.stages.append(Stage(f"full refresh ({held.day} held back)", full, *ledger(warehouse, 0)))
    result.identical = manifest(data) == original
    if not result.identical:
        raise SystemExit(f"bench: {data} differs from what the generator wrote after restoring")
    print(f"x{result.scale}: incremental refresh (+ {held.day})", flush=True)
    before = last_load_id(warehouse)
    incremental = timed(logs / "refresh-incremental.log", "refresh", "--config", str(config))
    result.stages.append(
        Stage(f"incremental refresh (+ {held.day})", incremental, *ledger(warehouse, before))
    )
    # what any refresh that brings new data costs whatever the data: the change detection over
    # the whole tree, a dbt build and the report, each with nothing new
    print(f"x{result.scale}: load, dbt build and report with nothing new", flush=True)
    for stage, command in FLOOR_STAGES:
        run = timed(logs / f"floor-{command}.log", command, "--config", str(config))
        result.stages.append(Stage(stage, run))


def timezone_of(data: Path) -> str:
    """The facility zone the demo's config names."""
    spec = tomllib.loads((data / "turnaround.toml").read_text(encoding="utf-8"))
    return str(spec["timezone"])


# --------------------------------------------------------------------------- published data


def bench_published(root: Path) -> list[tuple[str, Timed, str]]:
    """The published data: first load, build, report (median), no-op refresh (median)."""
    folder = root / "published"
    config = write_published_config(folder)
    logs = folder / "logs"
    print("published: load, build, report, no-op refresh", flush=True)
    rows = [
        ("load (first time)", timed(logs / "load.log", "load", "--config", str(config)), "-"),
        ("dbt build", timed(logs / "build.log", "build", "--config", str(config), "--quiet"), "-"),
    ]
    reports = [
        timed(
            logs / f"report-{i}.log",
            "report",
            "--config",
            str(config),
            "--out",
            str(folder / "report"),
        )
        for i in range(REPEATS)
    ]
    report = median_run(reports)
    rows.append((f"report (median of {REPEATS})", report, verdict(report.wall < 10, "< 10 s")))
    noops = [
        timed(logs / f"refresh-{i}.log", "refresh", "--config", str(config)) for i in range(REPEATS)
    ]
    noop = median_run(noops)
    rows.append((f"no-op refresh (median of {REPEATS})", noop, verdict(noop.wall <= 5, "<= 5 s")))
    return rows


def median_run(runs: list[Timed]) -> Timed:
    """The run of median wall time (peak RSS: the largest of the runs)."""
    middle = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
    wall = statistics.median(r.wall for r in runs)
    return Timed(wall, max(r.rss_mib for r in runs), max(r.code for r in runs), middle.log)


# --------------------------------------------------------------------------- RESULTS.md


def verdict(ok: bool, target: str) -> str:
    return f"{target}: {'met' if ok else 'MISSED'}"


def per_second(count: int | None, wall: float) -> str:
    return "-" if count is None or wall <= 0 else f"{count / wall:,.0f}"


def number(count: int | None) -> str:
    return "-" if count is None else f"{count:,}"


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
        f"{memory:.0f} GiB, Python {platform.python_version()}"
    )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def escape(cell: str) -> str:
    """A Markdown table cell: its `|` escaped."""
    return cell.replace("|", "\\|")


def table(header: Iterable[str], align: str, rows: Iterable[Iterable[str]]) -> list[str]:
    """A Markdown table; `align` has one character per column, `l` or `r`."""
    head = [escape(cell) for cell in header]
    rule = ["---:" if a == "r" else "---" for a in align]
    return [
        f"| {' | '.join(head)} |",
        f"| {' | '.join(rule)} |",
        *(f"| {' | '.join(escape(cell) for cell in row)} |" for row in rows),
    ]


def targets(results: list[ScaleResult], startup: float, pandas: float) -> list[str]:
    """The x100 targets, met or MISSED (or not run, with the largest scale's figure)."""
    at = {r.scale: r for r in results}
    target = at.get(TARGET_SCALE)
    shown = target or (max(results, key=lambda r: r.scale) if results else None)
    rows: list[list[str]] = []

    def add(name: str, value: str, ok: bool) -> None:
        if target is not None:
            rows.append([name, value, "met" if ok else "MISSED"])
        else:
            assert shown is not None
            rows.append([name, f"x{shown.scale}: {value}", f"not run at x{TARGET_SCALE}"])

    if shown is not None:
        ref = shown.reference
        assert ref is not None
        speedup = ref.jq_per_file / ref.loader_per_file
        add(
            "rec_status JSON load >= 1000x faster per file than cat|jq",
            f"{speedup:,.0f}x ({ref.jq_per_file * 1e3:.2f} ms vs "
            f"{ref.loader_per_file * 1e6:.1f} µs per file)",
            speedup >= 1000,
        )
        add(
            "rec_status JSON load <= 1.5x the read floor",
            f"{ref.loader / ref.floor:.2f}x ({ref.loader:.2f} s vs {ref.floor:.2f} s)",
            ref.loader <= 1.5 * ref.floor,
        )
        walk = shown.walk
        assert walk is not None
        add(
            f"directory walk (format dir) of {walk.files:,} files <= 1.5x the stat floor",
            f"{walk.walk / walk.floor:.2f}x ({walk.walk:.2f} s vs {walk.floor:.2f} s)",
            walk.walk <= 1.5 * walk.floor,
        )
        add(
            f"stat listing (format stat) of {walk.files:,} files <= 1.5x the stat floor",
            f"{walk.listing / walk.floor:.2f}x ({walk.listing:.2f} s vs {walk.floor:.2f} s)",
            walk.listing <= 1.5 * walk.floor,
        )
        full, incremental = shown.stage_named("full"), shown.stage_named("incremental")
        share = incremental.run.wall / full.run.wall
        floor = shown.floor(startup, pandas)
        add(
            "incremental refresh (+1 day) <= 15% of the full refresh",
            f"{share:.0%} ({incremental.run.wall:.1f} s vs {full.run.wall:.1f} s); the same "
            f"commands with nothing new already take {floor / full.run.wall:.0%} "
            f"({floor:.1f} s, see below)",
            share <= 0.15,
        )
        add(
            "peak RSS of the full refresh <= 2 GB",
            f"{full.run.rss_mib * MIB / GB:.2f} GB ({full.run.rss_mib:,.0f} MiB)",
            full.run.rss_mib * MIB <= 2 * GB,
        )
    return table(["target (at x100)", "measured", "verdict"], "lll", rows)


def distiller_section(result: DistillerResult | None) -> list[str]:
    """The Distiller database pull (bench/distiller.py): a table and a reading; nothing when
    it did not run (--skip-distiller)."""
    if result is None:
        return []
    first, same, one = result.pulls
    return [
        f"## Distiller database pull (\N{MULTIPLICATION SIGN}{result.scale}, "
        f"{result.pairs:,} pairs)",
        "",
        "An era-2 Distiller database in a throwaway PostgreSQL 15 server (bench/distiller.py): "
        f"the {result.published_pairs:,} (scan, job) pairs of the published rows and of the "
        f"rows that must not count, copied x{result.scale} in SQL (ids offset, scan metadata "
        "kept), then VACUUM ANALYZE; each pull is the whole `turnaround load --config F "
        "distiller_db` process (input format `postgres`, the SELECT-only role over 127.0.0.1), "
        "and after each `raw.distiller_pulls` and `raw.distiller_db` must hold every pair. "
        "pairs/s: the pairs the pull read / its wall time. No target.",
        "",
        *table(
            ["pull", "wall s", "pairs/s", "peak RSS MiB"],
            "lrrr",
            (
                [
                    pull.name,
                    f"{pull.run.wall:.2f}",
                    f"{pull.pairs_per_second:,.0f}",
                    f"{pull.run.rss_mib:,.0f}",
                ]
                for pull in result.pulls
            ),
        ),
        "",
        f"Reading: the server hashes all {result.pairs:,} pairs first, so a pull that finds "
        f"nothing changed reads one row and takes {same.run.wall:.1f} s against "
        f"{first.run.wall:.1f} s for the first and {one.run.wall:.1f} s when one job's change "
        f"replaces the whole snapshot, at most {max(p.run.rss_mib for p in result.pulls):,.0f}"
        " MiB.",
        "",
    ]


def render(
    published: list[tuple[str, Timed, str]],
    results: list[ScaleResult],
    args: argparse.Namespace,
    started: str,
    load_before: str,
    seconds: float,
    full_refresh_flag: list[str],
    startup: float,
    dbt_start: float,
    pandas: float,
    distiller: DistillerResult | None = None,
) -> str:
    noop = published[-1]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`bench/run.py --scales {args.scales} --seed {args.seed}`) "
        f"on {started}, in {seconds / 60:.1f} min, on: {machine()}; load average "
        f"(1/5/15 min) {load_before} at the start. Not run by CI. Starting `turnaround` "
        f"(`turnaround load --help`: the imports, no work; median of {REPEATS}) takes "
        f"{startup:.2f} s, part of every wall time below.",
        "",
        "## Targets",
        "",
        *targets(results, startup, pandas),
        f"| no-op refresh of the published data <= 5 s | {noop[1].wall:.2f} s | "
        f"{'met' if noop[1].wall <= 5 else 'MISSED'} |",
        "",
        "## Published data",
        "",
        f"The inputs in `{INPUTS.relative_to(REPO.parent)}`, read in place.",
        "",
        *table(
            ["stage", "wall (s)", "target", "peak RSS (MiB)", "exit"],
            "lrlrr",
            (
                [stage, f"{run.wall:.2f}", target, f"{run.rss_mib:,.0f}", str(run.code)]
                for stage, run, target in published
            ),
        ),
        "",
        "## Demo data, per stage",
        "",
        "`turnaround demo --scale N` (x1 = the published volume). files and rows: what the "
        "command's loads wrote to the ledger `raw.loads` (status `loaded` or `replaced`); "
        "for dbt build, rows is every row in raw it builds from.",
        "",
        *table(
            [
                "scale",
                "stage",
                "wall (s)",
                "files",
                "rows",
                "files/s",
                "rows/s",
                "peak RSS (MiB)",
                "exit",
            ],
            "rlrrrrrrr",
            (
                [
                    f"x{r.scale}",
                    s.name,
                    f"{s.run.wall:.2f}",
                    number(s.files),
                    number(s.rows),
                    per_second(s.files, s.run.wall),
                    per_second(s.rows, s.run.wall),
                    f"{s.run.rss_mib:,.0f}",
                    str(s.run.code),
                ]
                for r in results
                for s in r.stages
            ),
        ),
        "",
        "## One more day",
        "",
        *table(
            [
                "scale",
                "held back",
                "files in tree",
                "full refresh (s)",
                "incremental (s)",
                "incremental / full",
                "tree restored byte-identical",
            ],
            "rlrrrrl",
            (
                [
                    f"x{r.scale}",
                    f"{r.day}: {r.held_files:,} files, {r.held_lines:,} lines",
                    f"{r.tree_files:,}",
                    f"{r.stage_named('full').run.wall:.2f}",
                    f"{r.stage_named('incremental').run.wall:.2f}",
                    f"{r.stage_named('incremental').run.wall / r.stage_named('full').run.wall:.0%}",
                    "yes (sha256 of every file)" if r.identical else "NO",
                ]
                for r in results
            ),
        ),
        "",
        *(f"- x{r.scale}, held back: {r.held}." for r in results),
        "",
        "## What an incremental refresh cannot shed",
        "",
        "After the incremental refresh, the three things it does are timed again with nothing "
        "new: `load` (the ledger's change detection: a stat of every file of every input), "
        "`build` (dbt: its start, the parse, every model and test; the incremental models "
        "find no changed partition) and `report`. floor = their sum less what one refresh "
        f"process pays once and they paid each: the start of two of them ({startup:.2f} s each) "
        f"and pandas' import, which load and report both need ({pandas:.2f} s): what a refresh "
        "that brings any new data at all costs. Starting dbt alone (`dbt --version`, median of "
        f"{REPEATS}) takes {dbt_start:.2f} s.",
        "",
        *table(
            [
                "scale",
                "full refresh (s)",
                "incremental (s)",
                "load, nothing new (s)",
                "dbt build, nothing new (s)",
                "report (s)",
                "floor (s)",
                "floor / full",
            ],
            "rrrrrrrr",
            (
                [
                    f"x{r.scale}",
                    f"{r.stage_named('full').run.wall:.2f}",
                    f"{r.stage_named('incremental').run.wall:.2f}",
                    *(f"{r.stage_named(stage).run.wall:.2f}" for stage, _ in FLOOR_STAGES),
                    f"{r.floor(startup, pandas):.2f}",
                    f"{r.floor(startup, pandas) / r.stage_named('full').run.wall:.0%}",
                ]
                for r in results
            ),
        ),
        "",
        "## rec_status JSON loader against its references",
        "",
        *table(
            [
                "scale",
                "files",
                "load process (s)",
                "loader (s)",
                "read floor before / after (s)",
                "loader / floor",
                "stat floor (s, files)",
                "no-op reload (s)",
                "no-op / stat floor",
            ],
            "rrrrrrrrr",
            (
                [
                    f"x{r.scale}",
                    f"{ref.files:,}",
                    f"{ref.wall:.2f}",
                    f"{ref.loader:.2f}",
                    f"{ref.floor_before:.3f} / {ref.floor_after:.3f}",
                    f"{ref.loader / ref.floor:.1f}x",
                    f"{ref.stat_floor:.3f} ({ref.stat_files:,})",
                    f"{ref.noop_reload:.2f}",
                    f"{ref.noop_reload / ref.stat_floor:.1f}x",
                ]
                for r in results
                if (ref := r.reference) is not None
            ),
        ),
        "",
        *table(
            [
                "scale",
                "cat|jq sample",
                "cat|jq (s)",
                "cat|jq per file (ms)",
                "loader per file (µs)",
                "cat|jq / loader",
            ],
            "rrrrrr",
            (
                [
                    f"x{r.scale}",
                    f"{ref.jq_files:,}",
                    f"{ref.jq_seconds:.2f}",
                    f"{ref.jq_per_file * 1e3:.2f}",
                    f"{ref.loader_per_file * 1e6:.1f}",
                    f"{ref.jq_per_file / ref.loader_per_file:,.0f}x",
                ]
                for r in results
                if (ref := r.reference) is not None
            ),
        ),
        "",
        "## File listings against the stat floor",
        "",
        *table(
            [
                "scale",
                "files",
                "stat floor before / after (s)",
                "walk, format dir (s)",
                "walk / floor",
                "listing, format stat (s)",
                "listing / floor",
            ],
            "rrrrrrr",
            (
                [
                    f"x{r.scale}",
                    f"{walk.files:,}",
                    f"{walk.floor_before:.3f} / {walk.floor_after:.3f}",
                    f"{walk.walk:.2f}",
                    f"{walk.walk / walk.floor:.2f}x",
                    f"{walk.listing:.2f}",
                    f"{walk.listing / walk.floor:.2f}x",
                ]
                for r in results
                if (walk := r.walk) is not None
            ),
        ),
        "",
        *distiller_section(distiller),
        "## How each number was taken",
        "",
        "- **wall**: `time.perf_counter()` around one `turnaround` child process, from start to "
        "reaped: it includes starting Python, opening the warehouse, and for build and refresh "
        "starting dbt (and refresh's report). Output goes to a log file, not the terminal.",
        "- **peak RSS**: `ru_maxrss` of `os.wait4` on that child. Linux reports the largest "
        "resident set of the child and of every descendant it waited for, so dbt (a subprocess "
        "`turnaround` waits for) is covered; it is the largest single process, not the sum of "
        "processes alive at once. (`getrusage(RUSAGE_CHILDREN)` deltas cannot replace it: "
        "`ru_maxrss` is a maximum over all children ever reaped, not a total.)",
        "- **files, rows**: from the ledger `raw.loads` of the warehouse after the command: "
        "the rows with a load id above the last one before it, status `loaded` or `replaced` "
        "(unchanged files add none). files/s and rows/s divide them by the command's wall time.",
        "- **loaders**: one `turnaround load --config F SOURCE` per source, in the order shown, "
        "into a warehouse created by the first of them: each source loads into its empty raw "
        "table. Then `turnaround build --config F --quiet` on that warehouse.",
        "- **full refresh**: `turnaround refresh"
        + (f" {' '.join(full_refresh_flag)}" if full_refresh_flag else "")
        + "` on a fresh warehouse with the newest day held back; **incremental**: "
        "`turnaround refresh` after putting the day back (the ledger loads only new or changed "
        "files; dbt builds as it always does). Held back (bench/oneday.py): the newest "
        "`ncem/rec_status/<date>/` folder; the sacct files whose window covers that day, whole; "
        "the Distiller export rows of jobs sacct shows submitted that day; the stat listing "
        "lines whose mtime is on that day. Files and folders are moved aside, lines kept with "
        "their line numbers; a split that would not merge back to the original bytes stops the "
        "bench, and after restoring, the sha256 of every file of the tree must equal the "
        "generator's.",
        "- **read floor**: one plain Python pass (`os.walk`, `open`, `read`) over every "
        "`4dstem_rec_status_*.json`, timed right before and right after `turnaround load "
        "rec_status`; loader / floor uses their mean. The whole tree was read once, untimed, "
        "after generating it, so the floor passes and the loader all find the files in the "
        "page cache. **loader** is the time `turnaround load` reports for the source (finding, "
        "stat'ing, reading, hashing, parsing and writing its files, in the process that also "
        "forks the workers), without the interpreter's start (imports included) and the "
        "commit; **load process** is the wall time of the whole command.",
        "- **stat floor**: `os.walk` plus `os.stat` of every file of `ncem/rec_status`, right "
        "after the read floor; **no-op reload**: `turnaround load rec_status` again with "
        "nothing new, what the ledger's change detection costs against that walk floor.",
        "- **directory walk / stat listing**: a tree of one empty file per data file the NCEM "
        "listings name (at its listed path) is made after the loaders; `turnaround load` of "
        "`ncem_data_files` with format `dir` over it (the loader walks and stats the tree and "
        "loads its listing) is timed between two `os.walk` + `os.stat` passes over the same "
        "tree (the stat floor, mean of the two); the stat listing is the `load "
        "ncem_data_files` stage above (the text listings of the same files), set against the "
        "same floor: what loading a listing costs against making it.",
        "- **cat|jq**: the loop of `../shared/seed/analysis-notes.md` (`raw_time=$(cat $file "
        "| jq -r '.time')`, `iso_time=$(date -d \"$raw_time\" --utc "
        "'+%Y-%m-%dT%H:%M:%S+00:00')`, one CSV line appended per file) run by bash over "
        f"{SAMPLE:,} status files spread evenly over the sorted tree; per file = its wall "
        "time / files; loader per file = the loader's reported time / files it loaded. "
        "Needs `jq` (`sudo apt-get install jq`), bash and GNU date; the bench stops at once "
        "without them.",
        "- **published data**: as before: load, `build --quiet`, then `report` and a no-op "
        f"`refresh` (load finds nothing new, dbt builds, the report is written) {REPEATS} "
        "times each, median wall time, largest RSS.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales",
        default="1,10,100",
        help="demo scales, comma-separated (default 1,10,100)",
    )
    parser.add_argument("--seed", type=int, default=0, help="demo seed (default 0)")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder for the generated data (default: a temporary folder under /tmp)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated data and warehouses"
    )
    parser.add_argument(
        "--distiller-scale",
        type=int,
        default=100,
        help="the Distiller database pull at this many times the published rows (default 100)",
    )
    parser.add_argument(
        "--skip-distiller",
        action="store_true",
        help="do not time the Distiller database pull (it needs the PostgreSQL server programs)",
    )
    args = parser.parse_args(argv)
    if args.distiller_scale < 1:
        parser.error("--distiller-scale: 1 or more")
    try:
        args.scale_list = [int(s) for s in args.scales.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--scales: not a list of integers: {args.scales}")
    if not args.scale_list or min(args.scale_list) < 1:
        parser.error("--scales: one or more scales of 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    reference.require_tools()
    started, load_before = time.strftime("%Y-%m-%d %H:%M"), load_average()
    begin = time.perf_counter()
    full_refresh_flag = ["--full-refresh"] if has_flag("refresh", "--full-refresh") else []
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="turnaround-bench-", dir=args.work or "/tmp"))
    print(f"bench: working in {root}", flush=True)
    try:
        startup = median_run(
            [timed(root / "logs" / f"help-{i}.log", "load", "--help") for i in range(REPEATS)]
        ).wall
        dbt_start = median_run(
            [
                timed(root / "logs" / f"dbt-version-{i}.log", "--version", program=DBT)
                for i in range(REPEATS)
            ]
        ).wall
        python = [
            timed(root / "logs" / f"python-{i}.log", "-c", "pass", program=sys.executable)
            for i in range(REPEATS)
        ]
        with_pandas = [
            timed(root / "logs" / f"pandas-{i}.log", "-c", "import pandas", program=sys.executable)
            for i in range(REPEATS)
        ]
        pandas = median_run(with_pandas).wall - median_run(python).wall
        published = bench_published(root)
        results = [bench_scale(s, args.seed, root, full_refresh_flag) for s in args.scale_list]
        distiller = None
        if not args.skip_distiller:
            from bench.distiller import bench_distiller

            distiller = bench_distiller(root / "distiller", args.distiller_scale)
    finally:
        if args.keep:
            print(f"bench: kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    text = render(
        published,
        results,
        args,
        started,
        load_before,
        time.perf_counter() - begin,
        full_refresh_flag,
        startup,
        dbt_start,
        pandas,
        distiller,
    )
    out = REPO / "bench" / "RESULTS.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
