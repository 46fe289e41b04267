"""Times the user types: `--since/--until` as ISO-8601 or relative to now (`10m`, `2h`, `3d`).

Times written without an offset are read in `tz` (UTC unless `--tz` names another zone).
Event times in text and JSON lines are parsed in SQL (see `engine.py`); `iso_to_utc` serves
the records walked in Python (HAR) and the user's ISO times alike.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_REL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*(?:ago)?\s*$", re.I)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def iso_to_utc(text: str, tz: str = "UTC") -> datetime | None:
    """An aware UTC datetime from an ISO-8601 time, or None when it is not one."""
    text = text.strip()
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            from dateutil import parser as du

            dt = du.isoparse(text)
        except (ValueError, OverflowError):
            return None
    try:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=ZoneInfo(tz))
        return dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_user_time(value: str, tz: str = "UTC", now: datetime | None = None) -> datetime:
    """An aware UTC datetime from `value`; raises ValueError with a readable reason."""
    m = _REL.match(value)
    if m:
        seconds = float(m.group(1)) * _UNITS[m.group(2).lower()]
        try:
            return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
        except (ValueError, OverflowError) as e:
            raise ValueError(f"{value!r} reaches before the year 1") from e
    dt = iso_to_utc(value, tz)
    if dt is not None:
        return dt
    unreadable = (
        f"cannot read {value!r} as a time; use ISO-8601 (2026-01-31T10:00:00Z) or a relative time (10m, 2h, 3d)"
    )
    try:
        from dateutil import parser as du

        loose = du.parse(value.strip())
        if loose.tzinfo is None:
            loose = loose.replace(tzinfo=ZoneInfo(tz))
        return loose.astimezone(UTC)
    except (ValueError, OverflowError) as e:  # also an offset of 24 hours or more
        raise ValueError(unreadable) from e
