"""The Slurm loader against a real Slurm 22.05 cluster (tests/slurm_cluster.py) the session
starts: a mix of jobs driven to their final states, `turnaround pull-slurm` with the real
`sacct` on PATH while they run and after, and captures of sacct's output in its many forms, each
loaded into a warehouse of its own and checked against the accounting database's epoch times.

Which jobs the count filter keeps is decided from what each job is (its name, nodes, QOS, exit
status, whether it started and how it ended), never from what the loader made of it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Built, refresh, turnaround
from tests.slurm_cluster import (
    REALTIME_QOS,
    AccountingRecord,
    ClusterError,
    SlurmCluster,
    new_cluster,
    state_name,
)

pytestmark = pytest.mark.slurm

DEFAULT_FIELDS = "JobName,JobID,Timelimit,Elapsed,Submit,Start,End,ReqNodes,QOS,User,ExitCode"
PULL_FIELDS = f"{DEFAULT_FIELDS},State"
OTHER_ORDER = "JobID,JobName,State,Submit,Start,End,Elapsed,Timelimit,ExitCode,QOS,ReqNodes,User"
EXTRA_FIELDS = f"{DEFAULT_FIELDS},State,Partition,NodeList"
STAMP = "%Y-%m-%dT%H:%M:%S"
MIX_TIMEOUT_S = 240.0

SLEEP_SCRIPT = '#!/bin/sh\nsleep "${1:-3}"\nexit "${2:-0}"\n'
STEPS_SCRIPT = (
    "#!/bin/sh\nsrun --nodes=4 --ntasks=4 hostname\nsrun --nodes=1 --ntasks=1 sleep 1\nexit 0\n"
)
# components of a heterogeneous job never share a node: 3 + 1 fill the four
HET_SCRIPT = f"""#!/bin/sh
#SBATCH --job-name=distiller-count-het --nodes=3 --qos={REALTIME_QOS}
#SBATCH hetjob
#SBATCH --job-name=distiller-count-het --nodes=1 --qos={REALTIME_QOS}
sleep 3
"""


# ---- the job mix ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One job as sacct lists it (an array task, a heterogeneous component), what it is, and
    how it ends."""

    job_id: str
    what: str
    name: str
    req_nodes: int = 4
    qos: str = REALTIME_QOS
    exit_code: str = "0:0"  # a job ended by scancel or its time limit shows 0:0 too
    # sacct shows a Start: a job that ran, and also one cancelled while it queued once
    # eligible (Slurm records Start = End = the cancel time); not one cancelled while held
    start_known: bool = True
    final_state: str = "COMPLETED"  # the newest run's
    listed: bool = True  # False: sacct's time-window selection never lists it

    def passes_published_filter(self) -> bool:
        """The published filters: name, a known start, 4 nodes, a realtime QOS, exit 0:0."""
        return (
            "distiller-count" in self.name
            and self.start_known
            and self.req_nodes == 4
            and "realtime_" in self.qos
            and self.exit_code == "0:0"
        )

    def kept(self, has_state: bool) -> bool:
        """Whether the count filter keeps it, from an input with or without sacct's State."""
        completed = self.final_state == "COMPLETED"
        return self.listed and self.passes_published_filter() and (completed or not has_state)


@dataclass
class Mix:
    """The jobs submitted, the UTC instant just before the first, and the pulls made."""

    jobs: list[Job]
    began: datetime
    pulls: list[subprocess.CompletedProcess[str]]

    def listed(self) -> list[Job]:
        """The jobs sacct's time window lists."""
        return [job for job in self.jobs if job.listed]

    def expected_kept(self, has_state: bool) -> list[str]:
        """Sorted ids of the jobs the count filter must keep."""
        return sorted(job.job_id for job in self.jobs if job.kept(has_state))


def sleeper(
    cluster: SlurmCluster, name: str, *options: str, seconds: int = 3, code: int = 0
) -> str:
    """Submit the sleep script as a 4-node realtime job unless `options` say otherwise; return
    its id."""
    defaults = {"--nodes": "--nodes=4", "--qos": f"--qos={REALTIME_QOS}"}
    for option in options:
        defaults.pop(option.split("=")[0], None)
    script = cluster.job_dir / "sleep.sh"
    return cluster.sbatch(
        f"--job-name={name}", *defaults.values(), *options, str(script), str(seconds), str(code)
    )


def write_scripts(cluster: SlurmCluster) -> None:
    """The batch scripts of the mix, in the jobs' folder."""
    for name, text in (("sleep.sh", SLEEP_SCRIPT), ("steps.sh", STEPS_SCRIPT)):
        path = cluster.job_dir / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
    (cluster.job_dir / "het.sh").write_text(HET_SCRIPT, encoding="utf-8")


def start_timeout_and_cancelled_queued(cluster: SlurmCluster) -> list[Job]:
    """A job that runs into its 1-minute limit (the longest of the mix, so first), a job
    cancelled while it queued behind it for resources (eligible, so listed), and one cancelled
    while held (never eligible: sacct's windows never list it)."""
    timeout = sleeper(cluster, "distiller-count-timeout", "--time=1", seconds=300)
    cluster.wait_state(timeout, "RUNNING")
    queued = sleeper(cluster, "distiller-count-queued", "--exclusive")
    cluster.wait_for(
        f"job {queued} pending for resources",
        lambda: cluster.queue().get(queued) == ("PENDING", "Resources"),
        30,
    )
    held = sleeper(cluster, "distiller-count-held-cancelled", "--hold")
    cluster.run("scancel", queued, held)
    return [
        Job(timeout, "runs into its time limit", "distiller-count-timeout", final_state="TIMEOUT"),
        Job(queued, "cancelled while queued", "distiller-count-queued", final_state="CANCELLED"),
        Job(
            held,
            "cancelled while held",
            "distiller-count-held-cancelled",
            start_known=False,
            final_state="CANCELLED",
            listed=False,
        ),
    ]


def submit_the_rest(cluster: SlurmCluster) -> dict[str, Job]:
    """Every other job, submitted at once; returns them by role (the roles `cancel`, `requeue`,
    `suspend` and `held` are driven afterwards)."""
    count = [f"distiller-count-{n}" for n in (1, 2, 3)]
    jobs = {
        f"count-{n}": Job(sleeper(cluster, name), "passes every filter", name)
        for n, name in enumerate(count, 1)
    }
    name = "other-job"
    jobs["other-name"] = Job(sleeper(cluster, name), "another name", name)
    name = "distiller-count-two-nodes"
    jobs["two-nodes"] = Job(sleeper(cluster, name, "--nodes=2"), "2 nodes", name, req_nodes=2)
    name = "distiller-count-normal"
    jobs["normal"] = Job(sleeper(cluster, name, "--qos=normal"), "QOS normal", name, qos="normal")
    name = "distiller-count-exit1"
    job_id = sleeper(cluster, name, code=1)
    jobs["exit1"] = Job(job_id, "exits 1", name, exit_code="1:0", final_state="FAILED")
    name = "distiller-count-cancelled"
    job_id = sleeper(cluster, name, seconds=60)
    jobs["cancel"] = Job(job_id, "cancelled while running", name, final_state="CANCELLED")
    name = "distiller-count-held"
    jobs["held"] = Job(sleeper(cluster, name, "--hold"), "held then released", name)
    name = "distiller-count-requeued"
    job_id = sleeper(cluster, name, "--requeue", seconds=6)
    jobs["requeue"] = Job(job_id, "requeued, then completes", name)
    name = "distiller-count-suspended"
    jobs["suspend"] = Job(sleeper(cluster, name, seconds=8), "suspended then resumed", name)
    name = "distiller-count-unlimited"
    jobs["unlimited"] = Job(sleeper(cluster, name, "--time=UNLIMITED"), "no time limit", name)
    name = "distiller-count-two-days"
    jobs["two-days"] = Job(sleeper(cluster, name, "--time=2-00:00:00"), "a 2-day limit", name)
    name = "distiller-count-steps"
    job_id = cluster.sbatch(
        f"--job-name={name}",
        "--nodes=4",
        f"--qos={REALTIME_QOS}",
        str(cluster.job_dir / "steps.sh"),
    )
    jobs["steps"] = Job(job_id, "srun steps in its script", name)
    name = "distiller-count-µ-✓"
    jobs["unicode"] = Job(sleeper(cluster, name), "a unicode name", name)
    name = "distiller-count-a|b"
    jobs["pipe"] = Job(sleeper(cluster, name), "a name holding |", name)
    name = "distiller-count-array"
    array = sleeper(cluster, name, "--array=1-3")
    for task in (1, 2, 3):
        jobs[f"array-{task}"] = Job(f"{array}_{task}", "an array task", name)
    het = cluster.sbatch(str(cluster.job_dir / "het.sh"))
    name = "distiller-count-het"
    jobs["het-0"] = Job(f"{het}+0", "heterogeneous component of 3 nodes", name, req_nodes=3)
    jobs["het-1"] = Job(f"{het}+1", "heterogeneous component of 1 node", name, req_nodes=1)
    return jobs


def drive(cluster: SlurmCluster, roles: dict[str, Job]) -> None:
    """Cancel, requeue, suspend and resume, and release the jobs whose role asks for it."""
    cancel, requeue = roles["cancel"].job_id, roles["requeue"].job_id
    suspend = roles["suspend"].job_id
    for job_id in (cancel, requeue, suspend):
        cluster.wait_state(job_id, "RUNNING")
    time.sleep(1)  # each has run a moment
    cluster.run("scancel", cancel)
    cluster.run("scontrol", "requeue", requeue)
    cluster.run("scontrol", "suspend", suspend)
    cluster.wait_state(suspend, "SUSPENDED")
    time.sleep(3)
    cluster.run("scontrol", "resume", suspend)
    cluster.run("scontrol", "release", roles["held"].job_id)


def wait_until_accounted(cluster: SlurmCluster, jobs: list[Job]) -> None:
    """Wait until no job is queued or running and the accounting database holds every job's
    end (slurmctld sends it to slurmdbd after the job leaves the queue)."""
    cluster.wait_for("an empty queue", lambda: not cluster.queue(), MIX_TIMEOUT_S)

    def all_ended() -> bool:
        """True when the database holds an end for every job."""
        records = cluster.accounting()
        return all(job.job_id in records and records[job.job_id].end for job in jobs)

    cluster.wait_for("every job's end in the accounting database", all_ended, 60)


def run_mix(cluster: SlurmCluster, pull: Callable[[], None]) -> list[Job]:
    """Submit the mix, pull while it runs, drive every job to its final state; return the
    jobs with what the filter must decide for each."""
    write_scripts(cluster)
    first = start_timeout_and_cancelled_queued(cluster)
    roles = submit_the_rest(cluster)
    jobs = first + list(roles.values())
    pull()  # jobs queued and running
    drive(cluster, roles)
    pull()  # one suspended or resumed, one requeued (its first run ended, its second pending)
    others = {job.job_id for job in jobs if job.final_state != "TIMEOUT"}
    cluster.wait_for(
        "every job but the time-limit one done",
        lambda: not others & set(cluster.queue()),
        MIX_TIMEOUT_S,
    )
    pull()  # only the job that will time out still runs
    wait_until_accounted(cluster, [job for job in jobs if job.listed])
    return jobs


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cluster() -> Iterator[SlurmCluster]:
    """The running cluster; SLURM_CONF (and its marker) set in os.environ for the session, so
    `turnaround pull-slurm`'s sacct finds it. Everything is stopped at the end, on failure too."""
    started = new_cluster()
    try:
        seconds = started.start()
    except ClusterError as error:  # start() has stopped what it started
        pytest.fail(f"the Slurm cluster did not start: {error}", pytrace=False)
    print(f"\nSlurm cluster up in {seconds:.1f} s at {started.root}")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in started.env_overrides.items():
            patch.setenv(key, value)
        try:
            yield started
        finally:
            strays = started.stop()
            print(f"\nSlurm cluster stopped ({len(strays)} stray processes ended)")


PULLED_CONFIG = """\
warehouse = "warehouse.duckdb"
timezone = "America/Los_Angeles"

[[inputs]]
source = "slurm"
format = "sacct"
paths = ["slurm/pulled/*.txt"]
timezone = "UTC"
"""


@pytest.fixture(scope="session")
def pulled_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the pull-slurm config (slurm/pulled/ beside it)."""
    folder = tmp_path_factory.mktemp("pulled")
    (folder / "turnaround.toml").write_text(PULLED_CONFIG, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def mix(cluster: SlurmCluster, pulled_site: Path) -> Mix:
    """The job mix, driven to its end, pulled with `turnaround pull-slurm` three times while it
    ran and once after."""
    began = datetime.now(UTC)
    since = (began - timedelta(minutes=2)).replace(second=0, microsecond=0)
    pulls: list[subprocess.CompletedProcess[str]] = []

    def pull() -> None:
        """`turnaround pull-slurm` from `since` to now; its result joins `pulls`."""
        until = datetime.now(UTC).replace(microsecond=0)
        config = str(pulled_site / "turnaround.toml")
        pulls.append(
            turnaround(
                "pull-slurm",
                "--config",
                config,
                "--since",
                since.strftime(STAMP),
                "--until",
                until.strftime(STAMP),
            )
        )

    try:
        jobs = run_mix(cluster, pull)
    except ClusterError as error:
        pytest.fail(f"the job mix did not run: {error}", pytrace=False)
    time.sleep(1)  # the last pull's --until is after every job's end
    pull()
    return Mix(jobs, began, pulls)


# ---- captures of sacct output --------------------------------------------------------------


@dataclass(frozen=True)
class Capture:
    """One form of sacct output: its options, the TZ it ran in, the input's keys."""

    name: str
    options: tuple[str, ...]
    fields: str
    zone: str = "UTC"
    sacct_format: str | None = None  # the input key naming a headerless file's field order

    @property
    def has_state(self) -> bool:
        """Whether the output carries sacct's State."""
        return "State" in self.fields.split(",")


CAPTURES = (
    Capture("parsable2", ("--parsable2", "--allocations"), DEFAULT_FIELDS),
    Capture("parsable2-noheader", ("--parsable2", "--noheader", "--allocations"), DEFAULT_FIELDS),
    Capture("parsable", ("--parsable", "--allocations"), DEFAULT_FIELDS),
    Capture("parsable-noheader", ("--parsable", "--noheader", "--allocations"), DEFAULT_FIELDS),
    Capture("duplicates", ("--parsable2", "--allocations", "--duplicates"), PULL_FIELDS),
    Capture("steps", ("--parsable2",), DEFAULT_FIELDS),
    Capture("utc-state", ("--parsable2", "--allocations"), PULL_FIELDS),
    Capture(
        "los-angeles", ("--parsable2", "--allocations"), PULL_FIELDS, zone="America/Los_Angeles"
    ),
    Capture("other-order", ("--parsable2", "--allocations"), OTHER_ORDER),
    Capture(
        "other-order-noheader",
        ("--parsable2", "--noheader", "--allocations"),
        OTHER_ORDER,
        sacct_format=OTHER_ORDER,
    ),
    Capture("extra-fields", ("--parsable2", "--allocations"), EXTRA_FIELDS),
)
CAPTURE_NAMES = [capture.name for capture in CAPTURES]
WAREHOUSES = ["pulled", *CAPTURE_NAMES]
WITH_STATE = ["pulled", *(c.name for c in CAPTURES if c.has_state)]


def sacct_window(mix: Mix, zone: str) -> tuple[str, str]:
    """--starttime and --endtime around the mix, as local times of the zone sacct runs in."""
    local = ZoneInfo(zone)
    start = (mix.began - timedelta(minutes=2)).astimezone(local)
    end = (datetime.now(UTC) + timedelta(minutes=1)).astimezone(local)
    return f"--starttime={start.strftime(STAMP)}", f"--endtime={end.strftime(STAMP)}"


def run_capture(cluster: SlurmCluster, mix: Mix, capture: Capture) -> str:
    """sacct's output in the capture's form (SLURM_TIME_FORMAT=standard, TZ of the capture)."""
    env = {"TZ": capture.zone, "SLURM_TIME_FORMAT": "standard"}
    command = [
        "sacct",
        *capture.options,
        "--allusers",
        f"--format={capture.fields}",
        *sacct_window(mix, capture.zone),
    ]
    return cluster.run(*command, env=env).stdout


def capture_config(capture: Capture) -> str:
    """The turnaround.toml of a capture's warehouse: one sacct input in the capture's zone."""
    lines = [
        'warehouse = "warehouse.duckdb"',
        'timezone = "America/Los_Angeles"',
        "",
        "[[inputs]]",
        'source = "slurm"',
        'format = "sacct"',
        'paths = ["slurm/*.txt"]',
        f'timezone = "{capture.zone}"',
    ]
    if capture.sacct_format:
        lines.append(f'sacct_format = "{capture.sacct_format}"')
    return "\n".join(lines) + "\n"


@dataclass
class Warehouse:
    """A warehouse loaded from one capture (or the pulls): whether its input carried State,
    its text, and the exit codes and output of what built it."""

    name: str
    has_state: bool
    text: str
    built: Built
    steps: dict[str, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def captures(cluster: SlurmCluster, mix: Mix) -> dict[str, str]:
    """Every capture's text, taken once the mix has ended."""
    return {capture.name: run_capture(cluster, mix, capture) for capture in CAPTURES}


def build_capture(folder: Path, capture: Capture, text: str) -> Warehouse:
    """Write the capture and its config into `folder`, `turnaround load` and `turnaround build`
    the Slurm models."""
    (folder / "slurm").mkdir(parents=True)
    (folder / "slurm" / f"{capture.name}.txt").write_text(text, encoding="utf-8")
    config = folder / "turnaround.toml"
    config.write_text(capture_config(capture), encoding="utf-8")
    load = turnaround("load", "--config", str(config))
    # the Slurm models and their tests, not tests that also read other sources' models
    build = turnaround(
        "build",
        "--config",
        str(config),
        "--select",
        "+int_count_jobs_filtered",
        "--indirect-selection",
        "cautious",
    )
    output = load.stdout + load.stderr + build.stdout + build.stderr
    built = Built(config, folder / "warehouse.duckdb", build.returncode, output)
    return Warehouse(capture.name, capture.has_state, text, built, {"load": load, "build": build})


def build_pulled(folder: Path) -> Warehouse:
    """`turnaround refresh` of the pull-slurm config."""
    built = refresh(folder / "turnaround.toml")
    files = sorted((folder / "slurm" / "pulled").glob("*.txt"))
    text = "".join(f.read_text(encoding="utf-8") for f in files)
    done = subprocess.CompletedProcess(["turnaround", "refresh"], built.exit_code, built.output)
    return Warehouse("pulled", True, text, built, {"refresh": done})


@pytest.fixture(scope="session")
def warehouses(
    mix: Mix,
    captures: dict[str, str],
    pulled_site: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Warehouse]:
    """A function giving the warehouse of a capture name (or `pulled`), built on first use."""
    made: dict[str, Warehouse] = {}
    by_name = {capture.name: capture for capture in CAPTURES}

    def get(name: str) -> Warehouse:
        """The warehouse of `name`, built now if it was not yet."""
        if name not in made:
            if name == "pulled":
                made[name] = build_pulled(pulled_site)
            else:
                folder = tmp_path_factory.mktemp(name)
                made[name] = build_capture(folder, by_name[name], captures[name])
        return made[name]

    return get


# ---- the cluster and the mix ---------------------------------------------------------------


def listening_addresses(pids: list[int]) -> list[str]:
    """The local `address:port` of every TCP socket in LISTEN held by these processes."""
    inodes: set[str] = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        for fd in fd_dir.iterdir() if fd_dir.exists() else ():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            cells = line.split()
            if cells[3] == "0A" and cells[9] in inodes:  # 0A: LISTEN
                address, port = cells[1].split(":")
                found.append(f"{_address(address, width)}:{int(port, 16)}")
    return found


def _address(hex_address: str, width: int) -> str:
    """/proc/net/tcp's little-endian hex address as text (IPv6 shown as hex)."""
    if width == 8:
        return ".".join(str(int(hex_address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return hex_address


def test_cluster_starts_within_a_minute(cluster: SlurmCluster) -> None:
    assert cluster.started_in_s < 60, f"start-up took {cluster.started_in_s:.1f} s"
    config = cluster.run("scontrol", "show", "config").stdout
    assert re.search(r"^MULTIPLE_SLURMD\s+= Yes$", config, re.MULTILINE)
    nodes = cluster.run("sinfo", "--noheader", "--Node", "--format=%N %t %P").stdout.split("\n")
    assert sorted(line.split()[0] for line in nodes if line) == ["n1", "n2", "n3", "n4"]


def test_daemons_listen_on_loopback_only(cluster: SlurmCluster) -> None:
    pids = [daemon.process.pid for daemon in cluster.daemons]
    addresses = listening_addresses(pids)
    ports = cluster.ports
    expected = {ports.mariadb, ports.slurmdbd, ports.slurmctld, *ports.slurmd}
    assert {int(a.rsplit(":", 1)[1]) for a in addresses} >= expected
    assert all(a.startswith("127.0.0.1:") for a in addresses), addresses


def test_clients_find_the_cluster_through_slurm_conf(cluster: SlurmCluster) -> None:
    assert os.environ["SLURM_CONF"] == str(cluster.conf)
    qos = cluster.run("sacctmgr", "--noheader", "--parsable2", "show", "assoc", "format=user,qos")
    assert f"root|normal,{REALTIME_QOS}" in qos.stdout.splitlines()


def test_the_mix_reached_its_final_states(cluster: SlurmCluster, mix: Mix) -> None:
    records = cluster.accounting()
    assert [(job.job_id, job.what, records[job.job_id].state_name) for job in mix.jobs] == [
        (job.job_id, job.what, job.final_state) for job in mix.jobs
    ]
    # a job sacct's windows never list may or may not have a start recorded (a held job
    # cancelled at once: either), so only the listed ones are compared
    assert [(job.job_id, bool(records[job.job_id].start)) for job in mix.listed()] == [
        (job.job_id, job.start_known) for job in mix.listed()
    ]
    requeued = [job for job in mix.jobs if job.what.startswith("requeued")]
    runs = cluster.db(
        f"select state from turnaround_job_table where id_job = {requeued[0].job_id} "
        "order by job_db_inx"
    )
    assert [state_name(int(state)) for (state,) in runs] == ["REQUEUED", "COMPLETED"]


# ---- pull-slurm ----------------------------------------------------------------------------


def test_pull_slurm_runs_the_real_sacct(mix: Mix, pulled_site: Path) -> None:
    assert len(mix.pulls) == 4
    for done in mix.pulls:
        assert done.returncode == 0, done.stderr
    files = sorted((pulled_site / "slurm" / "pulled").glob("*.txt"))
    assert len(files) == 4
    for path in files:
        assert path.read_text(encoding="utf-8").splitlines()[0] == PULL_FIELDS.replace(",", "|")


def test_refresh_of_the_pulls_succeeds(warehouses: Callable[[str], Warehouse]) -> None:
    built = warehouses("pulled").built
    assert built.exit_code == 0, built.output


# ---- the captures ---------------------------------------------------------------------------


@pytest.mark.parametrize("capture", CAPTURES, ids=CAPTURE_NAMES)
def test_capture_is_the_form_asked_for(captures: dict[str, str], capture: Capture) -> None:
    lines = captures[capture.name].splitlines()
    header = capture.fields.replace(",", "|")
    assert (lines[0].removesuffix("|") == header) == ("--noheader" not in capture.options)
    assert all(line.endswith("|") for line in lines) == ("--parsable" in capture.options)
    has_steps = any(re.search(r"\|\d+(_\d+|\+\d+)?\.batch\|", f"|{line}") for line in lines)
    assert has_steps == ("--allocations" not in capture.options)


@pytest.mark.parametrize("name", WAREHOUSES)
def test_warehouse_builds(warehouses: Callable[[str], Warehouse], name: str) -> None:
    house = warehouses(name)
    for step, done in house.steps.items():
        assert done.returncode == 0, f"{step} exited {done.returncode}:\n{house.built.output}"


@pytest.mark.parametrize("name", WAREHOUSES)
def test_every_listed_job_loads_and_nothing_is_rejected(
    warehouses: Callable[[str], Warehouse], mix: Mix, name: str
) -> None:
    house = warehouses(name)
    rejected = house.built.query("select line_number, reason, raw_text from raw.rejected_records")
    assert rejected == []
    loaded = {job_id for (job_id,) in house.built.query("select distinct job_id from raw.slurm")}
    assert sorted(job.job_id for job in mix.listed() if job.job_id not in loaded) == []
    assert sorted(job.job_id for job in mix.jobs if not job.listed and job.job_id in loaded) == []


def staged(house: Warehouse) -> dict[str, tuple[object, ...]]:
    """stg_slurm__jobs by job id: name, epoch submit/start/end, elapsed and limit seconds (a
    duplicated id shows as a failure of the caller's count check)."""
    rows = house.built.query(
        "select job_id, job_name, epoch(submitted_at)::bigint, epoch(started_at)::bigint,"
        " epoch(ended_at)::bigint, elapsed_s, timelimit_s from staging.stg_slurm__jobs"
    )
    return {str(row[0]): tuple(row[1:]) for row in rows}


def accounted(record: AccountingRecord) -> tuple[object, ...]:
    """What staging must show for a job, from the accounting database's record."""
    return (
        record.job_name,
        record.submit,
        record.started_at,
        record.ended_at,
        record.elapsed_s,
        record.timelimit_s,
    )


def staged_problems(
    house: Warehouse, mix: Mix, records: dict[str, AccountingRecord]
) -> dict[str, object]:
    """Per job: how many staged rows it has when not one, else (staged, accounted) when they
    differ; and `extra` for staged ids that are none of the mix's listed jobs."""
    rows = staged(house)
    counts = Counter(
        str(job_id) for (job_id,) in house.built.query("select job_id from staging.stg_slurm__jobs")
    )
    problems: dict[str, object] = {}
    for job in mix.listed():
        if counts[job.job_id] != 1:
            problems[job.job_id] = f"{counts[job.job_id]} staged rows ({job.what})"
        elif rows[job.job_id] != accounted(records[job.job_id]):
            problems[job.job_id] = (job.what, rows[job.job_id], accounted(records[job.job_id]))
    extra = sorted(set(counts) - {job.job_id for job in mix.listed()})
    if extra:
        problems["extra"] = extra
    return problems


@pytest.mark.parametrize("name", WAREHOUSES)
def test_one_staged_row_per_job_with_the_accounting_times(
    warehouses: Callable[[str], Warehouse], cluster: SlurmCluster, mix: Mix, name: str
) -> None:
    problems = staged_problems(warehouses(name), mix, cluster.accounting())
    assert problems == {}, "job: (what, staged, accounting database)"


@pytest.mark.parametrize("name", WITH_STATE)
def test_staged_state_is_the_accounted_one(
    warehouses: Callable[[str], Warehouse], cluster: SlurmCluster, mix: Mix, name: str
) -> None:
    rows = warehouses(name).built.query("select job_id, state from staging.stg_slurm__jobs")
    states = {str(job_id): str(state).split(" ")[0] for job_id, state in rows}
    records = cluster.accounting()
    wrong = {
        job.job_id: (job.what, states.get(job.job_id), records[job.job_id].state_name)
        for job in mix.listed()
        if states.get(job.job_id) != records[job.job_id].state_name
    }
    assert wrong == {}, "job: (what, staged state, accounting database's)"


@pytest.mark.parametrize("name", WAREHOUSES)
def test_count_filter_keeps_the_expected_jobs(
    warehouses: Callable[[str], Warehouse], mix: Mix, name: str
) -> None:
    house = warehouses(name)
    rows = house.built.query("select job_id from staging.int_count_jobs_filtered")
    kept = {str(job_id) for (job_id,) in rows}
    expected = set(mix.expected_kept(house.has_state))
    what = {job.job_id: job.what for job in mix.jobs}
    assert {
        "kept, should not be": sorted(f"{j} ({what.get(j)})" for j in kept - expected),
        "dropped, should be kept": sorted(f"{j} ({what[j]})" for j in expected - kept),
    } == {"kept, should not be": [], "dropped, should be kept": []}
