"""`build`: dbt on the warehouse a config names, in a subprocess so no lock outlives it."""

from __future__ import annotations

import contextlib
import difflib
import errno
import functools
import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO

import duckdb
import yaml

from loaders.config import Config, zone_error
from loaders.errors import TurnaroundError
from loaders.raw_schema import create_raw_schema
from warehouse import WarehouseBusy, connect, damaged, write_atomic


def _project_dir() -> Path:
    """The dbt project: inside the package when installed from a wheel (which carries it as
    `turnaround/dbt_project/`), else the checkout this package lies in."""
    here = Path(__file__).resolve().parent
    packaged = here / "dbt_project"
    return packaged if (packaged / "dbt_project.yml").is_file() else here.parent


PROJECT_DIR = _project_dir()

# What a build's result depends on besides the warehouse: the dbt project's files (the tests'
# too, for the no-op skip) and the versions of the engine.
LOGIC_PATHS = ("models", "macros", "seeds", "dbt_project.yml", "profiles.yml")
TEST_PATHS = ("tests/dbt",)
ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
# dbt arguments that change nothing in the warehouse
QUIET_ARGS = frozenset({"--quiet", "-q", "--no-print", "--use-colors", "--no-use-colors"})
FULL_REFRESH = "--full-refresh"
#: seconds dbt gets to stop after Ctrl-C (it cancels its queries) before it is killed
DBT_STOP_S = 20.0


@dataclass
class BuildResult:
    """What a dbt invocation did: its exit code and, per status, how many nodes ended so."""

    exit_code: int
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the reader of dbt's output left (`turnaround build | head`): dbt ran to its end unseen
    reader_left: bool = False

    def raise_if_reader_left(self) -> None:
        """BrokenPipeError when the reader of the output left (the CLI ends quietly, 141)."""
        if self.reader_left:
            raise BrokenPipeError(errno.EPIPE, "the reader of dbt's output left")

    @property
    def data_quality_failed(self) -> bool:
        """True when a test at error severity failed (or any node errored)."""
        return self.exit_code == 1

    def summary(self) -> str:
        """One line: how many nodes were ok, warned, failed or errored."""
        ok = self.statuses["success"] + self.statuses["pass"]
        parts = [f"{ok} ok", f"{self.statuses['warn']} warn"]
        parts.append(f"{self.statuses['fail'] + self.statuses['error']} error")
        if self.statuses["skipped"]:
            parts.append(f"{self.statuses['skipped']} skipped")
        return "dbt build: " + ", ".join(parts)


def dbt_executable() -> str:
    """The dbt of this environment."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise TurnaroundError("dbt is not installed in this environment (run `make run`)")
    return found


def dbt_environment(config: Config) -> dict[str, str]:
    """Environment for dbt: the warehouse path, repo profiles, output beside the warehouse."""
    work = dbt_work_dir(config)
    env = dict(os.environ)
    # dbt.log without every statement's SQL (debug): that costs ~0.3 s a build, and the SQL of
    # each node is in target/run anyway
    env.setdefault("DBT_LOG_LEVEL_FILE", "info")
    env.update(
        {
            "TURNAROUND_WAREHOUSE": str(config.warehouse),
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_PROJECT_DIR": str(PROJECT_DIR),
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    return env


def merge_vars(config: Config, args: list[str]) -> tuple[str, list[str]]:
    """The config's zone merged with any `--vars` the user passed (theirs win), and the other
    arguments: dbt keeps only the last `--vars`, which would silently drop the zone. The vars
    reach the models' SQL as they are, so each is checked first (`check_vars`)."""
    merged: dict[str, object] = {"timezone": config.timezone}
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--vars" or arg.startswith("--vars="):
            text = arg.partition("=")[2] if "=" in arg else next(items, None)
            if not text:
                raise TurnaroundError("--vars needs a value, like '{max_receiver_skew_s: 30}'")
            try:
                given = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                problem = str(exc).replace("\n", " ")
                raise TurnaroundError(f"--vars is not YAML: {problem}") from None
            if not isinstance(given, dict):
                raise TurnaroundError("--vars must be a mapping, like '{max_receiver_skew_s: 30}'")
            check_vars(given)
            merged.update(given)
        else:
            rest.append(arg)
    return json.dumps(merged), rest


@functools.cache
def project_vars() -> dict[str, object]:
    """The vars dbt_project.yml declares, with their defaults."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project.get("vars") or {})


def check_vars(given: dict[object, object]) -> None:
    """TurnaroundError unless every var is one of the project's, of its default's kind: the
    zone one Python and DuckDB both know (as the config's), a finite number, or text (or a list
    of texts) without a single quote (the models put them between quotes in SQL)."""
    known = project_vars()
    for name, value in given.items():
        if name not in known:
            near = difflib.get_close_matches(str(name), list(known), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"the vars are {', '.join(known)}"
            raise TurnaroundError(f"--vars: {name!r} is not a var of this project; {hint}")
        problem = _var_problem(str(name), value, known[name])
        if problem:
            raise TurnaroundError(f"--vars: {problem}")


def _var_problem(name: str, value: object, default: object) -> str | None:
    """Why `value` cannot stand for var `name` (whose default is `default`), or None."""
    if name == "timezone":
        return zone_error(value) if isinstance(value, str) else "timezone must be a zone name"
    if isinstance(default, int | float) and not isinstance(default, bool):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):  # type: ignore[arg-type]
            return f"{name} must be a number, not {value!r}"
        return None
    texts = value if isinstance(default, list) else [value]
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        kind = "a list of texts" if isinstance(default, list) else "text"
        return f"{name} must be {kind}, not {value!r}"
    if any("'" in text for text in texts):
        return f"{name} must not hold a single quote ({value!r})"
    return None


LEDGER_SQL = """
select count(*), coalesce(max(load_id), 0), cast(max(finished_at) as varchar),
    (select count(*) from raw.rejected_records)
from raw.loads
"""


def prepare_warehouse(config: Config) -> list[object]:
    """Before dbt starts: fail in one sentence when another process holds the warehouse, and
    make sure the raw schema dbt reads exists (a new warehouse, or one from an older version).
    Returns the ledger's fingerprint (what this build will see)."""
    con = connect(config.warehouse)
    try:
        con.begin()
        create_raw_schema(con)
        con.commit()
        return list(con.execute(LEDGER_SQL).fetchone() or ())
    finally:
        con.close()


def ledger_fingerprint(config: Config) -> list[object] | None:
    """The ledger's fingerprint now (loads, newest load, rejects), None without a warehouse."""
    if not config.warehouse.exists():
        return None
    con = connect(config.warehouse, read_only=True)
    try:
        return list(con.execute(LEDGER_SQL).fetchone() or ())
    except duckdb.Error:  # an older or half-made warehouse: not current
        return None
    finally:
        con.close()


def _hash_files(paths: tuple[str, ...], with_mtimes: bool) -> str:
    digest = hashlib.sha256()
    for name in paths:
        root = PROJECT_DIR / name
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if not path.is_file():
                continue
            digest.update(path.relative_to(PROJECT_DIR).as_posix().encode() + b"\0")
            if with_mtimes:
                digest.update(str(path.stat().st_mtime_ns).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def logic_fingerprint(dbt_vars: str) -> str:
    """What the models' rows depend on besides the raw data: model, macro and seed files,
    dbt_project.yml, profiles.yml, the vars and the engine's versions. When it differs from the
    last complete build's, the incremental models are rebuilt from scratch."""
    versions = [f"{name}=={metadata.version(name)}" for name in ENGINE_PACKAGES]
    text = json.dumps([_hash_files(LOGIC_PATHS, False), dbt_vars, versions])
    return hashlib.sha256(text.encode()).hexdigest()


def project_fingerprint(dbt_vars: str, args: list[str]) -> str:
    """Everything a build's outcome depends on besides the raw data: the logic fingerprint, the
    singular tests, the other dbt arguments and the files' mtimes (a touched file counts as a
    change, so `touch` forces the next refresh to run dbt)."""
    meaningful = [arg for arg in args if arg not in QUIET_ARGS and arg != FULL_REFRESH]
    paths = LOGIC_PATHS + TEST_PATHS
    text = json.dumps([logic_fingerprint(dbt_vars), _hash_files(paths, True), meaningful])
    return hashlib.sha256(text.encode()).hexdigest()


def build_state_path(config: Config) -> Path:
    """What the last `build` saw: beside its run results."""
    return dbt_work_dir(config) / "last_build_state.json"


def read_build_state(config: Config) -> dict[str, object]:
    """The last build's state ({} when there is none or it cannot be read)."""
    try:
        state = json.loads(build_state_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _save_state(config: Config, state: dict[str, object]) -> None:
    text = json.dumps(state, indent=2, default=str) + "\n"
    write_atomic(build_state_path(config), text.encode("utf-8"))


def read_results(path: Path, exit_code: int = 0) -> BuildResult:
    """A BuildResult from a run_results.json: per status counts, failures and warnings (none
    when it is missing or cannot be read)."""
    result = BuildResult(exit_code=exit_code)
    try:
        nodes = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError, AttributeError):
        return result
    for node in nodes:
        status = str(node.get("status"))
        result.statuses[status] += 1
        line = f"{node.get('unique_id')}: {node.get('message')}"
        if status in ("fail", "error"):
            result.failures.append(line)
        elif status == "warn":
            result.warnings.append(line)
    return result


def run_dbt(config: Config, command: list[str], args: list[str] | None = None) -> BuildResult:
    """Run `dbt <command...>` for the config's warehouse and zone; output goes to the terminal."""
    dbt_vars, rest = merge_vars(config, args or [])
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    prepare_warehouse(config)
    result = _run(config, [*command, "--vars", dbt_vars, *rest])
    result.raise_if_reader_left()
    return result


class DbtOutput:
    """dbt's output on its way to this process's stdout, a line at a time.

    Python tracebacks (dbt's own, and the logging module's when dbt.log cannot be written: one
    per log line on a full disk) are dropped; dbt.log keeps dbt's. A line naming a fault of the
    warehouse file itself (another process holds it, a corrupt block, a full disk) is kept as
    `fault`, the one sentence the command ends with, and nothing more is shown after it.
    """

    CHAIN = ("During handling of the above exception", "The above exception was the direct")

    def __init__(self, warehouse: Path, out: IO[bytes] | None) -> None:
        self.warehouse = warehouse
        self.out = out
        self.fault: TurnaroundError | None = None
        self.skipping: str | None = None  # "traceback" or "logging" while dropping one
        self.held: list[bytes] = []  # dbt's "Encountered an error:", until its next line

    def feed(self, raw: bytes) -> None:
        """Take one line of dbt's output."""
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if self.fault is None:
            self.fault = damaged(self.warehouse, line)
        if self.fault is not None or self._dropped(line):
            self.held.clear()
            return
        if line.endswith("Encountered an error:"):
            self.held.append(raw)
            return
        self._write([*self.held, raw])
        self.held.clear()

    def close(self) -> None:
        """The end of dbt's output: what was held back is shown."""
        if self.fault is None:
            self._write(self.held)
        self.held.clear()

    def _dropped(self, line: str) -> bool:
        """True for a line of a Python traceback (or of the logging module's error report)."""
        if line == "--- Logging error ---":
            self.skipping = "logging"
            return True
        if "Traceback (most recent call last):" in line or line.startswith(self.CHAIN):
            self.skipping = self.skipping or "traceback"
            return True
        if self.skipping is None:
            return False
        if self.skipping == "logging":
            if line.startswith("Arguments:"):
                self.skipping = None
            return True
        if line and not line[0].isspace():
            self.skipping = None  # the exception's own line ends the traceback
        return True

    def _write(self, lines: list[bytes]) -> None:
        if self.out is None or not lines:
            return
        try:
            self.out.write(b"".join(lines))
            self.out.flush()
        except BrokenPipeError:
            self.out = None  # the reader left: dbt runs to its end, unseen (see `_run`)
        except ValueError:  # stdout closed
            self.out = None


def _run(config: Config, dbt_args: list[str]) -> BuildResult:
    """Run dbt with its output passed on through `DbtOutput`; a fault of the warehouse file
    in its output is raised as that one sentence once dbt has ended. Ctrl-C stops dbt (see
    `_stop`) and goes on as KeyboardInterrupt."""
    env = dbt_environment(config)
    env["PYTHONUNBUFFERED"] = "1"  # lines as dbt writes them, not when a pipe buffer fills
    results = Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    results.unlink(missing_ok=True)
    sys.stdout.flush()
    stdout = getattr(sys.stdout, "buffer", None)
    output = DbtOutput(config.warehouse, stdout)
    process = subprocess.Popen(
        [dbt_executable(), *dbt_args],
        env=env,
        cwd=PROJECT_DIR,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            output.feed(line)
        code = process.wait()
    except KeyboardInterrupt:
        _stop(process)
        raise
    output.close()
    if output.fault is not None:
        raise output.fault
    result = read_results(results, min(code, 2))
    result.reader_left = stdout is not None and output.out is None
    return result


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop dbt after Ctrl-C. In this process group it had the terminal's SIGINT too and
    stops by itself, cancelling its queries (each model is one transaction: none is left
    half-written); its output (a traceback) is read and dropped. A dbt this process alone was
    interrupted for gets a SIGINT of its own after a second, and is killed after DBT_STOP_S."""
    drain = threading.Thread(target=_drain, args=(process.stdout,), daemon=True)
    drain.start()
    for sig, seconds in ((None, 1.0), (signal.SIGINT, DBT_STOP_S), (signal.SIGKILL, None)):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
        try:
            process.wait(timeout=seconds)
            break
        except subprocess.TimeoutExpired:
            continue
    drain.join(timeout=5)


def _drain(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            for _ in stream:
                pass


def dbt_work_dir(config: Config) -> Path:
    """Where dbt's target and logs go for a warehouse: beside it."""
    return config.warehouse.parent / "dbt"


def last_build_results(config: Config) -> Path:
    """The run results of the last `dbt build` (other dbt commands overwrite run_results.json)."""
    return dbt_work_dir(config) / "last_build_results.json"


def is_selective(args: list[str]) -> bool:
    """True when the dbt arguments build only part of the project."""
    flags = ("-s", "--select", "-m", "--models", "--exclude", "--selector", "--resource-type")
    return any(arg == flag or arg.startswith(flag + "=") for arg in args for flag in flags)


def _now() -> str:
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _logic_after_partial(previous: dict[str, object], logic: str, selective: bool) -> object:
    """The logic every incremental model is known to be built with after a build that did not
    complete (failed, interrupted, or still running): the previous one when this build had the
    same (each model is one transaction), none when it had other logic (some models may have
    been rebuilt with it, and the next build must be a full refresh whatever its vars)."""
    kept = previous.get("models_logic")
    return None if selective or kept != logic else kept


def build(
    config: Config, args: list[str] | None = None, *, full_refresh: bool = False
) -> BuildResult:
    """`dbt build` on the warehouse named in the config; its results are kept for the report,
    and what it saw in `last_build_state.json` (for the incremental models and the no-op skip).

    The state says "running" before dbt starts, so a build that never ends (Ctrl-C, a kill, a
    full disk) is never taken for a complete one: `refresh` builds again, and `report` says
    the marts are from an incomplete build. Incremental models are rebuilt from scratch
    (`--full-refresh`) when asked, and when the models' logic (files, vars, engine) differs
    from that of the last complete build."""
    dbt_vars, rest = merge_vars(config, args or [])
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    ledger = prepare_warehouse(config)
    full_refresh = full_refresh or FULL_REFRESH in rest
    rest = [arg for arg in rest if arg != FULL_REFRESH]
    logic = logic_fingerprint(dbt_vars)
    previous = read_build_state(config)
    if previous.get("models_logic") != logic:
        full_refresh = True
    selective = is_selective(rest)
    state: dict[str, object] = {
        "status": "running",
        "started_at": _now(),
        "exit_code": None,
        "full_refresh": full_refresh,
        "project": project_fingerprint(dbt_vars, rest),
        "ledger": ledger,
        # the logic the incremental models were all last built with (see _logic_after_partial)
        "models_logic": _logic_after_partial(previous, logic, selective),
        # when the marts became those of an incomplete build (a selective build since does not
        # complete them)
        "incomplete_since": _incomplete_since(previous),
    }
    path = build_state_path(config)
    kept = path.read_bytes() if path.exists() else None
    _save_state(config, state)
    try:
        result = _run(
            config, ["build", "--vars", dbt_vars, *rest, *([FULL_REFRESH] if full_refresh else [])]
        )
    except WarehouseBusy:
        _put_back(path, kept)  # dbt could not open the warehouse: it built nothing
        raise
    _finish(config, state, result, previous, logic, selective)
    result.raise_if_reader_left()
    return result


def _put_back(path: Path, kept: bytes | None) -> None:
    """The state file as it was before a build that never started."""
    if kept is None:
        path.unlink(missing_ok=True)
    else:
        write_atomic(path, kept)


def _incomplete_since(previous: dict[str, object]) -> object:
    """When the marts the previous state describes became those of an incomplete build (None
    when they are a complete build's)."""
    if previous.get("status") == "running":
        return previous.get("started_at")
    return previous.get("incomplete_since")


def _finish(
    config: Config,
    state: dict[str, object],
    result: BuildResult,
    previous: dict[str, object],
    logic: str,
    selective: bool,
) -> None:
    """Record a build dbt ran to its end: its results for the report, its state."""
    results = dbt_work_dir(config) / "target" / "run_results.json"
    if results.exists():
        write_atomic(last_build_results(config), results.read_bytes())
    complete = result.exit_code == 0 and not selective
    state.update(
        status="finished",
        finished_at=_now(),
        exit_code=result.exit_code,
        # a selective one forgets the logic: an incremental model built without its staging
        # table (`--select int_count_jobs_filtered`) read rows older than the fingerprints it
        # recorded, so the next complete build must be a full refresh
        models_logic=logic if complete else _logic_after_partial(previous, logic, selective),
        incomplete_since=state["incomplete_since"] if selective else None,
    )
    _save_state(config, state)


def incomplete_build(config: Config) -> str | None:
    """Why the marts are not those of one complete build, or None: the last build did not
    finish (interrupted, killed, a full disk), stopped at errors, or was a partial build after
    one of those."""
    state = read_build_state(config)
    if state.get("status") == "running":
        return f"the build started {state.get('started_at')} did not finish"
    if state.get("incomplete_since"):
        return f"the build started {state['incomplete_since']} did not finish"
    if state.get("exit_code") not in (None, 0):
        return f"the build of {state.get('finished_at')} stopped at errors"
    return None


def current_build(config: Config, args: list[str] | None = None) -> dict[str, object] | None:
    """The last build's state when running the same build again would change nothing: it
    finished and succeeded, the dbt project (files, mtimes, vars, arguments) is the same, and
    the ledger shows no load since. None otherwise."""
    state = read_build_state(config)
    if state.get("exit_code") != 0 or state.get("status") == "running":
        return None
    dbt_vars, rest = merge_vars(config, args or [])
    if FULL_REFRESH in rest or state.get("project") != project_fingerprint(dbt_vars, rest):
        return None
    if not last_build_results(config).exists():
        return None
    if state.get("ledger") != json.loads(json.dumps(ledger_fingerprint(config), default=str)):
        return None
    return state


def docs(config: Config) -> BuildResult:
    """`dbt docs generate`: the catalog and lineage, the report's exposure included."""
    return run_dbt(config, ["docs", "generate"])
