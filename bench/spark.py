"""The Spark engine in the benchmark (bench/run.py): `turnaround build --config F` of the same
loaded warehouse on DuckDB, on Spark in local mode (`local[2]`) and on a Spark standalone
cluster of two workers (tests/spark_cluster.py), at the demo scales asked (x1 and x10), each as
a user runs it, one whole process; then Spark's fixed costs apart (the session's start, a
first query, the cluster's own start, a build of an empty warehouse per dbt node) and a linear
trend per engine (time = fixed + per row x rows), with where Spark's would meet DuckDB's.

Order: every data set loaded first (once per scale, the file copied for each engine), then
DuckDB's builds, local mode's, and the cluster's (started last: no idle daemons beside them).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import jinja2
import yaml

from bench.markdown import load_average, table
from bench.records import EngineBuild, SparkResult, SparkStart, Trend
from bench.scale import fresh, ledger, write_config
from bench.timing import REPEATS, Timed, median_run, timed
from loaders.config import load_config
from tests.spark_cluster import new_cluster
from turnaround import spark as turnaround_spark

REPO = Path(__file__).resolve().parent.parent
DUCKDB, LOCAL, CLUSTER = "DuckDB", "Spark local[2]", "Spark cluster (2 workers)"
KEYS = {DUCKDB: "duckdb", LOCAL: "local", CLUSTER: "cluster"}  # their folders
LOCAL_MASTER = "local[2]"
WORKERS = 2
MILLION = 1e6
MARK = "bench-spark "
TIMES = ("select_1", "first_job")  # what the session script reports
#: start Spark's session as dbt-spark's session method does (Hive support, the profile's
#: settings; the config's in PYSPARK_SUBMIT_ARGS), then `select 1` and a first job, or not
SESSION_SCRIPT = f"""
import json, os, sys, time
spec = json.loads(sys.argv[1])
os.environ.update(spec["env"])
from pyspark.sql import SparkSession
builder = SparkSession.builder.enableHiveSupport()
for name, value in spec["conf"].items():
    builder = builder.config(name, value)
session = builder.getOrCreate()
times = {{}}
if spec["query"]:
    began = time.perf_counter()
    session.sql("select 1").collect()
    times["select_1"] = time.perf_counter() - began
    began = time.perf_counter()
    session.range(1000).selectExpr("sum(id)").collect()
    times["first_job"] = time.perf_counter() - began
session.stop()
print({MARK!r} + json.dumps(times), flush=True)
"""


# --------------------------------------------------------------------------- configs


def engine_config(
    duckdb_config: Path,
    base: Path,
    engine: str,
    master: str = "",
    conf: dict[str, str] | None = None,
) -> Path:
    """A copy of `duckdb_config` (its inputs and zone) for `engine` at base/<engine>.toml: the
    warehouse base/<engine>/warehouse.duckdb and, on Spark, the `[spark]` table with the
    master, warehouse_dir base/<engine>/spark-warehouse and `[spark.conf]`."""
    key = KEYS[engine]
    warehouse = base / key / "warehouse.duckdb"
    lines = [
        f"warehouse = {json.dumps(str(warehouse))}" if line.startswith("warehouse = ") else line
        for line in duckdb_config.read_text(encoding="utf-8").splitlines()
    ]
    text = "\n".join(lines) + "\n"
    if engine != DUCKDB:
        folder = base / key / "spark-warehouse"
        spark = ["", "[spark]", f"master = {json.dumps(master)}"]
        spark.append(f"warehouse_dir = {json.dumps(str(folder))}")
        if conf:
            spark.append("[spark.conf]")
            spark += [f"{json.dumps(name)} = {json.dumps(value)}" for name, value in conf.items()]
        text = f'engine = "spark"\n{text}' + "\n".join(spark) + "\n"
    dest = base / f"{key}.toml"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest


def copy_warehouse(source: Path, dest: Path) -> None:
    """The loaded DuckDB file (and its WAL, if any) copied for another engine's build."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fresh(dest)
    shutil.copy2(source, dest)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, dest.with_name(dest.name + ".wal"))


def nodes_built(config: Path) -> int:
    """The nodes of the last build (models, seeds, tests, hooks...): dbt's run_results as
    `turnaround` keeps it, dbt/last_build_results.json beside the warehouse."""
    warehouse = load_config(config).warehouse
    path = warehouse.parent / "dbt" / "last_build_results.json"
    return len(json.loads(path.read_text(encoding="utf-8"))["results"])


def profile_settings(env: dict[str, str]) -> dict[str, str]:
    """The Spark settings of profiles.yml's `spark` target, rendered as dbt renders them (its
    env_var() over `env`): what dbt-spark's session method passes to the session's builder."""
    profile = yaml.safe_load((REPO / "profiles.yml").read_text(encoding="utf-8"))
    params = profile["turnaround"]["outputs"]["spark"]["server_side_parameters"]

    def env_var(name: str, default: str | None = None) -> str:
        value = env.get(name, os.environ.get(name, default))
        if value is None:
            raise SystemExit(f"bench: profiles.yml needs {name}, which is not set")
        return value

    return {
        name: jinja2.Template(str(value)).render(env_var=env_var) for name, value in params.items()
    }


# --------------------------------------------------------------------------- measuring


def session_runs(config: Path, logs: Path, engine: str, repeats: int) -> SparkStart:
    """`repeats` processes that start the session and stop (median wall), and `repeats` that
    run `select 1` and a first job in it (medians of the in-process times)."""
    settings = load_config(config)
    env = turnaround_spark.environment(settings, settings.spark.warehouse_dir / "raw" / "none")
    spec = {"env": env, "conf": profile_settings(env)}
    key = KEYS[engine]

    def run(name: str, query: bool) -> Timed:
        argument = json.dumps({**spec, "query": query})
        return timed(logs / f"{name}.log", "-c", SESSION_SCRIPT, argument, program=sys.executable)

    print(f"spark: {engine}: session start, select 1 ({repeats} + {repeats} processes)", flush=True)
    sessions = [run(f"session-{key}-{i}", False) for i in range(repeats)]
    queries = [reported(run(f"query-{key}-{i}", True).log) for i in range(repeats)]
    select_1, first_job = (statistics.median(q[k] for q in queries) for k in TIMES)
    return SparkStart(engine, median_run(sessions), select_1, first_job)


def reported(log: Path) -> dict[str, float]:
    """The times the session script printed (its line starting MARK)."""
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(MARK):
            return {k: float(v) for k, v in json.loads(line[len(MARK) :]).items()}
    raise SystemExit(f"bench: {log} reports no times")


def build(result: SparkResult, engine: str, scale: int | None, config: Path, rows: int) -> None:
    """`turnaround build --config F` on one engine, as a whole process."""
    log = config.parent / "logs" / f"build-{KEYS[engine]}.log"
    print(f"spark: {engine}: build, {'empty' if scale is None else f'x{scale}'}", flush=True)
    run = timed(log, "build", "--config", str(config))
    result.builds.append(EngineBuild(engine, scale, rows, nodes_built(config), run))


def prepare(root: Path, data_root: Path, scales: list[int], seed: int) -> dict[int | None, Path]:
    """Per scale (None: no inputs), a loaded DuckDB warehouse in root/<xN or empty>/loaded/
    and its config, which each engine copies; the demo data in data_root/x<N>/data, generated
    unless there (bench/run.py's scales)."""
    configs: dict[int | None, Path] = {}
    for scale in [None, *scales]:
        base = root / ("empty" if scale is None else f"x{scale}")
        warehouse = base / "loaded" / "warehouse.duckdb"
        dest = base / "loaded.toml"
        fresh(warehouse)
        if scale is None:
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(
                f'warehouse = {json.dumps(str(warehouse))}\ntimezone = "UTC"\n', encoding="utf-8"
            )
        else:
            data = data_root / f"x{scale}" / "data"
            if not (data / "turnaround.toml").exists():
                print(f"spark: x{scale}: generating the demo data", flush=True)
                timed(
                    base / "logs" / "demo.log",
                    *("demo", "--out", str(data), "--scale", str(scale), "--seed", str(seed)),
                )
            write_config(data, warehouse, dest)
        print(f"spark: {base.name}: load", flush=True)
        timed(base / "logs" / "load.log", "load", "--config", str(dest))
        configs[scale] = dest
    return configs


def bench_spark(
    root: Path, data_root: Path, scales: list[int], seed: int, repeats: int = REPEATS
) -> SparkResult:
    """Everything of the Spark section; its files under root (data of a scale under
    data_root/x<N>/data, reused when there)."""
    turnaround_spark.check_installed()
    began = time.perf_counter()
    result = SparkResult(load_before=load_average())
    configs = prepare(root, data_root, scales, seed)
    rows = {
        scale: 0 if scale is None else ledger(config.parent / "loaded" / "warehouse.duckdb", 0)[1]
        for scale, config in configs.items()
    }

    def run_engine(engine: str, master: str = "", conf: dict[str, str] | None = None) -> None:
        """The session's start (on Spark), then the builds of every warehouse on `engine`."""
        if engine != DUCKDB:
            folder = root / "session"
            session = engine_config(configs[None], folder, engine, master, conf)
            result.starts.append(session_runs(session, root / "logs", engine, repeats))
        for scale, config in configs.items():
            base, key = config.parent, KEYS[engine]
            shutil.rmtree(base / key, ignore_errors=True)
            copy_warehouse(base / "loaded" / "warehouse.duckdb", base / key / "warehouse.duckdb")
            engine_run = engine_config(config, base, engine, master, conf)
            build(result, engine, scale, engine_run, rows[scale])

    run_engine(DUCKDB)
    run_engine(LOCAL, LOCAL_MASTER)
    print(f"spark: starting a standalone cluster of {WORKERS} workers", flush=True)
    with new_cluster(root / "cluster", workers=WORKERS) as cluster:
        result.cluster_start = cluster.started_in_s
        conf = cluster.client_conf()
        run_engine(CLUSTER, conf.pop("spark.master"), conf)
    result.load_after = load_average()
    result.seconds = time.perf_counter() - began
    return result


# --------------------------------------------------------------------------- the trend


def crossover(result: SparkResult, spark: Trend, duck: Trend) -> tuple[str, str]:
    """Where a Spark engine's trend would meet DuckDB's, or that it does not: a table cell and
    the sentence that says it plainly (no number forced)."""
    slopes = (
        f"{spark.per_row * MILLION:.2f} s per million rows against DuckDB's "
        f"{duck.per_row * MILLION:.2f}"
    )
    gap = spark.fixed - duck.fixed
    if spark.per_row <= 0 and duck.per_row <= 0:
        return "none stated (neither time grew)", (
            f"{spark.engine}: no crossover can be drawn from these scales on this machine: "
            f"neither engine's build time grew with the rows between x{min(result.scales)} and "
            f"x{spark.largest} ({slopes}: within the noise), so both are fixed cost here, "
            f"Spark's {spark.level:.0f} s against DuckDB's {duck.level:.0f} s "
            f"({spark.level / duck.level:.0f}x), and the rows do not narrow the gap."
        )
    if spark.per_row >= duck.per_row:
        return "does not (per-row slope not lower)", (
            f"{spark.engine}: does not overtake one DuckDB process on this machine at any "
            f"volume: its per-row slope is not lower ({slopes}), and its fixed cost is "
            f"{abs(gap):.0f} s {'above' if gap >= 0 else 'below'} DuckDB's."
        )
    if spark.per_row <= 0:
        rows = (spark.level - duck.fixed) / duck.per_row
        multiple = rows / result.rows_per_x1
        return f"not before {rows:,.0f} rows (x{multiple:,.0f}), if ever", (
            f"{spark.engine}: no crossover from its trend: its time did not grow from "
            f"x{min(result.scales)} to x{spark.largest} ({slopes}: the rows' cost is below the "
            "noise, under its fixed costs). Even if rows cost it nothing, DuckDB's line "
            f"reaches Spark's {spark.level:.0f} s only at about {rows:,.0f} rows, "
            f"x{multiple:,.0f} the published volume: no overtaking before that on this "
            "machine, and after it only if Spark's per-row cost, unmeasured here, is lower."
        )
    rows = gap / (duck.per_row - spark.per_row)
    if rows <= 0:
        return "every volume", f"{spark.engine}: faster than DuckDB at every volume ({slopes})."
    multiple = rows / result.rows_per_x1
    beyond = "" if multiple <= spark.largest else f", beyond the measured x{spark.largest}"
    return f"{rows:,.0f} rows (x{multiple:,.0f})", (
        f"{spark.engine}: the trends meet at about {rows:,.0f} rows in raw, x{multiple:,.0f} "
        f"the published volume ({slopes}; a straight line extrapolated{beyond})."
    )


# --------------------------------------------------------------------------- RESULTS.md


def seconds(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def spark_section(result: SparkResult | None) -> list[str]:
    """The section of RESULTS.md: the builds, the fixed costs, the trends and the crossover
    (nothing when it did not run: --skip-spark)."""
    if result is None:
        return []
    engines = [DUCKDB, *(start.engine for start in result.starts)]
    builds = table(
        ["engine", "warehouse", "rows in raw", "dbt nodes", "wall (s)", "rows/s"],
        "llrrrr",
        (
            [
                b.engine,
                "empty (no inputs)" if b.scale is None else f"x{b.scale}",
                f"{b.rows:,}",
                f"{b.nodes:,}",
                f"{b.run.wall:.1f}",
                f"{b.rows / b.run.wall:,.0f}" if b.rows else "-",
            ]
            for engine in engines
            for b in result.builds
            if b.engine == engine
        ),
    )
    starts = {start.engine: start for start in result.starts}
    fixed_rows = []
    for engine in engines:
        empty, start = result.build(engine, None), starts.get(engine)
        session = start.session.wall if start else None
        per_node = empty.run.wall / empty.nodes if empty else None
        net = (empty.run.wall - session) / empty.nodes if empty and session else None
        fixed_rows.append(
            [
                engine,
                seconds(result.cluster_start, 1) if engine == CLUSTER else "-",
                seconds(session, 1),
                seconds(start.select_1 if start else None),
                seconds(start.first_job if start else None),
                seconds(empty.run.wall if empty else None, 1),
                seconds(per_node, 3),
                seconds(net, 3),
            ]
        )
    fixed = table(
        [
            "engine",
            "cluster start (s)",
            "session process (s)",
            "select 1 (s)",
            "first job (s)",
            "empty build (s)",
            "per node (s)",
            "per node, session start taken off (s)",
        ],
        "lrrrrrrr",
        fixed_rows,
    )
    trends = {engine: result.trend(engine) for engine in engines}
    duck = trends[DUCKDB]
    fits = table(
        ["engine", "fixed (s)", "per million rows (s)", "per x1 (s)", "overtakes DuckDB at"],
        "lrrrl",
        (
            [
                t.engine,
                f"{t.fixed:.1f}",
                f"{t.per_row * MILLION:.2f}",
                f"{t.per_row * result.rows_per_x1:.2f}",
                "-" if duck is None or t is duck else crossover(result, t, duck)[0],
            ]
            for t in trends.values()
            if t is not None
        ),
    )
    lines = [
        f"- {crossover(result, t, duck)[1]}"
        for t in trends.values()
        if duck is not None and t is not None and t is not duck
    ] or ["- No trend: fewer than two demo scales (--spark-scales)."]
    scales = result.scales
    return [
        "## Spark against DuckDB",
        "",
        "`turnaround build --config F` of the same loaded warehouse (demo "
        f"{', '.join(f'x{s}' for s in scales)}, and an empty one) on DuckDB, on Spark in local "
        f"mode (`{LOCAL_MASTER}`) and on a standalone cluster of {WORKERS} workers "
        "(tests/spark_cluster.py, one one-core executor each), each the whole process. Load "
        f"average (1/5/15 min) {result.load_before} before this section, {result.load_after} "
        f"after; the section took {result.seconds / 60:.1f} min.",
        "",
        *builds,
        "",
        "What Spark costs before any model (medians of whole processes; see the methods):",
        "",
        *fixed,
        "",
        "Linear trend per engine through its builds at the demo scales (time = fixed + per row "
        "x rows in raw; x1 = the published volume):",
        "",
        *fits,
        "",
        *lines,
        "",
    ]
