"""bench/compare.py's verdicts (`make bench-compare`): slower or faster only when the runs'
ranges do not overlap, and the nodes a build ran read from dbt's summary line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.compare import built_nodes, describe, verdict


@pytest.mark.parametrize(
    ("after", "before", "expected"),
    [
        ([1.3, 1.4, 1.5], [1.0, 1.1, 1.2], "slower"),
        ([0.5, 0.6], [1.0, 1.2], "faster"),
        ([1.0, 1.3], [1.1, 1.2], "same"),  # the median is higher, the ranges overlap
        ([1.2], [1.2], "same"),
        ([], [1.0], "-"),
    ],
)
def test_a_verdict_needs_ranges_apart(
    after: list[float], before: list[float], expected: str
) -> None:
    assert verdict(after, before) == expected


def test_the_nodes_come_from_dbts_last_summary(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(
        "12:00:01  1 of 9 START sql table model staging.a\n"
        "12:00:09  Done. PASS=180 WARN=7 ERROR=0 SKIP=0 NO-OP=0 TOTAL=187\n"
        "turnaround: built\n",
        encoding="utf-8",
    )
    assert built_nodes(log) == 187
    log.write_text("dbt did not start\n", encoding="utf-8")
    assert built_nodes(log) == 0


def test_a_commit_that_is_none_is_one_sentence_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        describe("no-such-commit")
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "bench: no-such-commit: not a commit of this repository\n"
    assert describe("HEAD").split()[0] != ""
