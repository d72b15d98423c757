"""Errors that carry the file (and line) at fault; the CLI makes them one message and exit 2."""

from __future__ import annotations

import difflib
from pathlib import Path

from warehouse import TurnaroundError

__all__ = ["ConfigError", "LoadError", "TurnaroundError"]


class ConfigError(TurnaroundError):
    """The config file is missing, unreadable or breaks the config contract."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


def check_keys(path: Path, where: str, table: dict[str, object], known: tuple[str, ...]) -> None:
    """ConfigError for a key the config contract does not have, suggesting the nearest."""
    for key in table:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f" (keys: {', '.join(known)})"
            raise ConfigError(path, f"{where}unknown key {key!r}{hint}")


class LoadError(TurnaroundError):
    """An input file cannot be parsed; `line` is the 1-based line (or record) number."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
