"""The load progress line: drawn on a terminal once a load has run a while, silent otherwise."""

from __future__ import annotations

import io
from collections.abc import Callable

from loaders.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def ticking(step: float) -> Callable[[], float]:
    """A clock that moves `step` seconds each time it is read."""
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


def test_drawn_on_a_terminal_for_long_loads() -> None:
    out = Terminal()
    items = list(range(500))
    assert list(progress(items, "rec_status (json)", out, every_s=0, after_s=0)) == items
    text = out.getvalue()
    assert "\rrec_status (json)  1/500 files" in text
    assert text.endswith("\rrec_status (json)  500/500 files\n")


def test_a_few_slow_files_are_drawn_once_the_load_has_run_a_while() -> None:
    # three sacct files of a million lines: each takes two seconds
    out = Terminal()
    assert list(progress([1, 2, 3], "slurm (sacct)", out, clock=ticking(2.0))) == [1, 2, 3]
    text = out.getvalue()
    assert "\rslurm (sacct)  1/3 files" in text
    assert "\rslurm (sacct)  2/3 files" in text
    assert text.endswith("\rslurm (sacct)  3/3 files\n")


def test_silent_when_not_a_terminal_or_quick() -> None:
    pipe = io.StringIO()
    items = list(range(500))
    assert list(progress(items, "x", pipe, every_s=0, after_s=0, clock=ticking(2.0))) == items
    assert pipe.getvalue() == ""
    quick = Terminal()  # 500 files in half a second: done before the line would start
    assert list(progress(items, "x", quick, every_s=0, clock=ticking(0.001))) == items
    assert quick.getvalue() == ""


def test_an_item_counts_when_the_caller_is_done_with_it() -> None:
    out = Terminal()
    seen = []
    for item in progress([10, 20], "x", out, every_s=0, after_s=0):
        seen.append((item, out.getvalue()))
    assert seen[0] == (10, "")  # nothing counted while the first is being loaded
    assert "1/2 files" in seen[1][1] and "2/2" not in seen[1][1]


def test_batches_count_as_the_files_they_hold() -> None:
    out = Terminal()
    batches = [list(range(300)), list(range(300)), list(range(100))]
    drawn = progress(iter(batches), "rec_status (json)", out, 0, total=700, weight=len, after_s=0)
    assert list(drawn) == batches
    text = out.getvalue()
    assert "\rrec_status (json)  300/700 files" in text
    assert "\rrec_status (json)  600/700 files" in text
    assert text.endswith("\rrec_status (json)  700/700 files\n")


def test_a_load_that_fails_ends_the_line_before_its_error() -> None:
    out = Terminal()
    drawn = progress([1, 2, 3], "slurm (sacct)", out, every_s=0, after_s=0)
    assert next(drawn) == 1
    assert next(drawn) == 2  # 1/3 drawn
    drawn.close()  # what the caller's exception does to the generator
    text = out.getvalue()
    assert "\rslurm (sacct)  1/3 files" in text
    assert text.endswith("/s \n") and "3/3" not in text  # the line ended, not completed
