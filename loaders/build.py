"""`build`: dbt on the warehouse a config names, in a subprocess so no lock outlives it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import duckdb
import yaml

from loaders.config import Config
from loaders.errors import TurnaroundError
from loaders.warehouse import connect, create_raw_schema

PROJECT_DIR = Path(__file__).resolve().parent.parent

# What a build's result depends on besides the warehouse: the dbt project's files (the tests'
# too, for the no-op skip) and the versions of the engine.
LOGIC_PATHS = ("models", "macros", "seeds", "dbt_project.yml", "profiles.yml")
TEST_PATHS = ("tests/dbt",)
ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
# dbt arguments that change nothing in the warehouse
QUIET_ARGS = frozenset({"--quiet", "-q", "--no-print", "--use-colors", "--no-use-colors"})
FULL_REFRESH = "--full-refresh"


@dataclass
class BuildResult:
    """What a dbt invocation did: its exit code and, per status, how many nodes ended so."""

    exit_code: int
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

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
    arguments: dbt keeps only the last `--vars`, which would silently drop the zone."""
    merged: dict[str, object] = {"timezone": config.timezone}
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--vars" or arg.startswith("--vars="):
            text = arg.partition("=")[2] if "=" in arg else next(items, "")
            try:
                given = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                raise TurnaroundError(f"--vars is not YAML: {exc}") from None
            if not isinstance(given, dict):
                raise TurnaroundError("--vars must be a mapping, like '{max_receiver_skew_s: 30}'")
            merged.update(given)
        else:
            rest.append(arg)
    return json.dumps(merged), rest


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


def read_results(path: Path, exit_code: int = 0) -> BuildResult:
    """A BuildResult from a run_results.json: per status counts, failures and warnings."""
    result = BuildResult(exit_code=exit_code)
    if path.exists():
        for node in json.loads(path.read_text(encoding="utf-8")).get("results", []):
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
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    prepare_warehouse(config)
    dbt_vars, rest = merge_vars(config, args or [])
    return _run(config, [*command, "--vars", dbt_vars, *rest])


def _run(config: Config, dbt_args: list[str]) -> BuildResult:
    env = dbt_environment(config)
    results = Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    results.unlink(missing_ok=True)
    completed = subprocess.run([dbt_executable(), *dbt_args], env=env, cwd=PROJECT_DIR, check=False)
    return read_results(results, min(completed.returncode, 2))


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


def build(
    config: Config, args: list[str] | None = None, *, full_refresh: bool = False
) -> BuildResult:
    """`dbt build` on the warehouse named in the config; its results are kept for the report,
    and what it saw in `last_build_state.json` (for the incremental models and the no-op skip).

    Incremental models are rebuilt from scratch (`--full-refresh`) when asked, and when the
    models' logic (files, vars, engine) differs from that of the last complete build."""
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    ledger = prepare_warehouse(config)
    dbt_vars, rest = merge_vars(config, args or [])
    full_refresh = full_refresh or FULL_REFRESH in rest
    rest = [arg for arg in rest if arg != FULL_REFRESH]
    logic = logic_fingerprint(dbt_vars)
    previous = read_build_state(config)
    if previous.get("models_logic") != logic:
        full_refresh = True
    result = _run(
        config, ["build", "--vars", dbt_vars, *rest, *([FULL_REFRESH] if full_refresh else [])]
    )
    results = dbt_work_dir(config) / "target" / "run_results.json"
    if results.exists():
        shutil.copyfile(results, last_build_results(config))
    selective = is_selective(rest)
    complete = result.exit_code == 0 and not selective
    state = {
        "finished_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC",
        "exit_code": result.exit_code,
        "full_refresh": full_refresh,
        "project": project_fingerprint(dbt_vars, rest),
        "ledger": ledger,
        # the logic the incremental models were all last built with (kept from the previous
        # state until a complete build succeeds: a failed one may have rebuilt some). A
        # selective one forgets it: an incremental model built without its staging table
        # (`--select int_count_jobs_filtered`) read rows older than the fingerprints it
        # recorded, so the next complete build must be a full refresh
        "models_logic": logic if complete else None if selective else previous.get("models_logic"),
    }
    path = build_state_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, default=str) + "\n", encoding="utf-8")
    return result


def current_build(config: Config, args: list[str] | None = None) -> dict[str, object] | None:
    """The last build's state when running the same build again would change nothing: it
    succeeded, the dbt project (files, mtimes, vars, arguments) is the same, and the ledger
    shows no load since. None otherwise."""
    state = read_build_state(config)
    if state.get("exit_code") != 0:
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
