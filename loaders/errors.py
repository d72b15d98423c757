"""Errors that carry the file (and line) at fault; the CLI makes them one message and exit 2."""

from __future__ import annotations

from pathlib import Path

from warehouse import TurnaroundError

__all__ = ["ConfigError", "LoadError", "TurnaroundError"]


class ConfigError(TurnaroundError):
    """The config file is missing, unreadable or breaks the config contract."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class LoadError(TurnaroundError):
    """An input file cannot be parsed; `line` is the 1-based line (or record) number."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
