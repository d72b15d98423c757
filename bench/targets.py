"""The targets table of bench/RESULTS.md: each x100 target, met or MISSED."""

from __future__ import annotations

from bench.markdown import table
from bench.records import ScaleResult
from bench.timing import MIB, REPEATS

TARGET_SCALE = 100
GB = 10**9


def targets(results: list[ScaleResult], startup: float, pandas: float) -> list[str]:
    """The x100 targets, met or MISSED (or not run, with the largest scale's figure)."""
    at = {r.scale: r for r in results}
    target = at.get(TARGET_SCALE)
    shown = target or (max(results, key=lambda r: r.scale) if results else None)
    rows: list[list[str]] = []

    def add(name: str, value: str, ok: bool) -> None:
        if target is not None:
            rows.append([name, value, "met" if ok else "MISSED"])
        else:
            assert shown is not None
            rows.append([name, f"x{shown.scale}: {value}", f"not run at x{TARGET_SCALE}"])

    if shown is not None:
        ref = shown.reference
        assert ref is not None
        speedup = ref.jq_per_file / ref.loader_per_file
        add(
            "rec_status JSON load >= 1000x faster per file than cat|jq",
            f"{speedup:,.0f}x ({ref.jq_per_file * 1e3:.2f} ms vs "
            f"{ref.loader_per_file * 1e6:.1f} µs per file)",
            speedup >= 1000,
        )
        add(
            "rec_status JSON load <= 1.5x the read floor",
            f"{ref.loader / ref.floor:.2f}x ({ref.loader:.2f} s vs {ref.floor:.2f} s)",
            ref.loader <= 1.5 * ref.floor,
        )
        for process in shown.processes:
            add(
                f"rec_status load process <= 1.5x a plain-read process ({process.layout}, "
                f"{process.files:,} files, start-up included)",
                f"{process.ratio:.2f}x ({process.load:.2f} s vs {process.floor:.2f} s)",
                process.ratio <= 1.5,
            )
        walk = shown.walk
        assert walk is not None
        add(
            f"directory walk (format dir) of {walk.files:,} files <= 1.5x the stat floor",
            f"{walk.walk / walk.floor:.2f}x ({walk.walk:.2f} s vs {walk.floor:.2f} s)",
            walk.walk <= 1.5 * walk.floor,
        )
        add(
            f"stat listing (format stat) of {walk.files:,} files <= 1.5x the stat floor",
            f"{walk.listing / walk.floor:.2f}x ({walk.listing:.2f} s vs {walk.floor:.2f} s)",
            walk.listing <= 1.5 * walk.floor,
        )
        full, one_day = shown.stage_named("full"), shown.stage_named("one more day")
        share = one_day.run.wall / full.run.wall
        floor = shown.floor(startup, pandas)
        add(
            "refresh of one more day <= 15% of the full refresh",
            f"{share:.0%} ({one_day.run.wall:.1f} s vs {full.run.wall:.1f} s); the same "
            f"commands with nothing new already take {floor / full.run.wall:.0%} "
            f"({floor:.1f} s, see below)",
            share <= 0.15,
        )
        check = shown.stage_named("turnaround check")
        add(
            "turnaround check (the marts read-only, no dbt) < 1 s",
            f"{check.run.wall:.2f} s (median of {REPEATS} whole processes)",
            check.run.wall < 1.0,
        )
        add(
            "peak RSS of the full refresh <= 2 GB",
            f"{full.run.rss_mib * MIB / GB:.2f} GB ({full.run.rss_mib:,.0f} MiB)",
            full.run.rss_mib * MIB <= 2 * GB,
        )
    return table(["target (at x100)", "measured", "verdict"], "lll", rows)
