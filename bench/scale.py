"""The stages the benchmark (bench/run.py) times on the demo data at one scale: the loaders and
the rec_status references, the rec_status load as a whole process, the walk of the listed data
files, and the full refresh and the refresh of one more day; with the warehouse's ledger."""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path

import duckdb

from bench import reference
from bench.oneday import HeldBack, hold_back_day, manifest, restore
from bench.records import (
    FLOOR_STAGES,
    SAMPLE,
    RecStatusReference,
    ScaleResult,
    Stage,
    StatusProcess,
    WalkReference,
)
from bench.timing import REPEATS, median_run, reported_seconds, timed
from loaders.config import SOURCES

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


def timezone_of(data: Path) -> str:
    """The facility zone the demo's config names."""
    spec = tomllib.loads((data / "turnaround.toml").read_text(encoding="utf-8"))
    return str(spec["timezone"])


# --------------------------------------------------------------------------- the stages


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


def time_status_processes(result: ScaleResult, data: Path, base: Path) -> None:
    """`turnaround load rec_status` as a whole process against a whole plain-read process,
    for the dated tree the demo writes and for its files in one flat folder."""
    tree = data / "ncem" / "rec_status"
    flat = base / "rec_status_flat"
    files = reference.flat_copy(tree, flat)
    reference.warm_page_cache(flat)
    layouts = (
        ("flat folder", flat, f"{flat}/4dstem_rec_status_*.json", files),
        ("dated tree", tree, f"{tree}/**/4dstem_rec_status_*.json", None),
    )
    for layout, folder, pattern, count in layouts:
        print(f"x{result.scale}: rec_status load process, {layout}", flush=True)
        name = layout.replace(" ", "_")
        warehouse = base / f"status_{name}" / "warehouse.duckdb"
        config = base / f"status_{name}.toml"
        config.write_text(
            f'warehouse = "{warehouse}"\ntimezone = "{timezone_of(data)}"\n\n[[inputs]]\n'
            f'source = "rec_status"\nformat = "json"\npaths = ["{pattern}"]\n',
            encoding="utf-8",
        )
        floors, loads = [], []
        for i in range(REPEATS):
            floors.append(
                timed(
                    base / "logs" / f"read-process-{name}-{i}.log",
                    "-c",
                    reference.PLAIN_READ_PROCESS,
                    str(folder),
                    program=sys.executable,
                )
            )
            fresh(warehouse)
            log = base / "logs" / f"load-process-{name}-{i}.log"
            loads.append(timed(log, "load", "--config", str(config), "rec_status"))
        loaded = count if count is not None else ledger(warehouse, 0, "rec_status")[0]
        result.processes.append(
            StatusProcess(layout, loaded, median_run(floors).wall, median_run(loads).wall)
        )
    shutil.rmtree(flat, ignore_errors=True)


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
    """A full refresh on a fresh warehouse without the newest day, then the one of one more day
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
    print(f"x{result.scale}: refresh of one more day (+ {held.day})", flush=True)
    before = last_load_id(warehouse)
    one_day = timed(logs / "refresh-one-more-day.log", "refresh", "--config", str(config))
    result.stages.append(
        Stage(f"one more day: refresh (+ {held.day})", one_day, *ledger(warehouse, before))
    )
    # what any refresh that brings new data costs whatever the data: the change detection over
    # the whole tree, a dbt build and the report, each with nothing new
    print(f"x{result.scale}: load, dbt build and report with nothing new", flush=True)
    for stage, command in FLOOR_STAGES:
        run = timed(logs / f"floor-{command}.log", command, "--config", str(config))
        result.stages.append(Stage(stage, run))
    # what a monitor's call costs: the marts read-only, no dbt
    checks = [
        timed(logs / f"check-{n}.log", "check", "--config", str(config)) for n in range(REPEATS)
    ]
    result.stages.append(Stage("turnaround check", median_run(checks)))
