"""The build state and the no-op skip: what each `build` saw (the dbt project, the vars, the
ledger, how it ended) kept beside the warehouse, so `refresh` runs dbt only when something
changed, and an interrupted build is never trusted."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import duckdb

from loaders.config import Config
from turnaround.dbt import (
    PROJECT_DIR,
    BuildResult,
    dbt_work_dir,
    invoke_dbt,
    merge_vars,
    prepare_warehouse,
)
from warehouse import LEDGER_SQL, WarehouseBusy, connect, write_atomic

# What a build's result depends on besides the warehouse: the dbt project's files (the tests'
# too) and the versions of the engine.
PROJECT_PATHS = ("models", "macros", "seeds", "tests/dbt", "dbt_project.yml", "profiles.yml")


ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
SPARK_PACKAGES = ("dbt-spark", "pyspark")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


# dbt arguments that change nothing in the warehouse
QUIET_ARGS = frozenset({"--quiet", "-q", "--no-print", "--use-colors", "--no-use-colors"})


FULL_REFRESH = "--full-refresh"


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


def _hash_files(paths: tuple[str, ...]) -> str:
    """One hash of the files under `paths` (relative to the project): names, mtimes, bytes."""
    digest = hashlib.sha256()
    for name in paths:
        root = PROJECT_DIR / name
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if not path.is_file():
                continue
            digest.update(path.relative_to(PROJECT_DIR).as_posix().encode() + b"\0")
            digest.update(str(path.stat().st_mtime_ns).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def project_fingerprint(config: Config, dbt_vars: str, args: list[str]) -> str:
    """Everything a build's outcome depends on besides the raw data: the model, macro, seed and
    singular test files with their mtimes (a touched file counts as a change, so `touch` forces
    the next refresh to run dbt), dbt_project.yml, profiles.yml, the vars, the other dbt
    arguments, the engine (and, on Spark, where it runs) and the engine's versions."""
    meaningful = [arg for arg in args if arg not in QUIET_ARGS and arg != FULL_REFRESH]
    packages: tuple[str, ...] = ENGINE_PACKAGES
    engine: list[object] = [config.engine]
    if config.engine == "spark":
        packages += SPARK_PACKAGES
        spark = config.spark
        engine += [spark.master, str(spark.warehouse_dir), list(spark.conf)]
    versions = [f"{name}=={_version(name)}" for name in packages]
    text = json.dumps([_hash_files(PROJECT_PATHS), dbt_vars, versions, meaningful, engine])
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


def last_build_results(config: Config) -> Path:
    """The run results of the last `dbt build` (other dbt commands overwrite run_results.json)."""
    return dbt_work_dir(config) / "last_build_results.json"


def is_selective(args: list[str]) -> bool:
    """True when the dbt arguments build only part of the project."""
    flags = ("-s", "--select", "-m", "--models", "--exclude", "--selector", "--resource-type")
    return any(arg == flag or arg.startswith(flag + "=") for arg in args for flag in flags)


def _now() -> str:
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"


def build(
    config: Config, args: list[str] | None = None, *, full_refresh: bool = False
) -> BuildResult:
    """`dbt build` on the warehouse named in the config; its results are kept for the report,
    and what it saw in `last_build_state.json` (for the no-op skip and the incomplete-build
    notice). `--full-refresh` (the flag or the argument) is passed to dbt.

    The state says "running" before dbt starts, so a build that never ends (Ctrl-C, a kill, a
    full disk) is never taken for a complete one: `refresh` builds again, and `report` says
    the marts are from an incomplete build."""
    dbt_vars, rest = merge_vars(config, args or [])
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    ledger = prepare_warehouse(config)
    full_refresh = full_refresh or FULL_REFRESH in rest
    rest = [arg for arg in rest if arg != FULL_REFRESH]
    previous = read_build_state(config)
    selective = is_selective(rest)
    state: dict[str, object] = {
        "status": "running",
        "started_at": _now(),
        "exit_code": None,
        "full_refresh": full_refresh,
        "project": project_fingerprint(config, dbt_vars, rest),
        "ledger": ledger,
        # when the marts became those of an incomplete build (a selective build since does not
        # complete them)
        "incomplete_since": _incomplete_since(previous),
    }
    path = build_state_path(config)
    kept = path.read_bytes() if path.exists() else None
    _save_state(config, state)
    try:
        result = invoke_dbt(
            config, ["build", "--vars", dbt_vars, *rest, *([FULL_REFRESH] if full_refresh else [])]
        )
    except WarehouseBusy:
        _put_back(path, kept)  # dbt could not open the warehouse: it built nothing
        raise
    _finish(config, state, result, selective)
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


def _finish(config: Config, state: dict[str, object], result: BuildResult, selective: bool) -> None:
    """Record a build dbt ran to its end: its results for the report, its state."""
    results = dbt_work_dir(config) / "target" / "run_results.json"
    if results.exists():
        write_atomic(last_build_results(config), results.read_bytes())
    state.update(
        status="finished",
        finished_at=_now(),
        exit_code=result.exit_code,
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
    if FULL_REFRESH in rest or state.get("project") != project_fingerprint(config, dbt_vars, rest):
        return None
    if not last_build_results(config).exists():
        return None
    if state.get("ledger") != json.loads(json.dumps(ledger_fingerprint(config), default=str)):
        return None
    return state
