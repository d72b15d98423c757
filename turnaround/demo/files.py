"""Writing text files: `\\n` line endings on every platform, and stat listings."""

from __future__ import annotations

from pathlib import Path

from turnaround.demo.times import mtime_text


def write_text(path: Path, lines: list[str]) -> None:
    """Write lines with `\\n` endings, whatever the platform."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8", newline="\n")


def write_listing(path: Path, entries: list[tuple[str, int]], form: str) -> None:
    """A stat listing `<path>|<mtime>` sorted by path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name}|{mtime_text(ns, form)}" for name, ns in sorted(entries)]
    write_text(path, lines)
