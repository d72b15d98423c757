"""A real Spark standalone cluster on 127.0.0.1, started by the tests in a folder they give.

One master and N workers (two by default), each its own JVM in the foreground under this
process, started from pyspark's own distribution (`<pyspark>/bin/spark-class`, which asks
Spark's launcher for the Java options Spark needs on Java 17 and then execs `java`, so each
daemon's process is the JVM itself): no download, no `sbin/start-*.sh` (pyspark's wheel has
none for the master and workers). Every port is found free at start; SPARK_LOCAL_IP=127.0.0.1
binds every RPC endpoint and web UI to 127.0.0.1, and `--host 127.0.0.1` is what the daemons
advertise. Each worker offers one core and `WORKER_MEMORY`; an application that uses
`SparkCluster.client_conf()` gets one executor on each worker (`spark.executor.cores=1`,
`spark.cores.max` = workers) and waits for all of them before its first task.

The cluster is ready when the master's JSON (http://127.0.0.1:<webui>/json) lists every worker
ALIVE. Logs go to `<folder>/log` (one file per daemon, executors' under each worker's work
folder) and their last lines are in the ClusterError of a start that failed.

`SparkCluster.stop()` ends the workers (whose shutdown kills their executors), then the master
(TERM to each process group, then KILL), then every process that carries the cluster's marker
variable in its environment: executors, their Python workers, and a driver started with
`SparkCluster.env`. The folder and its logs stay (the caller owns it). A test process killed
outright (no teardown, no atexit) takes the daemons along: each is started under
`setpriv --pdeathsig TERM` (util-linux), and a worker's TERM ends its executors.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import daemons
from tests.daemons import (
    HOST,
    kill_marked_processes,
    marked_processes,
    signal_group,
    tail_file,
    terminate,
)

MARKER = "TURNAROUND_SPARK_ROOT"
WORKER_CORES = 1
WORKER_MEMORY = "1g"  # what a worker offers its executors
EXECUTOR_MEMORY = "512m"  # one executor's heap: fits a worker, leaves it room
DAEMON_MEMORY = "512m"  # the master's and each worker's own heap (Spark's default: 1g)
#: the JIT's first tier only and the serial collector: daemons and test-sized jobs do little
#: work, and on 2 cores this starts the cluster in ~7-9 s instead of ~13-16 s (and a small job,
#: driver and executors included, in ~17 s instead of ~25 s)
QUICK_JVM_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
START_TIMEOUT_S = 90.0
STOP_GRACE_S = 10.0
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"

#: spark-defaults.conf of the daemons (SPARK_CONF_DIR is the cluster's own conf folder, so no
#: spark-env.sh or defaults of the machine or of pyspark's folder apply)
DAEMON_DEFAULTS = {
    "spark.master.rest.enabled": "false",  # no REST submission server (one port less)
    # a port taken since it was chosen fails the start (Spark would take the next one, which
    # the workers and clients would not know)
    "spark.port.maxRetries": "0",
    "spark.worker.cleanup.enabled": "false",  # the caller's folder keeps the executors' logs
    "spark.ui.showConsoleProgress": "false",
}


class ClusterError(RuntimeError):
    """A daemon did not start or the cluster did not come up; the message holds its log's tail."""


@dataclass
class Daemon:
    """One daemon this module started: its name, process and log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass(frozen=True)
class Ports:
    """The TCP ports of the cluster, all on 127.0.0.1: the master's RPC port and web UI, and
    each worker's RPC port and web UI."""

    master: int
    master_webui: int
    workers: tuple[int, ...]
    worker_webuis: tuple[int, ...]


@dataclass
class SparkCluster:
    """A cluster whose files live in `root`; `start()` brings it up, `stop()` ends every process
    of it. `new_cluster()` does both around a `with` block."""

    root: Path
    workers: int = 2
    ports: Ports = field(init=False)
    daemons: list[Daemon] = field(default_factory=list)
    started_in_s: float = 0.0
    last_probe: str = ""
    stopped: bool = False

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"a cluster needs at least one worker, not {self.workers}")
        self.root = self.root.resolve()
        self.ports = free_ports(self.workers)

    # ---- addresses, paths and environment --------------------------------------------------

    @property
    def master_url(self) -> str:
        """What a client passes to `SparkSession.builder.master()`: spark://127.0.0.1:PORT."""
        return f"spark://{HOST}:{self.ports.master}"

    @property
    def webui_url(self) -> str:
        """The master's web UI (its state as JSON at `/json`)."""
        return f"http://{HOST}:{self.ports.master_webui}"

    @property
    def log_dir(self) -> Path:
        """Where each daemon logs (its standard output and error)."""
        return self.root / "log"

    @property
    def conf_dir(self) -> Path:
        """SPARK_CONF_DIR of the daemons and of clients run with `env`."""
        return self.root / "conf"

    def work_dir(self, number: int) -> Path:
        """Worker `number`'s (1..workers) work folder: <app id>/<executor id>/ per executor,
        which is also that executor's working folder (its stdout and stderr are there)."""
        return self.root / f"worker-{number}"

    @property
    def env(self) -> dict[str, str]:
        """The environment of the daemons and of clients: os.environ with `env_overrides`."""
        return {**os.environ, **self.env_overrides}

    @property
    def env_overrides(self) -> dict[str, str]:
        """SPARK_HOME (pyspark's folder), SPARK_CONF_DIR (the cluster's), SPARK_LOCAL_IP,
        PYSPARK_PYTHON (this Python), the daemons' heap and JVM options, and the marker of its
        processes."""
        return {
            "SPARK_HOME": str(spark_home()),
            "SPARK_CONF_DIR": str(self.conf_dir),
            "SPARK_LOCAL_IP": HOST,
            "SPARK_DAEMON_MEMORY": DAEMON_MEMORY,
            "SPARK_DAEMON_JAVA_OPTS": QUICK_JVM_OPTS,
            "SPARK_LAUNCHER_OPTS": QUICK_JVM_OPTS,  # spark-class's launcher JVM
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            MARKER: str(self.root),
        }

    def client_conf(self) -> dict[str, str]:
        """The configuration of an application on this cluster: the master, a driver bound to
        127.0.0.1, one one-core executor per worker and no task before all of them registered,
        this Python on the executors, QUICK_JVM_OPTS for the driver's and executors' JVMs (a
        driver started by pyspark takes them from here), no driver web UI."""
        return {
            "spark.master": self.master_url,
            "spark.driver.host": HOST,
            "spark.driver.bindAddress": HOST,
            "spark.executor.cores": str(WORKER_CORES),
            "spark.executor.memory": EXECUTOR_MEMORY,
            "spark.cores.max": str(self.workers * WORKER_CORES),
            "spark.scheduler.minRegisteredResourcesRatio": "1.0",
            "spark.scheduler.maxRegisteredResourcesWaitingTime": f"{START_TIMEOUT_S:.0f}s",
            "spark.pyspark.python": sys.executable,
            "spark.driver.extraJavaOptions": QUICK_JVM_OPTS,
            "spark.executor.extraJavaOptions": QUICK_JVM_OPTS,
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
        }

    # ---- start -----------------------------------------------------------------------------

    def start(self) -> float:
        """Bring the master and every worker up; return how many seconds it took. On failure
        everything started is stopped and ClusterError names the daemon and its log's tail."""
        began = time.monotonic()
        atexit.register(self.stop)  # a session that dies before its teardown stops it too
        try:
            self._check_java()
            self._make_folders()
            self._start_master()
            self._start_workers()
        except BaseException:
            self.stop()  # the error already holds the logs' last lines
            raise
        self.started_in_s = time.monotonic() - began
        return self.started_in_s

    def _check_java(self) -> None:
        """pyspark's distribution (with bin/spark-class and its jars) and a `java` to run it."""
        home = spark_home()
        if not (home / "bin" / "spark-class").is_file() or not (home / "jars").is_dir():
            raise ClusterError(f"{home} holds no bin/spark-class and jars/: not a pyspark wheel")
        if not os.environ.get("JAVA_HOME") and not shutil.which("java"):
            raise ClusterError("no `java` on PATH and no JAVA_HOME: Spark needs Java 17 or later")

    def _make_folders(self) -> None:
        """The conf folder with the daemons' spark-defaults.conf, the log folder and each
        worker's work folder."""
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for number in range(1, self.workers + 1):
            self.work_dir(number).mkdir(parents=True, exist_ok=True)
        lines = [f"{key} {value}" for key, value in DAEMON_DEFAULTS.items()]
        (self.conf_dir / "spark-defaults.conf").write_text("\n".join(lines) + "\n", "utf-8")

    def _start_master(self) -> None:
        """The master on its port and web UI; ready once its JSON says ALIVE."""
        self._spawn(
            "master",
            MASTER_CLASS,
            "--host",
            HOST,
            "--port",
            str(self.ports.master),
            "--webui-port",
            str(self.ports.master_webui),
        )
        self._wait("master", lambda: self._master_status() == "ALIVE")

    def _start_workers(self) -> None:
        """Every worker, each started without waiting for the one before (one core,
        WORKER_MEMORY, its own work folder); ready once the master lists them all ALIVE."""
        for number in range(1, self.workers + 1):
            self._spawn(
                f"worker-{number}",
                WORKER_CLASS,
                "--host",
                HOST,
                "--port",
                str(self.ports.workers[number - 1]),
                "--webui-port",
                str(self.ports.worker_webuis[number - 1]),
                "--cores",
                str(WORKER_CORES),
                "--memory",
                WORKER_MEMORY,
                "--work-dir",
                str(self.work_dir(number)),
                self.master_url,
            )
        self._wait("worker", lambda: len(self.alive_workers()) == self.workers)

    def _spawn(self, name: str, main_class: str, *args: str) -> Daemon:
        """Start `spark-class MAIN_CLASS ARGS` in a session of its own (one process group with
        the executors it starts), its output in log/<name>.log."""
        log = self.log_dir / f"{name}.log"
        # a test process killed outright (no atexit) takes its daemons along: setpriv asks the
        # kernel to TERM the daemon when this process's thread that started it ends (the
        # setting outlives the execs of spark-class and of java)
        setpriv = shutil.which("setpriv")
        orphan_guard = [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []
        with log.open("ab") as out:
            process = subprocess.Popen(
                [
                    *orphan_guard,
                    "bash",
                    str(spark_home() / "bin" / "spark-class"),
                    main_class,
                    *args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.root,
                start_new_session=True,
            )
        daemon = Daemon(name, process, log)
        self.daemons.append(daemon)
        return daemon

    def _wait(self, name: str, ready: Callable[[], bool], timeout: float = START_TIMEOUT_S) -> None:
        """Poll `ready` until it holds; fail naming the daemon and its log when a daemon exited
        or the time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [d for d in self.daemons if d.process.poll() is not None]
            if dead:
                raise ClusterError(self._describe_failure(dead, "exited"))
            if ready():
                return
            time.sleep(0.25)
        ours = [d for d in self.daemons if d.name.startswith(name)] or self.daemons[-1:]
        probe = f"; the last check said: {self.last_probe.strip()}" if self.last_probe else ""
        raise ClusterError(self._describe_failure(ours, f"not ready after {timeout:.0f} s{probe}"))

    def _describe_failure(self, daemons: list[Daemon], what: str) -> str:
        """Each daemon's exit code and the last lines of its log."""
        parts = []
        for daemon in daemons:
            code = daemon.process.poll()
            parts.append(
                f"spark {daemon.name} {what}" + (f" (exit {code})" if code is not None else "")
            )
            parts.append(f"--- {daemon.log} (last lines) ---\n{tail_file(daemon.log)}")
        return "\n".join(parts)

    # ---- state -----------------------------------------------------------------------------

    def master_state(self) -> dict[str, Any]:
        """The master's state as its web UI gives it at /json (status, workers, applications);
        an empty dict while it does not answer (the reason is in `last_probe`)."""
        try:
            with urllib.request.urlopen(f"{self.webui_url}/json", timeout=5) as answer:
                state = json.loads(answer.read().decode("utf-8"))
        except (OSError, ValueError) as error:  # URLError, refused, reset, not JSON yet
            self.last_probe = f"{self.webui_url}/json: {error}"
            return {}
        self.last_probe = json.dumps(
            {key: state.get(key) for key in ("status", "aliveworkers", "workers")}
        )
        return state if isinstance(state, dict) else {}

    def _master_status(self) -> str:
        return str(self.master_state().get("status", ""))

    def alive_workers(self) -> list[dict[str, Any]]:
        """The workers the master lists ALIVE (id, host, port, cores, memory...)."""
        workers = self.master_state().get("workers", [])
        return [w for w in workers if isinstance(w, dict) and w.get("state") == "ALIVE"]

    def processes(self) -> list[int]:
        """Ids of every live process of the cluster: the daemons and whatever carries its
        marker (executors, their Python workers, a driver run with `env`)."""
        alive = {d.process.pid for d in self.daemons if d.process.poll() is None}
        return sorted(alive | set(marked_processes(MARKER, str(self.root))))

    # ---- stop ------------------------------------------------------------------------------

    def stop(self) -> list[int]:
        """End the workers (their shutdown kills their executors), then the master (TERM, then
        KILL), then every other process that carries this cluster's marker. Returns the ids of
        the stray processes that had to be killed after the daemons (none when called again)."""
        if self.stopped:
            return []
        self.stopped = True
        workers = [d for d in self.daemons if d.name != "master"]
        masters = [d for d in self.daemons if d.name == "master"]
        for daemon in workers:  # TERM them all first: their shutdowns overlap
            signal_group(daemon.process, signal.SIGTERM)
        for daemon in [*workers, *masters]:
            with contextlib.suppress(subprocess.TimeoutExpired):  # unkillable: left to the end
                terminate(daemon.process, STOP_GRACE_S)
        return kill_marked_processes(MARKER, str(self.root))


@contextlib.contextmanager
def new_cluster(folder: Path, workers: int = 2) -> Iterator[SparkCluster]:
    """A started cluster of one master and `workers` workers, its files in `folder`; stopped
    (every process of it ended) when the block exits, whether or not it raised."""
    cluster = SparkCluster(Path(folder), workers)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


# ---- processes ---------------------------------------------------------------------------------


def spark_home() -> Path:
    """pyspark's folder, which is a Spark distribution (bin/, jars/), found without importing
    pyspark; ClusterError when pyspark is not installed."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise ClusterError(
            "pyspark is not installed in this environment: `make install-spark` "
            "(or `pip install turnaround[spark]`)"
        )
    return Path(spec.origin).parent


def free_ports(workers: int) -> Ports:
    """Distinct TCP ports free on 127.0.0.1: the master's RPC and web UI, each worker's."""
    numbers = daemons.free_ports(2 + 2 * workers)
    return Ports(
        numbers[0], numbers[1], tuple(numbers[2 : 2 + workers]), tuple(numbers[2 + workers :])
    )
