"""The closing section of bench/RESULTS.md: how each number was taken."""

from __future__ import annotations

from bench.records import SAMPLE
from bench.timing import REPEATS


def methods(full_refresh_flag: list[str], spark: bool = False) -> list[str]:
    """The section "How each number was taken" (`full_refresh_flag`: what the full refresh ran
    with; `spark`: whether the Spark section ran)."""
    return [
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
        + "` on a fresh warehouse with the newest day held back; **one more day**: "
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
        "- **rec_status load as a whole process**: the status files loaded as a user runs it, "
        "`turnaround load --config F rec_status` into a fresh warehouse (deleted before each "
        "run), against one plain Python process that scandirs the folder and opens and reads "
        "every `4dstem_rec_status_*` file (`bench/reference.py`); both wall times from start to "
        f"exit (start-up, imports and the commit included), median of {REPEATS}, alternating, "
        "page cache warm. Twice: the dated tree the demo writes (glob "
        "`ncem/rec_status/**/4dstem_rec_status_*.json`), and its files hard-linked into one "
        "flat folder as the receivers write them (glob `<folder>/4dstem_rec_status_*.json`; "
        "the first file of each name, since scan numbers repeat across days).",
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
        "- **turnaround check**: after the refresh of one more day, `turnaround check "
        f"--config F` {REPEATS} times, whole process, median (it exits 1 on the demo: the "
        "planted breached level, and sources stale against today's clock).",
        "- **published data**: as before: load, `build --quiet`, then `report` and a no-op "
        f"`refresh` (load finds nothing new, dbt builds, the report is written) {REPEATS} "
        "times each, median wall time, largest RSS.",
        *(SPARK if spark else []),
        "",
    ]


SPARK = [
    "- **Spark against DuckDB** (bench/spark.py): per demo scale the data is loaded once "
    "(`turnaround load --config F`, untimed here) and the warehouse file copied for each engine; "
    "each build is one whole `turnaround build --config F` process (raw exported to Parquet, "
    "dbt-spark in dbt's process, the marts linked back as views on Spark), the same config but "
    '`engine = "spark"` and `[spark]`: `master = "local[2]"`, or the cluster\'s master URL with '
    "`SparkCluster.client_conf()` (less `spark.master`) as `[spark.conf]`. The cluster "
    "(tests/spark_cluster.py: a master and two one-core workers on 127.0.0.1, 512 MiB executors) "
    "is started after DuckDB's and local mode's runs and stopped at the end; **cluster start** is "
    "its own time to every worker ALIVE. **session process**: a whole Python process that "
    "creates the SparkSession as dbt-spark's session method does (Hive support, profiles.yml's "
    "Spark settings rendered as dbt renders them, the config's through the same "
    "PYSPARK_SUBMIT_ARGS) and stops it; on the cluster it includes the executors' start (the "
    f"client waits for all of them); median of {REPEATS}. **select 1** and **first job** "
    "(`range(1000)` summed: tasks on the executors): timed inside other such processes right "
    f"after the session started, medians of {REPEATS}. **empty build**: a config with no "
    "inputs, after `turnaround load` (raw exists, empty); dbt builds every node on no rows; "
    "**per node** = its wall / the nodes of its run_results (`dbt/last_build_results.json` "
    "beside the warehouse: models, seeds, data and unit tests, the hook, exposures); the next "
    "column takes the session process off first. **rows in raw**: the ledger's rows of the "
    "loaded warehouse. **trend**: least squares of wall on rows per engine over the scales (a "
    "line through the two points for x1 and x10); a multiple of the published volume is rows "
    "/ the rows at x1. Where a Spark trend meets DuckDB's is given only when Spark's slope is "
    "the lower and DuckDB's positive; a slope <= 0 (the time moved less than the noise) gives "
    "no number, or only the bound of a zero per-row cost. Peak RSS is not given: Spark's JVM "
    "is not reaped by the process `os.wait4` waits for, so `ru_maxrss` misses it.",
]
