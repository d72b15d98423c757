"""Time helpers: every instant is epoch seconds (or ns) in UTC, formatted as local time last."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from turnaround.demo.params import NS, TZ


def epoch(wall: datetime) -> int:
    """Epoch seconds of a facility-local wall time (which must exist and be unambiguous)."""
    aware = wall.replace(tzinfo=TZ)
    if datetime.fromtimestamp(aware.timestamp(), TZ).replace(tzinfo=None) != wall:
        raise ValueError(f"local time {wall} does not exist")
    if aware.replace(fold=1).utcoffset() != aware.utcoffset():
        raise ValueError(f"local time {wall} is ambiguous")
    return int(aware.timestamp())


def local(seconds: int) -> datetime:
    """The facility-local aware datetime of an epoch second, refusing ambiguous wall times."""
    moment = datetime.fromtimestamp(seconds, TZ)
    if moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset():
        raise ValueError(f"{moment} is ambiguous in {TZ.key}; the demo must not write it")
    return moment


def sacct_time(seconds: int) -> str:
    """`2023-03-12T01:59:30`: sacct's naive local time."""
    return local(seconds).strftime("%Y-%m-%dT%H:%M:%S")


def duration(seconds: int) -> str:
    """`HH:MM:SS`, or `D-HH:MM:SS` from a day on (sacct Elapsed)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    hms = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{hms}" if days else hms


def iso_time(seconds: int, form: str) -> str:
    """A receiver status `time`: form `utc` (+00:00), `z` (Z) or `local` (-07:00/-08:00)."""
    if form == "local":
        return local(seconds).isoformat()
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return text.replace("+00:00", "Z") if form == "z" else text


def mtime_text(ns: int, form: str) -> str:
    """An mtime as `stat %Y` (`epoch`), `find %T@` (`find`) or `stat %y` (`stat_y`)."""
    seconds, fraction = divmod(ns, NS)
    if form == "epoch":
        return str(seconds)
    if form == "find":
        return f"{seconds}.{fraction:09d}0"
    moment = local(seconds)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{fraction:09d} {moment:%z}"


def midnight(day: date) -> int:
    """Epoch seconds of a day's local midnight (never a DST transition in Los Angeles)."""
    return epoch(datetime.combine(day, datetime.min.time()))


def days_between(first: date, last: date) -> list[date]:
    """Every day from first to last, inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
