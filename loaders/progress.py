"""A progress line for long loads: on a terminal only, quiet when output is not one."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


def progress(
    items: list[T], label: str, stream: TextIO | None = None, every_s: float = 0.2
) -> Iterator[T]:
    """Yield `items`, drawing `label  n/total` on `stream` (stderr) at most every `every_s`
    seconds, when it is a terminal and there are enough items to be worth it."""
    out = stream if stream is not None else sys.stderr
    show = len(items) >= 200 and out.isatty()
    return _drawn(items, label, out, every_s) if show else iter(items)


def _drawn(items: Iterable[T], label: str, out: TextIO, every_s: float) -> Iterator[T]:
    total = len(items) if isinstance(items, list) else 0
    last = 0.0
    started = time.monotonic()
    done = 0
    for done, item in enumerate(items, 1):
        now = time.monotonic()
        if now - last >= every_s:
            rate = done / max(now - started, 1e-9)
            out.write(f"\r{label}  {done}/{total} files  {rate:,.0f}/s ")
            out.flush()
            last = now
        yield item
    out.write(f"\r{label}  {done}/{total} files\n")
    out.flush()
