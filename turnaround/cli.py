"""The console script (`turnaround`, and `python -m turnaround`): Ctrl-C is one line from the
first instant.

Importing the command line and what it runs takes a moment; a Ctrl-C then would print Python's
traceback. Until the command's own handler is installed (`turnaround.commands.main`), one
prints a line and exits 130, with nothing begun to undo. This module imports only what the
interpreter has already loaded, so the handler is in place as early as it can be.
"""

from __future__ import annotations

# `_signal`, not `signal`: the interpreter has loaded it already; `signal` imports enum first,
# ten milliseconds in which a Ctrl-C would still be Python's
import _signal  # type: ignore[import-not-found]  # (typeshed has no stub for it)
import os
import sys


def _interrupted_while_starting(signum: int, frame: object) -> None:
    sys.stderr.write("turnaround: interrupted\n")
    sys.stderr.flush()
    os._exit(130)


def main() -> None:
    """Install the start-up handler, then run the command."""
    _signal.signal(_signal.SIGINT, _interrupted_while_starting)
    from turnaround.commands import main as command

    command()
