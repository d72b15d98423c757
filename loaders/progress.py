"""A progress line for long loads: on a terminal only, quiet when output is not one."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T],
    label: str,
    stream: TextIO | None = None,
    every_s: float = 0.2,
    total: int | None = None,
    weight: Callable[[T], int] | None = None,
    after_s: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[T]:
    """Yield `items` (`total` of them: a list's length by default), drawing
    `label  n/total files` on `stream` (stderr) when it is a terminal, at most every `every_s`
    seconds, once the load has run `after_s` seconds: a short load stays quiet, a long one
    shows however few files it has (29 sacct files of a million lines each). An item counts
    when the caller is done with it (with `weight`, as that many files: a batch)."""
    out = stream if stream is not None else sys.stderr
    if not out.isatty():
        return iter(items)
    count = total if total is not None else len(items) if isinstance(items, list) else 0
    return _drawn(items, label, out, every_s, count, weight, after_s, clock)


def _drawn(
    items: Iterable[T],
    label: str,
    out: TextIO,
    every_s: float,
    total: int,
    weight: Callable[[T], int] | None,
    after_s: float,
    clock: Callable[[], float],
) -> Iterator[T]:
    started = clock()
    last = started + after_s - every_s  # the first line once after_s has passed
    done = 0
    drawn = finished = False
    try:
        for item in items:
            yield item
            done += weight(item) if weight is not None else 1
            now = clock()
            if now - last >= every_s:
                rate = done / max(now - started, 1e-9)
                out.write(f"\r{label}  {done}/{total} files  {rate:,.0f}/s ")
                out.flush()
                last, drawn = now, True
        finished = True
    finally:
        if drawn:  # the last count, or (a load that failed) just the line's end
            out.write(f"\r{label}  {done}/{total} files\n" if finished else "\n")
            out.flush()
