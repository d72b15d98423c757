"""A real single-host Slurm cluster with accounting, started by the tests in a temporary folder.

Daemons, each in the foreground under this process, each on 127.0.0.1 only and on ports found
free: munged (its own key and socket), MariaDB (`mariadb-install-db` into the folder), slurmdbd
on it (`accounting_storage/mysql`), slurmctld (`accounting_storage/slurmdbd`), and four slurmd,
`slurmd -N n1` .. `-N n4`, one per node, each on its own `Port=` (Debian's Slurm is built with
`--enable-multiple-slurmd`; `SlurmdSpoolDir`, `SlurmdPidFile` and `SlurmdLogFile` carry `%n`).
Everything runs as root (SlurmUser=root; `mariadbd --user=root`). Client commands find the
cluster through `SLURM_CONF` in `SlurmCluster.env`; slurm.conf's `AuthInfo=socket=...` leads
them and the daemons to this munged, and `AccountingStoragePass=<socket>` the connections to
slurmdbd (sacct, sacctmgr, slurmctld), which ignore AuthInfo's socket.

`SlurmCluster.stop()` cancels what runs, ends every daemon it started and then every process
that carries the cluster's marker variable in its environment (job steps, `slurmstepd`), by
process id, and removes the folder.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests import daemons
from tests.daemons import kill_marked_processes, tail_file, tail_text, terminate

CLUSTER = "turnaround"
ACCOUNT = "distiller"
PARTITION = "debug"
REALTIME_QOS = "realtime_m3795"
NODES = ("n1", "n2", "n3", "n4")
CPUS_PER_NODE = 8
MARKER = "TURNAROUND_SLURM_ROOT"
DATABASE = "slurm_acct_db"
# a requeued job waits this many seconds before it may start again (Slurm's default: 120)
CRED_EXPIRE_S = 10
START_TIMEOUT_S = 60.0


NO_VALUE = 4294967294  # Slurm's NO_VAL: an array task id or het offset the job lacks
INFINITE = 4294967295  # Slurm's INFINITE: a time limit of UNLIMITED
JOB_REQUEUE = 0x400  # state flag of a run that was requeued
JOB_STATES = (
    "PENDING",
    "RUNNING",
    "SUSPENDED",
    "COMPLETED",
    "CANCELLED",
    "FAILED",
    "TIMEOUT",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
    "OUT_OF_MEMORY",
)
ACCOUNTING_SQL = """
select
    case
        when id_array_task <> {no_value} then concat(id_array_job, '_', id_array_task)
        when het_job_offset <> {no_value} then concat(het_job_id, '+', het_job_offset)
        else id_job
    end,
    job_name, state, time_submit, time_start, time_end, time_suspended, timelimit, job_db_inx
from {table}
""".replace("{no_value}", str(NO_VALUE))


def state_name(state: int) -> str:
    """A job table's state number as sacct names it (REQUEUED for a run that was requeued)."""
    if state & JOB_REQUEUE:
        return "REQUEUED"
    return JOB_STATES[state & 0xFF]


@dataclass(frozen=True)
class AccountingRecord:
    """One run of a job as slurmdbd stored it: epoch seconds (0: not yet), limit in minutes."""

    job_id: str
    job_name: str
    state: int
    submit: int
    start: int
    end: int
    suspended: int
    timelimit_min: int
    db_index: int

    @classmethod
    def from_row(cls, row: tuple[str, ...]) -> AccountingRecord:
        """A record from a row of ACCOUNTING_SQL."""
        job_id, name, *numbers = row
        state, submit, start, end, suspended, limit, index = (int(n) for n in numbers)
        return cls(job_id, name, state, submit, start, end, suspended, limit, index)

    @property
    def state_name(self) -> str:
        """The state as sacct names it (REQUEUED for a run that was requeued)."""
        return state_name(self.state)

    @property
    def started_at(self) -> int | None:
        """Start in epoch seconds, None for a job that never started."""
        return self.start or None

    @property
    def ended_at(self) -> int | None:
        """End in epoch seconds, None while it has not ended."""
        return self.end or None

    @property
    def elapsed_s(self) -> int:
        """What sacct's Elapsed shows for an ended job: run time less time suspended."""
        if not self.start:
            return 0
        return self.end - self.start - self.suspended

    @property
    def timelimit_s(self) -> int | None:
        """The time limit in seconds, None for UNLIMITED (or a partition's limit)."""
        if self.timelimit_min in (INFINITE, NO_VALUE):
            return None
        return self.timelimit_min * 60


class ClusterError(RuntimeError):
    """A daemon did not start or a cluster command failed; the message holds its log's tail."""


@dataclass
class Daemon:
    """One daemon this module started: its name, process and log files."""

    name: str
    process: subprocess.Popen[bytes]
    logs: tuple[Path, ...]


@dataclass(frozen=True)
class Ports:
    """The TCP ports of the cluster's daemons, all on 127.0.0.1."""

    mariadb: int
    slurmdbd: int
    slurmctld: int
    slurmd: tuple[int, ...]


@dataclass
class SlurmCluster:
    """A cluster in `root`; `start()` brings it up, `stop()` ends every process of it."""

    root: Path
    host: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    ports: Ports = field(default_factory=lambda: free_ports())
    daemons: list[Daemon] = field(default_factory=list)
    started_in_s: float = 0.0
    last_probe: str = ""
    stopped: bool = False

    # ---- paths and environment -------------------------------------------------------------

    @property
    def conf(self) -> Path:
        """slurm.conf (slurmdbd.conf sits beside it, where slurmdbd looks for it)."""
        return self.root / "etc" / "slurm.conf"

    @property
    def munge_socket(self) -> Path:
        """The socket of this cluster's munged."""
        return self.root / "munge" / "munge.socket"

    @property
    def mariadb_socket(self) -> Path:
        """The Unix socket of this cluster's MariaDB (the tests read the job table through it)."""
        return self.root / "mysql" / "mysqld.sock"

    @property
    def log_dir(self) -> Path:
        """Where every daemon logs."""
        return self.root / "log"

    @property
    def job_dir(self) -> Path:
        """Working folder and output folder of the jobs."""
        return self.root / "jobs"

    @property
    def env(self) -> dict[str, str]:
        """The environment of client commands: os.environ with SLURM_CONF and the marker."""
        return {**os.environ, **self.env_overrides}

    @property
    def env_overrides(self) -> dict[str, str]:
        """The variables that lead Slurm commands to this cluster (and mark its processes)."""
        return {"SLURM_CONF": str(self.conf), MARKER: str(self.root)}

    # ---- start -----------------------------------------------------------------------------

    def start(self) -> float:
        """Bring the whole cluster up; return how many seconds it took. On failure everything
        started is stopped and ClusterError names the daemon and its log's last lines."""
        began = time.monotonic()
        atexit.register(self.stop)  # a session that dies before its teardown stops it too
        try:
            self._check_host()
            self._make_folders()
            self._write_configs()
            self._start_munge()
            self._start_mariadb()
            self._start_slurmdbd()
            self._register_accounts()
            self._start_slurmctld()
            self._start_slurmds()
        except BaseException:
            self.stop()  # the error already holds the logs' last lines
            raise
        self.started_in_s = time.monotonic() - began
        return self.started_in_s

    def _check_host(self) -> None:
        """Root (slurmd starts jobs as their user, the daemons run as SlurmUser=root), and the
        host's name resolving to a loopback address: the daemons bind to it (NoInAddrAny), so
        any other address would have them listen on the network."""
        if os.geteuid() != 0:
            raise ClusterError(
                "the Slurm cluster's daemons run as root (as CI runs the tests): run as root"
            )
        address = socket.gethostbyname(self.host)
        if not ipaddress.ip_address(address).is_loopback:
            raise ClusterError(
                f"the host name {self.host!r} resolves to {address}, not to a loopback address: "
                f"the cluster would listen on the network (add '127.0.0.1 {self.host}' to "
                "/etc/hosts)"
            )

    def _make_folders(self) -> None:
        """The folders of the configs, sockets, logs, state, spools and jobs."""
        for sub in ("etc", "munge", "mysql/data", "mysql/tmp", "log", "run", "state", "jobs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for node in NODES:
            (self.root / "spool" / node).mkdir(parents=True, exist_ok=True)
        # munged wants its socket's folder (and the folders above it) searchable by all
        self.root.chmod(0o755)
        (self.root / "munge").chmod(0o755)

    def _write_configs(self) -> None:
        """slurm.conf and slurmdbd.conf (readable by root only, as slurmdbd demands)."""
        self.conf.write_text(slurm_conf(self), encoding="utf-8")
        dbd = self.conf.with_name("slurmdbd.conf")
        dbd.write_text(slurmdbd_conf(self), encoding="utf-8")
        dbd.chmod(0o600)  # slurmdbd refuses a config others can read (it may hold a password)

    def _start_munge(self) -> None:
        """munged with a fresh key, its socket, pid, seed and log in the folder (ready once a
        credential it makes decodes)."""
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        munge_dir = self.root / "munge"
        self._spawn(
            "munged",
            [
                "munged",
                "--foreground",
                f"--socket={self.munge_socket}",
                f"--key-file={key}",
                f"--pid-file={munge_dir / 'munged.pid'}",
                f"--seed-file={munge_dir / 'munged.seed'}",
                f"--log-file={self.log_dir / 'munged.log'}",
            ],
            extra_logs=(self.log_dir / "munged.log",),
        )
        self._wait("munged", self._munge_answers)

    def _munge_answers(self) -> bool:
        """True when a credential made by this munged decodes again."""
        made = subprocess.run(
            ["munge", "-n", "-S", str(self.munge_socket)], capture_output=True, check=False
        )
        if made.returncode != 0:
            return False
        back = subprocess.run(
            ["unmunge", "-S", str(self.munge_socket)],
            input=made.stdout,
            capture_output=True,
            check=False,
        )
        return back.returncode == 0

    def _start_mariadb(self) -> None:
        """A new MariaDB data folder and mariadbd on 127.0.0.1:<port> and its own socket."""
        data = self.root / "mysql" / "data"
        install = subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={data}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode != 0:
            raise ClusterError(
                f"mariadb-install-db failed (exit {install.returncode}):\n"
                + tail_text(install.stdout + install.stderr)
            )
        error_log = self.log_dir / "mariadb.err"
        self._spawn(
            "mariadbd",
            [
                "mariadbd",
                "--no-defaults",
                "--user=root",
                f"--datadir={data}",
                f"--tmpdir={self.root / 'mysql' / 'tmp'}",
                f"--socket={self.mariadb_socket}",
                f"--pid-file={self.root / 'run' / 'mariadbd.pid'}",
                f"--log-error={error_log}",
                f"--port={self.ports.mariadb}",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                # what slurmdbd asks for in its log, and speed over durability for a test
                "--innodb-buffer-pool-size=128M",
                "--innodb-log-file-size=64M",
                "--innodb-lock-wait-timeout=900",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--skip-log-bin",
            ],
            extra_logs=(error_log,),
        )
        self._wait("mariadbd", self._mariadb_answers)

    def _mariadb_answers(self) -> bool:
        """True when MariaDB answers a ping on its socket."""
        done = subprocess.run(
            ["mariadb-admin", "--no-defaults", f"--socket={self.mariadb_socket}", "-uroot", "ping"],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def _start_slurmdbd(self) -> None:
        """slurmdbd on MariaDB; ready once sacctmgr gets an answer (the tables exist)."""
        self._spawn(
            "slurmdbd",
            ["slurmdbd", "-D"],
            extra_logs=(self.log_dir / "slurmdbd.log",),
        )
        self._wait("slurmdbd", lambda: self.sacctmgr_ok("show", "cluster"))

    def _register_accounts(self) -> None:
        """The cluster, the facility's QOS, an account and root's association allowed both QOS
        (before slurmctld starts, so it registers with a cluster the database knows)."""
        self.sacctmgr("add", "cluster", CLUSTER)
        self.sacctmgr("add", "qos", REALTIME_QOS)
        self.sacctmgr(
            "add",
            "account",
            ACCOUNT,
            f"cluster={CLUSTER}",
            "description=4D Camera counting",
            "organization=ncem",
        )
        self.sacctmgr(
            "add",
            "user",
            "root",
            f"account={ACCOUNT}",
            f"cluster={CLUSTER}",
            f"qos=normal,{REALTIME_QOS}",
            "defaultqos=normal",
        )
        self.sacctmgr("modify", "user", "where", "name=root", "set", f"defaultaccount={ACCOUNT}")

    def _start_slurmctld(self) -> None:
        """slurmctld from a clean state; ready once `scontrol ping` answers."""
        self._spawn(
            "slurmctld",
            ["slurmctld", "-D", "-c", "-i"],
            extra_logs=(self.log_dir / "slurmctld.log",),
        )
        self._wait("slurmctld", lambda: self.run("scontrol", "ping", check=False).returncode == 0)

    def _start_slurmds(self) -> None:
        """One `slurmd -N <node>` per node; ready once every node is idle."""
        for node in NODES:
            self._spawn(
                f"slurmd-{node}",
                ["slurmd", "-D", "-N", node],
                extra_logs=(self.log_dir / f"slurmd-{node}.log",),
            )
        self._wait("slurmd", self._nodes_idle)

    def _nodes_idle(self) -> bool:
        """True when every node has registered and is idle."""
        done = self.run("sinfo", "--noheader", "--Node", "--format=%N %t", check=False)
        states = dict(line.split() for line in done.stdout.splitlines() if line.strip())
        return done.returncode == 0 and all(states.get(node) == "idle" for node in NODES)

    # ---- processes -------------------------------------------------------------------------

    def _spawn(self, name: str, argv: Sequence[str], extra_logs: tuple[Path, ...] = ()) -> None:
        """Start one daemon in the foreground, in its own session, output to `log/NAME.out`."""
        out = self.log_dir / f"{name}.out"
        with out.open("ab") as handle:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.root,
                start_new_session=True,
            )
        self.daemons.append(Daemon(name, process, (out, *extra_logs)))

    def _wait(self, name: str, ready: Callable[[], bool], timeout: float = START_TIMEOUT_S) -> None:
        """Poll `ready` until it holds; fail naming the daemon and its logs when a daemon of that
        name exited or the time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [d for d in self.daemons if d.process.poll() is not None]
            if dead:
                raise ClusterError(self._describe_failure(dead[0], "exited"))
            if ready():
                return
            time.sleep(0.2)
        ours = [d for d in self.daemons if d.name.startswith(name)] or self.daemons[-1:]
        probe = f"; the last check said: {self.last_probe.strip()}" if self.last_probe else ""
        raise ClusterError(
            self._describe_failure(ours[0], f"not ready after {timeout:.0f} s{probe}")
        )

    def _describe_failure(self, daemon: Daemon, what: str) -> str:
        """The daemon's exit code and the last lines of each of its logs."""
        code = daemon.process.poll()
        parts = [f"{daemon.name} {what}" + (f" (exit {code})" if code is not None else "")]
        for log in daemon.logs:
            parts.append(f"--- {log} (last lines) ---\n{tail_file(log)}")
        return "\n".join(parts)

    def run(
        self, *argv: str, check: bool = True, env: dict[str, str] | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run a client command against this cluster; with `check`, a failure is ClusterError
        with its output. Returns the finished process (text output)."""
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            check=False,
            env={**self.env, **(env or {})},
            cwd=self.job_dir,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise ClusterError(
                f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
            )
        return done

    def sacctmgr(self, *args: str) -> str:
        """Run `sacctmgr -i ARGS` (no prompt); return its output."""
        return self.run("sacctmgr", "-i", *args).stdout

    def sacctmgr_ok(self, *args: str) -> bool:
        """True when `sacctmgr ARGS` succeeds (slurmdbd is up and answering)."""
        done = self.run("sacctmgr", "-n", "-P", *args, check=False, timeout=10)
        self.last_probe = done.stdout + done.stderr
        return done.returncode == 0

    def db(self, sql: str) -> list[tuple[str, ...]]:
        """Rows of a query on the accounting database, as text (NULL as 'NULL')."""
        done = subprocess.run(
            [
                "mariadb",
                "--no-defaults",
                f"--socket={self.mariadb_socket}",
                "-uroot",
                "--batch",
                "--raw",
                "--skip-column-names",
                "--default-character-set=utf8mb4",
                DATABASE,
                "-e",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"query failed: {sql}\n{done.stderr}")
        return [tuple(line.split("\t")) for line in done.stdout.splitlines()]

    # ---- jobs ------------------------------------------------------------------------------

    def sbatch(self, *args: str) -> str:
        """Submit a batch job (`sbatch --parsable ARGS`); return its job id (a heterogeneous
        job's leader, an array's base id)."""
        return self.run("sbatch", "--parsable", *args).stdout.strip().split(";")[0]

    def queue(self) -> dict[str, tuple[str, str]]:
        """The jobs slurmctld still shows: job id as squeue prints it -> (state, reason)."""
        done = self.run("squeue", "--noheader", "--array", "--format=%i %T %r")
        rows = (line.split(" ", 2) for line in done.stdout.splitlines() if line.strip())
        return {job_id: (state, reason) for job_id, state, reason in rows}

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float) -> None:
        """Poll `ready` every fifth of a second; ClusterError naming `what` (and slurmctld's
        log) when it does not hold within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"{what}: not reached in {timeout:.0f} s; squeue: {self.queue()}\n"
                    + tail_file(self.log_dir / "slurmctld.log")
                )
            time.sleep(0.2)

    def wait_state(self, job_id: str, state: str, timeout: float = 60) -> None:
        """Wait until squeue shows the job in `state` (RUNNING, PENDING, SUSPENDED...)."""
        self.wait_for(
            f"job {job_id} {state}",
            lambda: self.queue().get(job_id, ("", ""))[0] == state,
            timeout,
        )

    def accounting(self) -> dict[str, AccountingRecord]:
        """The accounting database's record of every job, keyed by the job id sacct prints
        (`12`, `5_1` for an array task, `18+0` for a heterogeneous component); a requeued job
        is its newest run."""
        rows = self.db(ACCOUNTING_SQL.format(table=f"{CLUSTER}_job_table"))
        newest: dict[str, AccountingRecord] = {}
        for row in rows:
            record = AccountingRecord.from_row(row)
            if record.job_id not in newest or newest[record.job_id].db_index < record.db_index:
                newest[record.job_id] = record
        return newest

    # ---- stop ------------------------------------------------------------------------------

    def stop(self, *, remove: bool = True) -> list[int]:
        """Cancel every job, end every daemon (TERM, then KILL), then every other process that
        carries this cluster's marker; remove the folder unless told not to. Returns the ids of
        the stray processes that had to be killed after the daemons (none when called again)."""
        if self.stopped:
            return []
        self.stopped = True
        if any(d.name == "slurmctld" and d.process.poll() is None for d in self.daemons):
            with contextlib.suppress(Exception):
                self.run("scancel", "--user=root", check=False, timeout=10)
                self.wait_for("an empty queue", lambda: not self.queue(), 10)
        for daemon in reversed(self.daemons):
            terminate(daemon.process, grace_s=5.0)
        strays = kill_marked_processes(MARKER, str(self.root))
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
        return strays


def free_ports() -> Ports:
    """Distinct TCP ports free on 127.0.0.1: slurmctld, slurmdbd, MariaDB, one per slurmd."""
    numbers = daemons.free_ports(3 + len(NODES))
    return Ports(numbers[0], numbers[1], numbers[2], tuple(numbers[3:]))


def slurm_conf(cluster: SlurmCluster) -> str:
    """slurm.conf: accounting through slurmdbd, no cgroups, fast scheduling and short timeouts,
    four nodes n1..n4 on 127.0.0.1 each with its own slurmd port, one partition of all four."""
    root, ports = cluster.root, cluster.ports
    lines = [
        f"ClusterName={CLUSTER}",
        f"SlurmctldHost={cluster.host}(127.0.0.1)",
        f"SlurmctldPort={ports.slurmctld}",
        # bind to the resolved address (127.0.0.1), not to every address of the host
        "CommunicationParameters=NoCtldInAddrAny,NoInAddrAny",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={cluster.munge_socket},cred_expire={CRED_EXPIRE_S}",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"StateSaveLocation={root / 'state'}",
        f"SlurmdSpoolDir={root / 'spool' / '%n'}",
        f"SlurmctldPidFile={root / 'run' / 'slurmctld.pid'}",
        f"SlurmdPidFile={root / 'run' / 'slurmd-%n.pid'}",
        f"SlurmctldLogFile={cluster.log_dir / 'slurmctld.log'}",
        f"SlurmdLogFile={cluster.log_dir / 'slurmd-%n.log'}",
        "SlurmctldDebug=info",
        "SlurmdDebug=info",
        f"TmpFS={root / 'jobs'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "MpiDefault=none",
        "SwitchType=switch/none",
        "MailProg=/bin/true",
        "SlurmdParameters=config_overrides",
        "AccountingStorageType=accounting_storage/slurmdbd",
        "AccountingStorageHost=127.0.0.1",
        f"AccountingStoragePort={ports.slurmdbd}",
        # the munge socket of the connections to slurmdbd (they ignore AuthInfo's socket)
        f"AccountingStoragePass={cluster.munge_socket}",
        "JobCompType=jobcomp/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "SchedulerType=sched/backfill",
        "SchedulerParameters=sched_interval=1,bf_interval=1,sched_min_interval=0",
        "MinJobAge=5",
        "KillWait=1",
        "OverTimeLimit=0",
        "SlurmdTimeout=30",
        "SlurmctldTimeout=30",
        "MessageTimeout=10",
        "InactiveLimit=0",
        "Waittime=0",
        "JobRequeue=1",
        "ReturnToService=2",
    ]
    for node, port in zip(NODES, ports.slurmd, strict=True):
        lines.append(
            f"NodeName={node} NodeAddr=127.0.0.1 NodeHostname={cluster.host} Port={port} "
            f"CPUs={CPUS_PER_NODE} RealMemory=1024 State=UNKNOWN"
        )
    lines.append(
        f"PartitionName={PARTITION} Nodes={','.join(NODES)} Default=YES MaxTime=UNLIMITED "
        "DefaultTime=30 State=UP"
    )
    return "\n".join(lines) + "\n"


def slurmdbd_conf(cluster: SlurmCluster) -> str:
    """slurmdbd.conf: MySQL storage on this cluster's MariaDB, listening on 127.0.0.1."""
    return (
        "\n".join(
            [
                "AuthType=auth/munge",
                f"AuthInfo=socket={cluster.munge_socket}",
                f"DbdHost={cluster.host}",
                "DbdAddr=127.0.0.1",
                "CommunicationParameters=NoInAddrAny",
                f"DbdPort={cluster.ports.slurmdbd}",
                "SlurmUser=root",
                "DebugLevel=info",
                f"LogFile={cluster.log_dir / 'slurmdbd.log'}",
                f"PidFile={cluster.root / 'run' / 'slurmdbd.pid'}",
                "StorageType=accounting_storage/mysql",
                "StorageHost=127.0.0.1",
                f"StoragePort={cluster.ports.mariadb}",
                "StorageUser=root",
                f"StorageLoc={DATABASE}",
            ]
        )
        + "\n"
    )


def new_cluster() -> SlurmCluster:
    """A cluster in a fresh folder outside pytest's tree (short socket paths), not started."""
    return SlurmCluster(Path(tempfile.mkdtemp(prefix="turnaround-slurm-")))
