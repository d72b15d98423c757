"""turnaround loaders: raw telemetry files into the raw schema of a DuckDB warehouse."""

from loaders.config import Config, InputSpec, load_config
from loaders.errors import ConfigError, LoadError, TurnaroundError
from loaders.pipeline import LoadSummary, load

__all__ = [
    "Config",
    "ConfigError",
    "InputSpec",
    "LoadError",
    "LoadSummary",
    "TurnaroundError",
    "load",
    "load_config",
]
