"""Ctrl-C and the exit codes a command ends with."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

BROKEN_PIPE = 141  # 128 + SIGPIPE
INTERRUPTED = 130  # 128 + SIGINT
BUILD_INTERRUPTED = (
    "the build did not finish, so the marts are from an incomplete build until the next "
    "`turnaround refresh` (or `build`) completes one"
)
LOAD_INTERRUPTED = "the warehouse is as it was before this load"
LOAD_COMMITTED = "this load had already committed: its files are in the warehouse"


@dataclass
class Interrupts:
    """Ctrl-C in this process: the first raises KeyboardInterrupt where the command is, which
    it unwinds through (a load rolls back, dbt is stopped, worker processes finish their chunk
    and exit); later ones are ignored so that clean-up finishes, but a third ends the process
    at once. Forked worker processes inherit the handler and ignore SIGINT: the main process
    stops them."""

    pid: int = 0
    count: int = 0
    unraisable: Callable[[sys.UnraisableHookArgs], object] = sys.unraisablehook
    #: what the command was doing, said in the one line an interrupt ends it with
    doing: str = ""

    def install(self) -> None:
        """Handle SIGINT in this process (and the interrupts Python could not raise)."""
        self.pid = os.getpid()
        signal.signal(signal.SIGINT, self.handle)
        self.unraisable = sys.unraisablehook
        sys.unraisablehook = self.swallowed

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler (see the class)."""
        if os.getpid() != self.pid:
            return
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt
        if self.count >= 3:
            os.write(2, b"turnaround: interrupted again; stopping at once\n")
            os._exit(INTERRUPTED)

    def swallowed(self, info: sys.UnraisableHookArgs) -> None:
        """An interrupt raised where Python cannot raise (a fork's or a finaliser's callback)
        is not lost, nor printed: it is delivered again, at the next point that can raise."""
        if isinstance(info.exc_value, KeyboardInterrupt) and os.getpid() == self.pid:
            self.count = 0
            signal.raise_signal(signal.SIGINT)
            return
        self.unraisable(info)


INTERRUPTS = Interrupts()
