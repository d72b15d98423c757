"""turnaround loaders: raw telemetry files into the raw schema of a DuckDB warehouse.

The names below are imported when first used (PEP 562), so `import loaders` costs nothing: the
console script (`turnaround.cli`) installs its Ctrl-C handler before DuckDB and pandas load.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`'s: `import loaders` imports nothing at all
if TYPE_CHECKING:
    from loaders.config import Config, InputSpec, load_config
    from loaders.errors import ConfigError, LoadError, TurnaroundError
    from loaders.pipeline import LoadSummary, load

#: public name -> the module that defines it
_HOMES = {
    "Config": "loaders.config",
    "InputSpec": "loaders.config",
    "load_config": "loaders.config",
    "ConfigError": "loaders.errors",
    "LoadError": "loaders.errors",
    "TurnaroundError": "loaders.errors",
    "LoadSummary": "loaders.pipeline",
    "load": "loaders.pipeline",
}

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


def __getattr__(name: str) -> object:
    import importlib

    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'loaders' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
