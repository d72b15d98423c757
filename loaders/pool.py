"""Forked worker processes that end with the load that forked them: the pool every parallel
part of a load (reading status files, walking folders) runs on."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

#: prctl(2)'s option: the signal a process gets when its parent dies
PR_SET_PDEATHSIG = 1


def workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def fork_pool(cores: int) -> ProcessPoolExecutor:
    """Forked worker processes that end with this one (`_end_with_parent`)."""
    return ProcessPoolExecutor(
        max_workers=cores,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    )


def _end_with_parent(parent: int) -> None:
    """A worker's initializer: the worker dies with the load that forked it. A load killed
    (SIGKILL, the OOM killer) runs no clean-up, and its workers would wait on a queue nobody
    writes to again, for good (~100 MB each). Linux sends them SIGKILL when their parent dies
    (prctl PR_SET_PDEATHSIG); elsewhere a thread watches the parent."""
    import ctypes  # only in workers: the commands that never fork one do not load it

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        done = prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL)) == 0
    except (OSError, AttributeError):
        done = False
    if not done:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    elif os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)


def _watch_parent(parent: int) -> None:
    """End this worker once its parent is gone (it is then another process's child)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
