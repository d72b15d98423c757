"""The load progress line: drawn on a terminal, silent otherwise."""

from __future__ import annotations

import io

from loaders.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_drawn_on_a_terminal_for_long_loads() -> None:
    out = Terminal()
    items = list(range(500))
    assert list(progress(items, "rec_status (json)", out, every_s=0)) == items
    text = out.getvalue()
    assert "\rrec_status (json)  1/500 files" in text
    assert text.endswith("\rrec_status (json)  500/500 files\n")


def test_silent_when_not_a_terminal_or_short() -> None:
    pipe = io.StringIO()
    assert list(progress(list(range(500)), "x", pipe, every_s=0)) == list(range(500))
    assert pipe.getvalue() == ""
    short = Terminal()
    assert list(progress([1, 2, 3], "x", short, every_s=0)) == [1, 2, 3]
    assert short.getvalue() == ""


def test_batches_count_as_the_files_they_hold() -> None:
    out = Terminal()
    batches = [list(range(300)), list(range(300)), list(range(100))]
    assert list(progress(iter(batches), "rec_status (json)", out, 0, total=700, weight=len)) == (
        batches
    )
    text = out.getvalue()
    assert "\rrec_status (json)  300/700 files" in text
    assert "\rrec_status (json)  600/700 files" in text
    assert text.endswith("\rrec_status (json)  700/700 files\n")
