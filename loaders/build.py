"""`build`: dbt on the warehouse a config names, in a subprocess so no lock outlives it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from loaders.config import Config
from loaders.errors import TurnaroundError
from loaders.warehouse import connect, create_raw_schema

PROJECT_DIR = Path(__file__).resolve().parent.parent


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


def prepare_warehouse(config: Config) -> None:
    """Before dbt starts: fail in one sentence when another process holds the warehouse, and
    make sure the raw schema dbt reads exists (a new warehouse, or one from an older version)."""
    con = connect(config.warehouse)
    try:
        con.begin()
        create_raw_schema(con)
        con.commit()
    finally:
        con.close()


def run_dbt(config: Config, command: list[str], args: list[str] | None = None) -> BuildResult:
    """Run `dbt <command...>` for the config's warehouse and zone; output goes to the terminal."""
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    prepare_warehouse(config)
    dbt_vars, rest = merge_vars(config, args or [])
    argv = [dbt_executable(), *command, "--vars", dbt_vars, *rest]
    env = dbt_environment(config)
    results = Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    results.unlink(missing_ok=True)
    completed = subprocess.run(argv, env=env, cwd=PROJECT_DIR, check=False)
    result = BuildResult(exit_code=min(completed.returncode, 2))
    if results.exists():
        for node in json.loads(results.read_text(encoding="utf-8")).get("results", []):
            status = str(node.get("status"))
            result.statuses[status] += 1
            line = f"{node.get('unique_id')}: {node.get('message')}"
            if status in ("fail", "error"):
                result.failures.append(line)
            elif status == "warn":
                result.warnings.append(line)
    return result


def dbt_work_dir(config: Config) -> Path:
    """Where dbt's target and logs go for a warehouse: beside it."""
    return config.warehouse.parent / "dbt"


def last_build_results(config: Config) -> Path:
    """The run results of the last `dbt build` (other dbt commands overwrite run_results.json)."""
    return dbt_work_dir(config) / "last_build_results.json"


def build(config: Config, args: list[str] | None = None) -> BuildResult:
    """`dbt build` on the warehouse named in the config; its results are kept for the report."""
    result = run_dbt(config, ["build"], args)
    results = dbt_work_dir(config) / "target" / "run_results.json"
    if results.exists():
        shutil.copyfile(results, last_build_results(config))
    return result


def docs(config: Config) -> BuildResult:
    """`dbt docs generate`: the catalog and lineage, the report's exposure included."""
    return run_dbt(config, ["docs", "generate"])
