"""The Spark standalone cluster of tests/spark_cluster.py: a master and two workers come up on
127.0.0.1, a PySpark SQL job run by a separate Python process (its own driver JVM) spreads its
tasks over an executor on each worker, and nothing of the cluster runs once it is stopped; a
master that cannot start fails the start at once with its log.

Marked `spark` and `slow` by tests/conftest.py (it uses `new_cluster`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import spark_cluster
from tests.daemons import marked_processes, port_open, tail_file, tail_text
from tests.spark_cluster import MARKER, ClusterError, Ports, SparkCluster, new_cluster

ROWS = 1000
PARTITIONS = 8
JOB_TIMEOUT_S = 240.0

# The driver: a SQL query whose Python UDF tells, for each row, which executor JVM evaluated it
# (the CoarseGrainedExecutorBackend among the Python worker's ancestors: its --executor-id, its
# pid and its working folder, which the worker made under its --work-dir). Prints one JSON line.
DRIVER = r"""
import json
import os
import sys

from pyspark.sql import SparkSession

EXECUTOR_CLASS = b"org.apache.spark.executor.CoarseGrainedExecutorBackend"


def executor_of(_):
    pid = os.getpid()
    while pid > 1:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
        if EXECUTOR_CLASS in argv:
            executor_id = argv[argv.index(b"--executor-id") + 1].decode()
            return json.dumps([executor_id, pid, os.readlink(f"/proc/{pid}/cwd")])
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            pid = int(handle.read().rpartition(")")[2].split()[1])
    return json.dumps(["none", 0, os.getcwd()])


conf, rows, partitions = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
builder = SparkSession.builder.appName("turnaround-spark-cluster-test")
for key, value in conf.items():
    builder = builder.config(key, value)
spark = (
    builder.master(conf["spark.master"])
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.sql.execution.pythonUDF.arrow.enabled", "false")  # no pyarrow needed
    .getOrCreate()
)
try:
    # block managers the driver knows: one per executor, and the driver's own
    registered = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
    spark.udf.register("executor_of", executor_of, "string")
    spark.range(0, rows, 1, partitions).createOrReplaceTempView("numbers")
    result = spark.sql(
        "SELECT executor_of(id) AS executor, count(*) AS n, sum(id) AS total "
        "FROM numbers GROUP BY 1"
    ).collect()
    print(json.dumps({
        "registered": registered,
        "app_id": spark.sparkContext.applicationId,
        "groups": [[json.loads(r["executor"]), r["n"], r["total"]] for r in result],
    }))
finally:
    spark.stop()
"""


def run_driver(cluster: SparkCluster) -> tuple[dict[str, object], float]:
    """Run DRIVER in a Python process of its own with the cluster's environment; its JSON line
    and how many seconds it took (driver JVM start and stop included)."""
    began = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            DRIVER,
            json.dumps(cluster.client_conf()),
            str(ROWS),
            str(PARTITIONS),
        ],
        capture_output=True,
        text=True,
        env=cluster.env,
        cwd=cluster.root,
        timeout=JOB_TIMEOUT_S,
        check=False,
    )
    took = time.monotonic() - began
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        logs = "\n".join(f"--- {d.log} ---\n{tail_file(d.log)}" for d in cluster.daemons)
        raise AssertionError(
            f"the driver failed (exit {done.returncode}):\n{tail_text(done.stdout)}\n"
            f"{tail_text(done.stderr, 40)}\n{logs}"
        )
    return json.loads(lines[-1]), took


def test_a_sql_job_runs_on_an_executor_of_each_worker_and_nothing_outlives_the_cluster(
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    with new_cluster(tmp_path / "spark", workers=2) as cluster:
        assert cluster.master_url.startswith("spark://127.0.0.1:")
        assert {w["host"] for w in cluster.alive_workers()} == {"127.0.0.1"}
        answer, job_s = run_driver(cluster)
        completed = _completed_apps(cluster)
        daemons = [d.process for d in cluster.daemons]
    stopped_s = time.monotonic() - began - cluster.started_in_s - job_s
    print(
        f"spark cluster started in {cluster.started_in_s:.1f} s, the job (driver included) "
        f"ran in {job_s:.1f} s, the cluster stopped in {stopped_s:.1f} s"
    )

    groups = answer["groups"]
    assert isinstance(groups, list)
    assert sum(n for _, n, _ in groups) == ROWS
    assert sum(total for _, _, total in groups) == ROWS * (ROWS - 1) // 2
    executors = {executor_id: (pid, Path(cwd)) for (executor_id, pid, cwd), _, _ in groups}
    assert answer["registered"] == 2
    assert len(executors) == 2, executors  # two executors evaluated the rows...
    assert len({pid for pid, _ in executors.values()}) == 2
    homes = {cwd.parent.parent for _, cwd in executors.values()}
    assert homes == {cluster.work_dir(1), cluster.work_dir(2)}  # ...one on each worker
    assert {cwd.parent.name for _, cwd in executors.values()} == {answer["app_id"]}
    # the master saw the application end
    assert answer["app_id"] in completed

    # nothing of the cluster runs any more: daemons, executors, their Python workers
    assert all(process.returncode is not None for process in daemons)
    assert cluster.processes() == []
    assert not [pid for pid, _ in executors.values() if Path(f"/proc/{pid}").exists()]
    ports = [cluster.ports.master, cluster.ports.master_webui, *cluster.ports.workers]
    assert not [port for port in ports if port_open(port)]
    assert not [pid for pid in _java_pids() if _mentions(pid, str(cluster.root))]


def test_a_master_that_cannot_start_fails_with_its_log_and_leaves_nothing_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The master's port is taken just after it was chosen: the start fails at once (Spark
    takes no other port silently), the error names the master and holds its log's last lines,
    and no process of the cluster runs."""
    real_free_ports = spark_cluster.free_ports
    chosen: list[Ports] = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:

        def ports_with_the_master_taken(workers: int) -> Ports:
            chosen.append(real_free_ports(workers))
            holder.bind(("127.0.0.1", chosen[-1].master))
            holder.listen()
            return chosen[-1]

        monkeypatch.setattr(spark_cluster, "free_ports", ports_with_the_master_taken)
        with (
            pytest.raises(ClusterError) as failed,
            new_cluster(tmp_path / "spark", workers=1),
        ):
            pytest.fail("the cluster started on a taken port")
    message = str(failed.value)
    assert message.startswith("spark master exited"), message
    assert str(tmp_path / "spark" / "log" / "master.log") in message
    assert "Address already in use" in message
    assert marked_processes(MARKER, str((tmp_path / "spark").resolve())) == []
    assert not port_open(chosen[-1].master_webui)


def _completed_apps(cluster: SparkCluster, wait_s: float = 10.0) -> set[str]:
    """The ids of the applications the master lists completed, once it lists any (the driver's
    goodbye reaches it asynchronously)."""
    deadline = time.monotonic() + wait_s
    while True:
        apps = {app["id"] for app in cluster.master_state().get("completedapps", [])}
        if apps or time.monotonic() > deadline:
            return apps
        time.sleep(0.2)


def _java_pids() -> list[int]:
    """Ids of the running processes whose command is java."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if os.path.basename(argv0) == b"java":
                found.append(int(entry.name))
    return found


def _mentions(pid: int, text: str) -> bool:
    """True when the process's command line or working folder mentions `text`."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return text in cmdline or text in cwd
