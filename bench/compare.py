"""`make bench-compare BEFORE=REV`: is commit AFTER (default HEAD) slower than commit REV
anywhere? Times the same commands of both on the same data, interleaved, and writes
bench/COMPARE.md.

    .venv/bin/python bench/compare.py --before REV [--after HEAD] [--scales 1,10,100]
        [--repeats 3] [--seed 0] [--exclude-new SELECTORS|redesign] [--work DIR] [--keep]

Each commit's tree goes to a temporary folder (`git archive`: no change to this repository, and
edits in the work tree do not leak in) with its own virtual environment from its own lock (`uv
sync --locked`), so each side runs its own code and dbt project. The data is generated once per
scale by the after side's `turnaround demo` and read by both. Per scale and repeat, on a fresh
warehouse each, alternately the before then the after side:
`load` (everything, first time), `build`, `load` and `build` again with nothing new, `report`;
and, with --exclude-new (dbt selectors of what REV did not build; `redesign`: what 96d0c61, the
commit before the redesign, did not), the after side's `build` without them: like for like.
Each cell is the median of the repeats and their range; "after / before" below 1 is faster; the
verdict is `slower` only when the ranges are apart. Run it on a quiet machine: both sides share
it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.markdown import load_average, machine, table  # noqa: E402
from bench.scale import fresh, write_config  # noqa: E402
from bench.timing import timed  # noqa: E402

UV = REPO / ".tools" / "bin" / "uv"
# (label, command and arguments); "{new}" stands for --exclude-new's selectors
STEPS = [
    ("load, first", ("load",)),
    ("dbt build", ("build",)),
    ("load, nothing new", ("load",)),
    ("dbt build, nothing new", ("build",)),
    ("report", ("report",)),
]
LIKE_FOR_LIKE = ("dbt build, like for like", ("build", "--exclude", "{new}"))
#: what 96d0c61 (the commit before the redesign) did not build: the monitoring marts, their
#: seeds, and the Spark rounding's unit test (the redesign's own nodes stay in)
NEW_SINCE_REDESIGN = (
    "path:models/marts/monitoring path:seeds/freshness_levels.csv path:seeds/prediction_sizes.csv"
    " path:seeds/service_levels.csv path:seeds/t_quantiles.csv"
    " stg_ncem__data_files_rounds_mtimes_to_the_microsecond"
)


@dataclass
class Side:
    """One side of the comparison: its program and what each step took, by (scale, step)."""

    name: str
    program: str
    walls: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    nodes: dict[tuple[int, str], int] = field(default_factory=dict)


def install(rev: str, folder: Path) -> str:
    """REV's tree in `folder` with its own environment; returns its `turnaround` program."""
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        fail(f"bench: {rev}: no tree to compare ({first_line(archive.stderr)})")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(folder / ".venv"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_COMPILE_BYTECODE": "1",
    }
    synced = subprocess.run(
        [str(UV), "sync", "--locked", "--quiet", "--python", sys.executable],
        cwd=folder,
        env=env,
        capture_output=True,
        check=False,
    )
    if synced.returncode != 0:
        fail(f"bench: installing {rev} failed ({first_line(synced.stderr)})")
    return str(folder / ".venv" / "bin" / "turnaround")


def fail(message: str) -> NoReturn:
    """One sentence on stderr, exit 2 (a commit that is not one, an install that failed)."""
    print(message, file=sys.stderr)
    raise SystemExit(2)


def first_line(output: bytes) -> str:
    lines = output.decode(errors="replace").strip().splitlines()
    return lines[0] if lines else "no message"


def built_nodes(log: Path) -> int:
    """How many nodes dbt ran, from the summary line of its output (`Done. PASS=1 ... TOTAL=9`)."""
    for line in reversed(log.read_text(encoding="utf-8", errors="replace").splitlines()):
        if "TOTAL=" in line:
            return int(line.rsplit("TOTAL=", 1)[1].split()[0])
    return 0


def run_side(side: Side, scale: int, config: Path, logs: Path, new: str) -> None:
    """Every step once on a fresh warehouse (the config's) for one side."""
    fresh(config.parent / side.name / "warehouse.duckdb")
    steps = [*STEPS, LIKE_FOR_LIKE] if new else STEPS
    for step, (label, command) in enumerate(steps):
        args = [new if a == "{new}" and new else a for a in command]
        log = logs / f"{side.name}-{len(side.walls.get((scale, label), []))}-{step}-{args[0]}.log"
        run = timed(log, *args, "--config", str(config), program=side.program)
        side.walls.setdefault((scale, label), []).append(run.wall)
        if args[0] == "build":
            side.nodes[(scale, label)] = built_nodes(log)


def compare_scale(sides: list[Side], scale: int, args: argparse.Namespace, root: Path) -> None:
    """Generate the demo at `scale`, then every side's steps, alternating, --repeats times."""
    base = root / f"x{scale}"
    data = base / "data"
    print(f"x{scale}: generating the demo data", flush=True)
    demo = ["demo", "--out", str(data), "--scale", str(scale), "--seed", str(args.seed)]
    timed(base / "demo.log", *demo, program=sides[-1].program)
    configs = {
        side.name: write_config(data, base / side.name / "warehouse.duckdb", base / f"{s}.toml")
        for side in sides
        for s in [side.name]
    }
    for repeat in range(args.repeats):
        for side in sides:
            print(f"x{scale}: {side.name}, run {repeat + 1} of {args.repeats}", flush=True)
            new = args.exclude_new if side.name == "after" else ""
            run_side(side, scale, configs[side.name], base / "logs", new)


def cell(walls: list[float]) -> str:
    """The median of some runs, and their range."""
    if not walls:
        return "-"
    return f"{statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f})"


def ratio(after: list[float], before: list[float]) -> str:
    return (
        "-"
        if not after or not before
        else f"{statistics.median(after) / statistics.median(before):.2f}"
    )


def verdict(after: list[float], before: list[float]) -> str:
    """`slower` when every run of the after side took longer than every run of the before
    side, `faster` the other way round, else `same` (the ranges overlap: within the noise)."""
    if not after or not before:
        return "-"
    if min(after) > max(before):
        return "slower"
    return "faster" if max(after) < min(before) else "same"


def rows(before: Side, after: Side, scales: Iterable[int]) -> list[list[str]]:
    """One row per scale and step: before, after, their ratio, and the nodes each built; then
    the after side's like-for-like build against each of the before side's two builds."""
    out = []
    for scale in scales:
        pairs = [(label, label, label) for label, _ in STEPS] + [
            (f"{theirs}; after: {LIKE_FOR_LIKE[0]}", theirs, LIKE_FOR_LIKE[0])
            for theirs in ("dbt build", "dbt build, nothing new")
            if (scale, LIKE_FOR_LIKE[0]) in after.walls
        ]
        for label, theirs_step, ours_step in pairs:
            ours = after.walls.get((scale, ours_step), [])
            theirs = before.walls.get((scale, theirs_step), [])
            nodes = before.nodes.get((scale, theirs_step)), after.nodes.get((scale, ours_step))
            counts = f"{nodes[0]} / {nodes[1]}" if all(nodes) else "-"
            out.append(
                [
                    f"x{scale}",
                    label,
                    cell(theirs),
                    cell(ours),
                    ratio(ours, theirs),
                    verdict(ours, theirs),
                    counts,
                ]
            )
    return out


def render(before: Side, after: Side, args: argparse.Namespace, header: dict[str, str]) -> str:
    lines = [
        "# Before and after",
        "",
        f"Written by `bench/compare.py --before {args.before} --after {args.after} --scales "
        f"{args.scales} --repeats {args.repeats} --seed {args.seed}{args.exclude_flag}` on "
        f"{header['started']}, in {header['minutes']} min, "
        f"on: {machine()}; load average (1/5/15 min) {header['load']} at the start. Not run by "
        "CI.",
        "",
        f"before: `{args.before}` ({header['before']}); after: `{args.after}` ({header['after']}). "
        f"Seconds, the median of {args.repeats} runs of the whole command (their range), the "
        "two sides "
        "alternating on the same demo data (generated by the after side), a fresh warehouse "
        "per run. "
        + (
            "The last two rows of each scale hold the after side's build without what the "
            f"before side did not have (`--exclude {args.exclude_new}`; run after its report, "
            "nothing new: on a project of plain tables the same work as a first build) against "
            "each of the before side's builds: like for like. "
            if args.exclude_new
            else ""
        )
        + "nodes: dbt nodes run (models, tests, "
        "seeds, hooks), before / after. verdict: `slower` when every run of the after side "
        "took longer than every run of the before side, `faster` the other way round, `same` "
        "when the ranges overlap.",
        "",
        *table(
            ["scale", "step", "before (s)", "after (s)", "after / before", "verdict", "nodes"],
            "llrrrlr",
            rows(before, after, args.scale_list),
        ),
        "",
    ]
    return "\n".join(lines)


def describe(rev: str) -> str:
    """A commit's short id, date and subject (exit 2 in one line when it is no commit)."""
    done = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%h %ad %s", "--date=short", rev, "--"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        fail(f"bench: {rev}: not a commit of this repository")
    return done.stdout.decode(errors="replace").strip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--after", default="HEAD", help="the commit to compare (default HEAD)")
    parser.add_argument("--scales", default="1,10,100", help="demo scales (default 1,10,100)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="demo seed (default 0)")
    parser.add_argument(
        "--exclude-new",
        default="",
        help="dbt selectors (space-separated) of what the before side did not build, for a "
        "like-for-like build of the after side; `redesign`: what 96d0c61 did not build",
    )
    parser.add_argument("--work", type=Path, default=None, help="folder for the data (/tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the data and warehouses")
    args = parser.parse_args(argv)
    named = args.exclude_new
    args.exclude_new = NEW_SINCE_REDESIGN if named == "redesign" else named
    args.exclude_flag = f" --exclude-new {shlex.quote(named)}" if named else ""
    try:
        args.scale_list = [int(s) for s in args.scales.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--scales: not a list of integers: {args.scales}")
    if not args.scale_list or min(args.scale_list) < 1 or args.repeats < 1:
        parser.error("--scales and --repeats: 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    header = {"started": time.strftime("%Y-%m-%d %H:%M"), "load": load_average()}
    header["before"] = describe(args.before)
    header["after"] = describe(args.after)
    begin = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="turnaround-compare-", dir=args.work or "/tmp"))
    print(f"bench: working in {root}; installing {args.before} and {args.after}", flush=True)
    try:
        before = Side("before", install(args.before, root / "before-tree"))
        after = Side("after", install(args.after, root / "after-tree"))
        for scale in args.scale_list:
            compare_scale([before, after], scale, args, root)
    finally:
        if args.keep:
            print(f"bench: kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    header["minutes"] = f"{(time.perf_counter() - begin) / 60:.1f}"
    text = render(before, after, args, header)
    (REPO / "bench" / "COMPARE.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
