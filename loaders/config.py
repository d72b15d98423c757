"""The `turnaround.toml` config contract: warehouse, timezone and the list of inputs."""

from __future__ import annotations

import glob
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loaders.errors import ConfigError

DEFAULT_CONFIG = Path("turnaround.toml")

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

    def connection_string(self) -> str:
        """The DSN of a database input (from `dsn`, or the variable `dsn_env` names)."""
        if self.dsn_env:
            value = os.environ.get(self.dsn_env)
            if not value:
                raise ConfigError(
                    self.base_dir, f"{self.source}: environment variable {self.dsn_env} is not set"
                )
            return value
        assert self.dsn is not None
        return self.dsn

    def resolve_each(self) -> tuple[list[Path], list[str]]:
        """The files (folders for format `dir`) the globs match, sorted, no repeats, and the
        globs that match nothing. A folder inside another matched folder is walked once, as
        part of the outer one."""
        found: set[Path] = set()
        unmatched: list[str] = []
        for pattern in self.paths:
            full = pattern if Path(pattern).is_absolute() else str(self.base_dir / pattern)
            hits = {Path(hit).resolve() for hit in glob.glob(full, recursive=True)}
            hits = {p for p in hits if (p.is_dir() if self.format == "dir" else p.is_file())}
            if not hits:
                unmatched.append(pattern)
            found |= hits
        if self.format == "dir":
            found = {p for p in found if not any(q in p.parents for q in found)}
        return sorted(found), unmatched

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


def load_config(path: Path | str = DEFAULT_CONFIG) -> Config:
    """Read and validate a config file, raising ConfigError naming the file on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "config file not found (pass --config FILE)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read config: {exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"invalid TOML: {exc}") from None
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
    return Config(path=path.resolve(), warehouse=warehouse_path, timezone=timezone, inputs=inputs)


def _input_spec(path: Path, base: Path, number: int, item: object) -> InputSpec:
    """Validate the n-th `[[inputs]]` table."""
    where = f"inputs #{number}"
    if not isinstance(item, dict):
        raise ConfigError(path, f"{where} must be a table")
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
        return InputSpec(
            source=source, format=fmt, paths=(), base_dir=base, dsn=dsn, dsn_env=dsn_env
        )
    paths = item.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise ConfigError(path, f"{where}: 'paths' must be a non-empty list of globs")
    zone = item.get("timezone")
    if zone is not None:
        _check_zone(path, zone, f"{where}: ")
    return InputSpec(source=source, format=fmt, paths=tuple(paths), base_dir=base, timezone=zone)


def _check_zone(path: Path, zone: object, where: str = "") -> None:
    """ConfigError unless `zone` is an IANA zone name."""
    if not isinstance(zone, str):
        raise ConfigError(path, f"{where}'timezone' must be an IANA zone name like 'UTC'")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path, f"{where}unknown timezone {zone!r}") from None
