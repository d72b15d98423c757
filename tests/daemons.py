"""What the tests' real clusters (tests/slurm_cluster.py, tests/spark_cluster.py) share about
the daemons they start: free ports on 127.0.0.1, ending a daemon's process group, finding and
killing every process that carries a cluster's marker variable, and the last lines of a log."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
LOG_TAIL_LINES = 25


def free_ports(count: int) -> list[int]:
    """Distinct TCP ports free on 127.0.0.1 (held open together while chosen)."""
    sockets = []
    try:
        for _ in range(count):
            held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.bind((HOST, 0))
            sockets.append(held)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for held in sockets:
            held.close()


def port_open(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex((HOST, port)) == 0


def signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send `signum` to a running daemon's process group (it leads its own session)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)


def terminate(process: subprocess.Popen[bytes], grace_s: float) -> None:
    """End a daemon and its process group: TERM, then KILL after the grace time; then KILL
    whatever of its group outlived it."""
    signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait(timeout=grace_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def marked_processes(marker: str, root: str) -> list[int]:
    """Ids of the processes (not this one) whose environment holds `marker=root`."""
    needle = f"{marker}={root}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_marked_processes(marker: str, root: str, wait_s: float = 5.0) -> list[int]:
    """KILL every process marked `marker=root`; return their ids once all are gone."""
    strays = marked_processes(marker, root)
    for pid in strays:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait_s
    while marked_processes(marker, root) and time.monotonic() < deadline:
        time.sleep(0.1)
    return strays


def tail_text(text: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a text."""
    return "\n".join(text.splitlines()[-lines:])


def tail_file(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file, or a note that it does not exist."""
    if not path.exists():
        return "(no such file)"
    return tail_text(path.read_text(encoding="utf-8", errors="replace"), lines)
