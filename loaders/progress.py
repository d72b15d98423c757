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
) -> Iterator[T]:
    """Yield `items` (`total` of them: a list's length by default), drawing
    `label  n/total` on `stream` (stderr) at most every `every_s` seconds, when it is a
    terminal and there are enough items to be worth it. With `weight`, an item counts as
    that many (a batch of files)."""
    out = stream if stream is not None else sys.stderr
    count = total if total is not None else len(items) if isinstance(items, list) else 0
    show = count >= 200 and out.isatty()
    return _drawn(items, label, out, every_s, count, weight) if show else iter(items)


def _drawn(
    items: Iterable[T],
    label: str,
    out: TextIO,
    every_s: float,
    total: int,
    weight: Callable[[T], int] | None,
) -> Iterator[T]:
    last = 0.0
    started = time.monotonic()
    done = 0
    for item in items:
        done += weight(item) if weight is not None else 1
        now = time.monotonic()
        if now - last >= every_s:
            rate = done / max(now - started, 1e-9)
            out.write(f"\r{label}  {done}/{total} files  {rate:,.0f}/s ")
            out.flush()
            last = now
        yield item
    out.write(f"\r{label}  {done}/{total} files\n")
    out.flush()
