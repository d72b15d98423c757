"""The config's `engine` and its `[spark]` table: which engine dbt builds the models on.

`engine = "duckdb"` (the default) builds in the warehouse file itself. `engine = "spark"`
builds on Apache Spark (README, "Scaling out"): the loaders still write the raw tables in the
DuckDB file (they rely on its transactions), the raw tables are exported to Parquet under
`warehouse_dir`, dbt-spark builds the models there, and the marts are read back through DuckDB
views over their Parquet files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from loaders.errors import ConfigError, check_keys

ENGINES = ("duckdb", "spark")
SPARK_KEYS = ("master", "warehouse_dir", "conf")
#: the master URLs Spark takes: local mode, a standalone cluster, YARN, Kubernetes, Mesos
MASTER_PATTERN = re.compile(
    r"local(\[(\*|[1-9][0-9]*)(,[1-9][0-9]*)?\])?|local-cluster\[[0-9, ]+\]|yarn"
    r"|(spark|k8s|mesos)://\S+"
)
DEFAULT_MASTER = "local[*]"
#: beside the config, Spark's own default name for it
DEFAULT_WAREHOUSE_DIR = "spark-warehouse"


@dataclass(frozen=True)
class SparkSettings:
    """The `[spark]` table: where Spark runs and where its tables live."""

    #: `local[*]`, `spark://host:7077`, `yarn`, `k8s://https://host:443`
    master: str = DEFAULT_MASTER
    #: the raw Parquet exports, Spark's tables (the marts among them) and its metastore; on a
    #: cluster, a folder every executor sees at the same path
    warehouse_dir: Path = Path(DEFAULT_WAREHOUSE_DIR)
    #: more Spark configuration (`spark.executor.memory = "4g"`), passed as `--conf` pairs
    conf: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def read_engine(path: Path, doc: dict[str, object]) -> str:
    """The config's `engine` (duckdb when absent)."""
    engine = doc.get("engine", "duckdb")
    if engine not in ENGINES:
        raise ConfigError(path, f"'engine' must be one of {', '.join(ENGINES)}, not {engine!r}")
    assert isinstance(engine, str)
    return engine


def read_spark(path: Path, base: Path, table: object) -> SparkSettings:
    """The `[spark]` table (its defaults when absent), relative paths under the config's folder."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(path, "'spark' must be a table ([spark])")
    check_keys(path, "[spark]: ", table, SPARK_KEYS)
    master = table.get("master", DEFAULT_MASTER)
    if not isinstance(master, str) or not MASTER_PATTERN.fullmatch(master):
        raise ConfigError(
            path,
            f"[spark]: 'master' {master!r} is not a Spark master URL (like 'local[*]', "
            "'spark://host:7077', 'yarn' or 'k8s://https://host:443')",
        )
    folder = table.get("warehouse_dir", DEFAULT_WAREHOUSE_DIR)
    if not isinstance(folder, str) or not folder or "'" in folder or "`" in folder:
        raise ConfigError(
            path, "[spark]: 'warehouse_dir' must be a folder's path (without quotes or `)"
        )
    warehouse_dir = Path(folder) if Path(folder).is_absolute() else base / folder
    if warehouse_dir.exists() and not warehouse_dir.is_dir():
        raise ConfigError(path, f"[spark]: 'warehouse_dir' {str(warehouse_dir)!r} is a file")
    return SparkSettings(master, warehouse_dir, _conf(path, table.get("conf", {})))


def _conf(path: Path, conf: object) -> tuple[tuple[str, str], ...]:
    """`[spark.conf]`: Spark settings by name, each a text, number or boolean."""
    if not isinstance(conf, dict):
        raise ConfigError(path, "[spark]: 'conf' must be a table of Spark settings")
    pairs = []
    for name, value in conf.items():
        if isinstance(value, dict):  # `spark.executor.memory = "4g"` unquoted: TOML nests it
            raise ConfigError(
                path, f'[spark.conf]: quote the setting\'s name: "{name}.…" = …, as Spark names it'
            )
        if not isinstance(value, str | int | float | bool):
            raise ConfigError(path, f"[spark.conf]: {name!r} must be a text, number or boolean")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        pairs.append((str(name), text))
    return tuple(pairs)
