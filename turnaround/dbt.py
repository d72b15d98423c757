"""dbt on the warehouse a config names, in a subprocess so no lock outlives it: its
environment, the vars, its output, Ctrl-C, and what it reported (`turnaround.builds` decides
when to build and keeps what each build saw)."""

from __future__ import annotations

import contextlib
import difflib
import errno
import functools
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
from pathlib import Path
from typing import IO

from loaders.config import Config, zone_error
from loaders.errors import TurnaroundError
from loaders.raw_schema import create_raw_schema
from warehouse import LEDGER_SQL, connect, damaged


def _project_dir() -> Path:
    """The dbt project: inside the package when installed from a wheel (which carries it as
    `turnaround/dbt_project/`), else the checkout this package lies in."""
    here = Path(__file__).resolve().parent
    packaged = here / "dbt_project"
    return packaged if (packaged / "dbt_project.yml").is_file() else here.parent


PROJECT_DIR = _project_dir()


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
            import yaml  # here, not at the top: `load`, which imports this module, needs none

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
    import yaml

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
        problem = _var_problem(str(name), value, known[str(name)])
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


# the bookkeeping of the incremental models of earlier versions (docs/decisions.md)
OBSOLETE_TABLES = ("staging._incremental_partitions", "staging._incremental_fingerprints")


def prepare_warehouse(config: Config) -> list[object]:
    """Before dbt starts: fail in one sentence when another process holds the warehouse, and
    make sure the raw schema dbt reads exists (a new warehouse, or one from an older version,
    whose obsolete tables go). Returns the ledger's fingerprint (what this build will see)."""
    con = connect(config.warehouse)
    try:
        con.begin()
        create_raw_schema(con)
        for table in OBSOLETE_TABLES:
            con.execute(f"drop table if exists {table}")
        con.commit()
        return list(con.execute(LEDGER_SQL).fetchone() or ())
    finally:
        con.close()


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
    result = invoke_dbt(config, [*command, "--vars", dbt_vars, *rest])
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
            self.out = None  # the reader left: dbt runs to its end, unseen (see `invoke_dbt`)
        except ValueError:  # stdout closed
            self.out = None


def invoke_dbt(config: Config, dbt_args: list[str]) -> BuildResult:
    """Run dbt with its output passed on through `DbtOutput`; a fault of the warehouse file
    in its output is raised as that one sentence once dbt has ended. Ctrl-C stops dbt (see
    `_stop`) and goes on as KeyboardInterrupt. On Spark (`engine = "spark"`), the raw tables
    are exported for it first and its marts linked into the warehouse after
    (`turnaround.spark`)."""
    env = dbt_environment(config)
    if config.engine != "spark":
        return _invoke(config, dbt_args, env)
    from turnaround import spark

    spark.check_installed()
    building = dbt_args[0] == "build"
    with spark.locked(config):
        # a build registers a new export (its on-run-start hook); other commands (docs
        # generate) run no hook and read the views the last build made
        raw_dir = spark.export_raw(config) if building else spark.newest_export(config)
        env.update(spark.environment(config, raw_dir))
        result = _invoke(config, dbt_args, env)
        if building:
            spark.link_marts(config)
            spark.drop_older_exports(raw_dir)
    return result


def _invoke(config: Config, dbt_args: list[str], env: dict[str, str]) -> BuildResult:
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


def docs(config: Config) -> BuildResult:
    """`dbt docs generate`: the catalog and lineage, the report's exposure included."""
    return run_dbt(config, ["docs", "generate"])
