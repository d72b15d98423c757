"""Ctrl-C and the exit codes a command ends with."""

from __future__ import annotations

import _thread
import os
import signal
import sys
import time
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
        is not lost, nor printed: it is delivered again, at the next point that can raise.
        Not from here: raising the signal in this hook runs the handler at once, inside the
        hook, which prints the KeyboardInterrupt as an exception it ignored; a thread raises it
        once the hook has returned."""
        if isinstance(info.exc_value, KeyboardInterrupt) and os.getpid() == self.pid:
            self.count = 0
            _thread.start_new_thread(_interrupt_main_soon, ())
            return
        self.unraisable(info)


def _interrupt_main_soon() -> None:
    """SIGINT for the main thread's handler, a moment from now (the hook that asked for it has
    returned long before: it holds the interpreter for microseconds)."""
    time.sleep(0.01)
    _thread.interrupt_main(signal.SIGINT)


INTERRUPTS = Interrupts()
