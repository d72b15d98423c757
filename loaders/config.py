"""The `turnaround.toml` config contract: warehouse, timezone and the list of inputs."""

from __future__ import annotations

import functools
import glob
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from loaders.engines import SparkSettings, read_engine, read_spark
from loaders.errors import ConfigError, check_keys
from loaders.globs import Hits, resolve_checked, resolve_hits

DEFAULT_CONFIG = Path("turnaround.toml")
# where `report` (and `refresh`) write the page, beside the config
REPORT_OUT = Path("reports/out")

#: source -> formats its loader reads
FORMATS: dict[str, tuple[str, ...]] = {
    "slurm": ("sacct", "csv"),
    "distiller_db": ("csv", "postgres"),
    "rec_status": ("json", "csv"),
    "ncem_data_files": ("stat", "dir", "csv"),
    "nersc_counted_files": ("stat", "dir", "csv"),
    "stempy_log": ("json",),
}
SOURCES = tuple(FORMATS)


@dataclass(frozen=True)
class InputSpec:
    """One `[[inputs]]` table: a source, its format and the globs that find its files."""

    source: str
    format: str
    paths: tuple[str, ...]
    base_dir: Path
    #: zone of the naive times in these files when not the facility's (`turnaround pull-slurm`
    #: asks sacct for UTC)
    timezone: str | None = None
    #: format postgres: the connection string, or the environment variable holding it
    dsn: str | None = None
    dsn_env: str | None = None
    #: the config file this input is in (for messages)
    config_file: Path | None = None
    #: format postgres: seconds a statement may run (a locked table) before the pull gives up
    timeout_s: float = 60.0
    #: format sacct: the `--format` field list of headerless files (default: the README's)
    sacct_format: tuple[str, ...] | None = None

    def reading(self) -> str:
        """How this input's files are read, as the ledger records it: a file read one way and
        now configured another (its zone, its sacct fields) is read again."""
        fields = ",".join(self.sacct_format or ())
        return f"format={self.format};timezone={self.timezone or ''};sacct_format={fields}"

    def reader_options(self) -> dict[str, object]:
        """Keyword arguments this input's reader takes besides the path and the bytes."""
        return {"sacct_format": self.sacct_format} if self.sacct_format else {}

    def connection_string(self) -> str:
        """The DSN of a database input (from `dsn`, or the variable `dsn_env` names)."""
        if self.dsn_env:
            value = os.environ.get(self.dsn_env)
            if not value:
                raise ConfigError(
                    self.config_file or self.base_dir,
                    f"{self.source}: environment variable {self.dsn_env} (dsn_env) is not set",
                )
            return value
        assert self.dsn is not None
        return self.dsn

    def glob_of(self, pattern: str) -> str:
        """A glob of the config as an absolute glob: relative ones under the config's folder,
        whose name is taken literally (a folder `gl[1]` is not a pattern matching `gl1`)."""
        if Path(pattern).is_absolute():
            return pattern
        return f"{glob.escape(str(self.base_dir))}/{pattern}"

    def resolve_each(self) -> tuple[list[Path], list[str]]:
        """The files (folders for format `dir`) the globs match, sorted, no repeats, and the
        globs that match nothing. A folder inside another matched folder is walked once, as
        part of the outer one."""
        found, unmatched = resolve_checked(self.format, self.paths, self.glob_of)
        return [Path(path) for path in found], unmatched

    def resolve_hits(self) -> Hits:
        """The files (folders for format `dir`) the globs match, as `resolve_each` finds them,
        but without a stat per file where the folder listing already tells a file from a
        folder (`<folder>/<name>` and `<folder>/**/<name>` globs); other globs' hits are told
        apart by the readers (`Hits.unchecked`)."""
        return resolve_hits(self.format, self.paths, self.glob_of)

    def resolve(self) -> list[Path]:
        """The files (folders for format `dir`) the globs match."""
        return self.resolve_each()[0]


@dataclass(frozen=True)
class Config:
    """A parsed config file; relative paths are already resolved against its folder."""

    path: Path
    warehouse: Path
    timezone: str
    inputs: tuple[InputSpec, ...] = field(default_factory=tuple)
    #: the engine dbt builds on: "duckdb" (in the warehouse file) or "spark" (loaders.engines)
    engine: str = "duckdb"
    spark: SparkSettings = field(default_factory=SparkSettings)

    def inputs_for(self, sources: list[str] | None) -> list[InputSpec]:
        """Return the inputs of the given sources (all inputs when `sources` is empty)."""
        if not sources:
            return list(self.inputs)
        unknown = sorted(set(sources) - set(SOURCES))
        if unknown:
            raise ConfigError(
                self.path, f"unknown source {unknown[0]!r}; sources are {', '.join(SOURCES)}"
            )
        return [spec for spec in self.inputs if spec.source in sources]


#: a config is a few lines; more than this is not one (`--config /dev/zero`)
MAX_CONFIG_BYTES = 1 << 20
TOP_KEYS = ("warehouse", "timezone", "engine", "spark", "inputs")
INPUT_KEYS = (
    "source",
    "format",
    "paths",
    "timezone",
    "dsn",
    "dsn_env",
    "timeout_s",
    "sacct_format",
)
#: DuckDB names its catalogs after the file's stem: these stems are its own
RESERVED_STEMS = frozenset({"main", "temp", "system"})
#: the first bytes of a DuckDB database file (after an 8-byte checksum)
DUCKDB_MAGIC = b"DUCK"


def _read_text(path: Path) -> str:
    """The config's text, read up to MAX_CONFIG_BYTES."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, "config file not found (pass --config FILE)") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read config: {exc.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(path, f"larger than {MAX_CONFIG_BYTES >> 20} MB: not a turnaround config")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"cannot read config: not UTF-8 ({exc.reason})") from None


def load_config(path: Path | str = DEFAULT_CONFIG) -> Config:
    """Read and validate a config file, raising ConfigError naming the file on any problem."""
    path = Path(path)
    text = _read_text(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"invalid TOML: {exc}") from None
    check_keys(path, "", doc, TOP_KEYS)
    base = path.resolve().parent
    warehouse = doc.get("warehouse", "warehouse.duckdb")
    timezone = doc.get("timezone", "America/Los_Angeles")
    if not isinstance(warehouse, str) or not warehouse:
        raise ConfigError(path, "'warehouse' must be a file name")
    _check_zone(path, timezone)
    raw_inputs = doc.get("inputs", [])
    if not isinstance(raw_inputs, list):
        raise ConfigError(path, "'inputs' must be an array of tables ([[inputs]])")
    inputs = tuple(_input_spec(path, base, i, item) for i, item in enumerate(raw_inputs, 1))
    warehouse_path = Path(warehouse)
    if not warehouse_path.is_absolute():
        warehouse_path = base / warehouse_path
    _check_warehouse(path, warehouse_path)
    return Config(
        path=path.resolve(),
        warehouse=warehouse_path,
        timezone=timezone,
        inputs=inputs,
        engine=read_engine(path, doc),
        spark=read_spark(path, base, doc.get("spark")),
    )


def _check_warehouse(path: Path, warehouse: Path) -> None:
    """ConfigError for a warehouse path that is a folder, an existing file that is not a DuckDB
    database (DuckDB would open it in memory: every load would save nothing), or a name dbt's
    SQL cannot hold (a quote, `#`, DuckDB's own catalog names)."""
    name = warehouse.name
    if warehouse.is_dir() or not name:
        raise ConfigError(path, f"'warehouse' {str(warehouse)!r} is a folder, not a file")
    if any(char in name for char in "'\"#") or warehouse.stem.lower() in RESERVED_STEMS:
        raise ConfigError(
            path,
            f"'warehouse' {name!r}: choose another file name (no quotes or #, and not "
            f"{', '.join(sorted(RESERVED_STEMS))}.duckdb, DuckDB's own names)",
        )
    if warehouse.exists():
        try:
            with warehouse.open("rb") as handle:
                head = handle.read(12)
        except OSError as exc:
            raise ConfigError(path, f"'warehouse' {str(warehouse)!r}: {exc.strerror}") from None
        if head and head[8:12] != DUCKDB_MAGIC:
            raise ConfigError(
                path,
                f"'warehouse' {str(warehouse)!r} exists and is not a DuckDB database; "
                "name a new file or the warehouse's own",
            )


def _input_spec(path: Path, base: Path, number: int, item: object) -> InputSpec:
    """Validate the n-th `[[inputs]]` table."""
    where = f"inputs #{number}"
    if not isinstance(item, dict):
        raise ConfigError(path, f"{where} must be a table")
    check_keys(path, f"{where}: ", item, INPUT_KEYS)
    source = item.get("source")
    if source not in FORMATS:
        raise ConfigError(path, f"{where}: source {source!r} is not one of {', '.join(SOURCES)}")
    fmt = item.get("format")
    if fmt not in FORMATS[source]:
        raise ConfigError(
            path,
            f"{where}: format {fmt!r} is not one of {', '.join(FORMATS[source])} for {source}",
        )
    if fmt == "postgres":
        dsn, dsn_env = item.get("dsn"), item.get("dsn_env")
        if (dsn is None) == (dsn_env is None) or not isinstance(dsn or dsn_env, str):
            raise ConfigError(path, f"{where}: a postgres input needs dsn or dsn_env (one)")
        timeout = item.get("timeout_s", 60)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError(path, f"{where}: 'timeout_s' must be a positive number of seconds")
        return InputSpec(
            source=source,
            format=fmt,
            paths=(),
            base_dir=base,
            dsn=dsn,
            dsn_env=dsn_env,
            timeout_s=float(timeout),
            config_file=path,
        )
    paths = item.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise ConfigError(path, f"{where}: 'paths' must be a non-empty list of globs")
    zone = item.get("timezone")
    if zone is not None:
        _check_zone(path, zone, f"{where}: ")
    return InputSpec(
        source=source,
        format=fmt,
        paths=tuple(paths),
        base_dir=base,
        timezone=zone,
        sacct_format=_sacct_format(path, where, fmt, item.get("sacct_format")),
    )


def _sacct_format(path: Path, where: str, fmt: str, value: object) -> tuple[str, ...] | None:
    """An input's `sacct_format` (`"JobID,JobName,..."` as sacct's --format takes it, or a
    list): the field order of headerless sacct lines, holding every field the loader needs."""
    if value is None:
        return None
    from loaders.sources.slurm import SACCT_FIELDS

    if fmt != "sacct":
        raise ConfigError(path, f"{where}: 'sacct_format' applies to format sacct only")
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ConfigError(path, f"{where}: 'sacct_format' must be a list of sacct field names")
    names = tuple(name.strip() for name in value)
    missing = [name for name in SACCT_FIELDS if name not in names]
    if missing:
        raise ConfigError(
            path,
            f"{where}: 'sacct_format' lacks {', '.join(missing)} (it needs every one of "
            f"{','.join(SACCT_FIELDS)})",
        )
    return names


def _check_zone(path: Path, zone: object, where: str = "") -> None:
    """ConfigError unless `zone` is an IANA zone name DuckDB knows too."""
    if not isinstance(zone, str):
        raise ConfigError(path, f"{where}'timezone' must be an IANA zone name like 'UTC'")
    if not zone_error(zone):
        return
    raise ConfigError(path, f"{where}{zone_error(zone)}")


@functools.cache
def _zones() -> frozenset[str]:
    # the system's zone names without its aliases of other trees (`posix/…`, `right/…`,
    # `localtime`), which DuckDB's ICU does not know
    return frozenset(available_timezones() - {"localtime"})


def zone_error(zone: str) -> str | None:
    """Why `zone` is not a zone both Python and DuckDB read, or None."""
    if zone in _zones():
        return None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown timezone {zone!r}"
    return f"timezone {zone!r} is an alias DuckDB does not know; use its IANA name (like 'UTC')"
