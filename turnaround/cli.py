"""The console script's entry point: Ctrl-C is one line from the first instant.

Importing the command (DuckDB, pandas, dbt's driver) takes a tenth of a second or more; a
Ctrl-C then would print Python's traceback. Until the command's own handler is installed
(`turnaround.commands.main`), one prints a line and exits 130, with nothing begun to undo.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("turnaround: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def main() -> None:
    """Install the start-up handler, then run the command."""
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    from turnaround.commands import main as command

    command()
