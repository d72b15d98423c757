"""Checks that a raw value has a form the staging models can type; each returns an error or None.

The raw layer keeps values as loaded (text); these checks only make sure that a value which
staging will cast does parse, so a bad file stops the load naming its line instead of failing a
dbt model later with no file to point at.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date

_DURATION = re.compile(r"^(\d+-)?\d+:\d{2}:\d{2}\Z", re.ASCII)
_PG_INTERVAL = re.compile(r"^(\d+ days? )?\d+:\d{2}:\d{2}(\.\d+)?\Z", re.ASCII)
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?\Z", re.ASCII)
#: an ISO 8601 time with an offset or Z (the offset its one group), by its form only
AWARE_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})"
_AWARE = re.compile(f"^{AWARE_TIME}\\Z", re.ASCII)
_EPOCH = re.compile(r"^\d+(\.\d+)?\Z", re.ASCII)
_STAT_Y = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(\.\d{1,9})? ([+-]\d{4})\Z", re.ASCII)
_INTEGER = re.compile(r"^-?\d+\Z", re.ASCII)
_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\Z", re.ASCII)

_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})\Z", re.ASCII)

SLURM_NO_TIME = ("Unknown", "None", "")
SLURM_NO_LIMIT = ("UNLIMITED", "Partition_Limit", "")


def _valid_calendar(stamp: str) -> bool:
    """True when the date and time fields name a real calendar instant (no 2023-02-30)."""
    # the patterns already fixed the digits' places: the clock is compared as text, and each
    # day is checked once by the date constructor (a load reads thousands of times a day)
    return (
        stamp[11:13] <= "23"
        and stamp[14:16] <= "59"
        and stamp[17:19] <= "59"
        and (_valid_date(stamp[0:10]))
    )


@functools.lru_cache(maxsize=4096)
def _valid_date(day: str) -> bool:
    """True when `YYYY-MM-DD` (digits in place) is a day of the calendar."""
    try:
        date(int(day[0:4]), int(day[5:7]), int(day[8:10]))
    except ValueError:
        return False
    return True


def _valid_offset(stamp: str) -> bool:
    """True unless the stamp ends in an offset beyond ±23:59."""
    match = _OFFSET.search(stamp)
    return match is None or (int(match.group(2)) < 24 and int(match.group(3)) < 60)


@functools.lru_cache(maxsize=256)
def _offset_ok(offset: str) -> bool:
    """True for `Z` or an offset `±HH[:]MM` within ±23:59 (as `_valid_offset`)."""
    return offset == "Z" or (int(offset[1:3]) < 24 and int(offset[-2:]) < 60)


def slurm_time_error(value: str) -> str | None:
    """sacct Submit/Start/End: naive local ISO time, or Unknown/None/empty."""
    if value in SLURM_NO_TIME:
        return None
    if _NAIVE.match(value) and _valid_calendar(value):
        return None
    return f"time {value!r} is not YYYY-MM-DDTHH:MM:SS, Unknown or None"


def slurm_duration_error(value: str, *, limit: bool = False) -> str | None:
    """sacct Elapsed/Timelimit: [D-]HH:MM:SS; Timelimit may also be UNLIMITED/Partition_Limit."""
    if limit and value in SLURM_NO_LIMIT:
        return None
    if _DURATION.match(value):
        hours, minutes, seconds = (int(part) for part in value.split("-")[-1].split(":"))
        if minutes < 60 and seconds < 60 and (hours < 24 or "-" not in value):
            return None
    kind = "time limit" if limit else "duration"
    return f"{kind} {value!r} is not [D-]HH:MM:SS"


def interval_error(value: str) -> str | None:
    """PostgreSQL interval text as psql exports it (HH:MM:SS, 'N days HH:MM:SS'), or empty."""
    if value == "" or _PG_INTERVAL.match(value):
        return None
    return f"interval {value!r} is not HH:MM:SS"


def aware_time_valid(value: str, offset: str) -> bool:
    """True when a time of the form AWARE_TIME, its offset `offset`, names a real instant."""
    return _valid_calendar(value) and _offset_ok(offset)


def aware_time_error(value: str) -> str | None:
    """ISO 8601 time with an offset or Z."""
    match = _AWARE.match(value)
    if match is not None and aware_time_valid(value, match.group(1)):
        return None
    return f"time {value!r} is not ISO 8601 with an offset (like 2023-10-13T16:45:09+00:00)"


def naive_time_error(value: str) -> str | None:
    """Naive facility-local time YYYY-MM-DD HH:MM:SS."""
    if _NAIVE.match(value) and _valid_calendar(value):
        return None
    return f"time {value!r} is not YYYY-MM-DD HH:MM:SS"


def mtime_error(value: str) -> str | None:
    """A stat mtime: epoch seconds (integer or fractional) or stat's %y form with offset."""
    if _EPOCH.match(value):
        if float(value) <= LATEST_EPOCH:
            return None
        return f"mtime {value!r} is after the year 9999"
    match = _STAT_Y.match(value)
    if match and _valid_calendar(match.group(1)) and _valid_offset(value):
        return None
    return f"mtime {value!r} is neither epoch seconds nor 'YYYY-MM-DD HH:MM:SS[.fraction] +HHMM'"


INT32 = 2**31 - 1
LATEST_EPOCH = 253402300799  # 9999-12-31 23:59:59 UTC


def integer_error(value: str, what: str, *, optional: bool = False) -> str | None:
    """A whole number that fits the 4-byte integer staging casts it to (empty allowed when
    optional)."""
    if optional and value == "":
        return None
    if not _INTEGER.match(value):
        return f"{what} {value!r} is not a whole number"
    if not -INT32 - 1 <= int(value) <= INT32:
        return f"{what} {value!r} is too large"
    return None


def number_error(value: str, what: str) -> str | None:
    """A decimal number a double can hold."""
    if not _NUMBER.match(value):
        return f"{what} {value!r} is not a number"
    if not math.isfinite(float(value)):
        return f"{what} {value!r} is too large"
    return None
