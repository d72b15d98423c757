"""`turnaround check`: the service levels, the sources' freshness and the flagged trend weeks,
read from the marts (read-only, no dbt), as lines for a person or one JSON document for a
monitoring system, and an exit code for cron.

Exit 0 when every level is met or has no data and no source is stale; 1 when a level of
`error` severity is breached or a source of `error` severity is stale (a `warn` one is printed
and does not fail). Freshness is judged at check time (`--as-of`, default now), so a refresh
that found nothing new and skipped dbt still reports a source that stopped sending data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from warehouse import TurnaroundError, connect

MARTS = ("service_level_status", "source_freshness", "weekly_trends")
MEASURES = {"time_to_data": "time to data", "queue_time": "queue time"}
WORKFLOWS = {"file_transfer": "file transfer", "streaming": "streaming", "count_job": "count job"}
SCHEMA = Path(__file__).with_name("check.schema.json")


@dataclass
class Level:
    """A service level and where it stands over its window."""

    level_id: str
    workflow: str
    scan_size: int | None
    measure: str
    statistic: str
    max_s: float
    window_days: int
    severity: str
    description: str
    window_start_date: str | None
    window_end_date: str | None
    n: int
    measured_s: float | None
    status: str  # met, breached, no data


@dataclass
class Freshness:
    """A source's newest record against the age it may have."""

    source: str
    newest_record_at: str | None
    max_age_days: float
    severity: str
    age_days: float | None
    status: str  # fresh, stale, no data


@dataclass
class Week:
    """A week whose p90 rose above its baseline."""

    measure: str
    iso_week: str
    week_start_date: str
    workflow: str
    scan_size: int | None
    n: int
    p90_s: float
    baseline_p90_s: float | None
    reason: str


@dataclass
class Check:
    """Everything `check` reports, and the exit code it implies."""

    as_of: str
    warehouse: str
    levels: list[Level] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)
    flagged_weeks: list[Week] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """What fails the check: breached error levels and stale error sources."""
        failed = [
            f"level {level.level_id} breached"
            for level in self.levels
            if level.status == "breached" and level.severity == "error"
        ]
        failed += [
            f"source {source.source} stale"
            for source in self.freshness
            if source.status == "stale" and source.severity == "error"
        ]
        return failed

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def document(self) -> dict[str, Any]:
        """The JSON document (`check.schema.json`)."""
        return {
            "as_of": self.as_of,
            "warehouse": self.warehouse,
            "status": "failing" if self.failures else "ok",
            "exit_code": self.exit_code,
            "failures": self.failures,
            "levels": [asdict(level) for level in self.levels],
            "freshness": [asdict(source) for source in self.freshness],
            "flagged_weeks": [asdict(week) for week in self.flagged_weeks],
        }


def run_check(warehouse: Path, as_of: datetime | None = None) -> Check:
    """Read the marts of `warehouse` (read-only, released at once) as of `as_of` (now)."""
    now = as_of or datetime.now(UTC)
    con = connect(warehouse, read_only=True)
    try:
        built = {row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()}  # fmt: skip
        missing = [mart for mart in MARTS if mart not in built]
        if missing:
            raise TurnaroundError(
                f"{warehouse}: no {', '.join(missing)} mart yet; run `turnaround refresh` to "
                "build the marts `check` reads"
            )
        return Check(
            as_of=now.isoformat(timespec="seconds"),
            warehouse=str(warehouse),
            levels=_levels(con),
            freshness=_freshness(con, now),
            flagged_weeks=_flagged_weeks(con),
        )
    finally:
        con.close()


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _levels(con: Any) -> list[Level]:
    rows = _rows(
        con,
        """
        select level_id, workflow, scan_size, measure, statistic, max_s, window_days, severity,
            description, window_start_date, window_end_date, n, measured_s, status
        from marts.service_level_status
        order by level_id
        """,
    )
    return [
        Level(
            level_id=str(row["level_id"]),
            workflow=str(row["workflow"]),
            scan_size=row["scan_size"],
            measure=str(row["measure"]),
            statistic=str(row["statistic"]),
            max_s=float(row["max_s"]),
            window_days=int(row["window_days"]),
            severity=str(row["severity"]),
            description=str(row["description"] or ""),
            window_start_date=_text(row["window_start_date"]),
            window_end_date=_text(row["window_end_date"]),
            n=int(row["n"] or 0),
            measured_s=_number(row["measured_s"]),
            status=str(row["status"]),
        )
        for row in rows
    ]


def _freshness(con: Any, now: datetime) -> list[Freshness]:
    rows = _rows(
        con,
        "select source_name as source, newest_record_at, max_age_days, severity "
        "from marts.source_freshness order by source_name",
    )
    found = []
    for row in rows:
        newest: datetime | None = row["newest_record_at"]
        age = None if newest is None else (now - newest).total_seconds() / 86400
        limit = float(row["max_age_days"])
        status = "no data" if age is None else ("stale" if age > limit else "fresh")
        found.append(
            Freshness(
                source=str(row["source"]),
                newest_record_at=None if newest is None else newest.isoformat(),
                max_age_days=limit,
                severity=str(row["severity"]),
                age_days=None if age is None else round(age, 3),
                status=status,
            )
        )
    return found


def _flagged_weeks(con: Any) -> list[Week]:
    """Flagged weeks in the last window: within the longest window of the levels of their
    measure (28 days where a measure has none), before the newest week of that measure."""
    rows = _rows(
        con,
        """
        with

        newest as (
            select measure, max(week_start_date) as newest_week
            from marts.weekly_trends
            group by measure
        ),

        windows as (
            select measure, max(window_days) as window_days
            from marts.service_level_status
            group by measure
        )

        select
            trends.measure, trends.iso_week, trends.week_start_date, trends.workflow,
            trends.scan_size, trends.n, trends.p90_s, trends.baseline_p90_s,
            trends.flag_reason
        from marts.weekly_trends as trends
        inner join newest on trends.measure = newest.measure
        left join windows on trends.measure = windows.measure
        where trends.is_flagged
            and trends.week_start_date
                > newest.newest_week - cast(coalesce(windows.window_days, 28) as integer)
        order by trends.measure, trends.week_start_date, trends.workflow, trends.scan_size
        """,
    )
    return [
        Week(
            measure=str(row["measure"]),
            iso_week=str(row["iso_week"]),
            week_start_date=str(row["week_start_date"]),
            workflow=str(row["workflow"]),
            scan_size=row["scan_size"],
            n=int(row["n"]),
            p90_s=float(row["p90_s"]),
            baseline_p90_s=_number(row["baseline_p90_s"]),
            reason=str(row["flag_reason"] or ""),
        )
        for row in rows
    ]


def _what(workflow: str, scan_size: int | None, measure: str) -> str:
    size = "all sizes" if scan_size is None else f"{scan_size} × {scan_size}"
    return f"{WORKFLOWS.get(workflow, workflow)} {size} {MEASURES.get(measure, measure)}"


def lines(check: Check) -> list[str]:
    """One line per level, per source and per flagged week, then the verdict."""
    out = []
    for level in check.levels:
        what = f"{_what(level.workflow, level.scan_size, level.measure)} {level.statistic}"
        window = f"{level.window_days} days to {level.window_end_date or '-'}"
        if level.measured_s is None:
            measured = f"no samples, {level.max_s:g} s promised"
        else:
            sign = "≤" if level.status == "met" else ">"
            measured = f"{level.measured_s:.1f} s {sign} {level.max_s:g} s promised"
        out.append(
            f"{level.status:<9} {level.severity:<5} {level.level_id}: {what}: {measured} "
            f"({window}, n={level.n})"
        )
    for source in check.freshness:
        if source.age_days is None:
            said = "no records"
        else:
            said = f"newest record {source.newest_record_at}, {source.age_days:.1f} days old"
        out.append(
            f"{source.status:<9} {source.severity:<5} source {source.source}: {said} "
            f"(at most {source.max_age_days:g} days)"
        )
    for week in check.flagged_weeks:
        baseline = "" if week.baseline_p90_s is None else f" vs {week.baseline_p90_s:.1f} s"
        out.append(
            f"{'flagged':<9} {'':<5} week {week.iso_week}: "
            f"{_what(week.workflow, week.scan_size, week.measure)} p90 {week.p90_s:.1f} s"
            f"{baseline} before ({week.reason}; n={week.n})"
        )
    verdict = "; ".join(check.failures) if check.failures else "every level met or without data"
    out.append(f"check as of {check.as_of}: {verdict}")
    return out


def render(check: Check, as_json: bool) -> str:
    if as_json:
        return json.dumps(check.document(), indent=2, ensure_ascii=False)
    return "\n".join(lines(check))


def parse_as_of(text: str) -> datetime:
    """`--as-of`: a date (midnight UTC) or an ISO 8601 time (UTC unless it has an offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TurnaroundError(
            f"--as-of {text!r} is not a date or an ISO 8601 time (2023-10-31, "
            "2023-10-31T12:00:00+00:00)"
        ) from None
    if isinstance(moment, date) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
