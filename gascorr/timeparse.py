"""Times the user types: `--since/--until` as ISO-8601 or relative to now (`10m`, `2h`, `3d`).

Times written without an offset are read in `tz` (UTC unless `--tz` names another zone).
Event times in logs are parsed in SQL (see `engine.py`), not here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_REL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*(?:ago)?\s*$", re.I)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_user_time(value: str, tz: str = "UTC", now: datetime | None = None) -> datetime:
    """An aware UTC datetime from `value`; raises ValueError with a readable reason."""
    m = _REL.match(value)
    if m:
        seconds = float(m.group(1)) * _UNITS[m.group(2).lower()]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        try:
            from dateutil import parser as du

            dt = du.parse(text)
        except (ValueError, OverflowError) as e:
            raise ValueError(
                f"cannot read {value!r} as a time; use ISO-8601 (2026-01-31T10:00:00Z) or a relative time (10m, 2h, 3d)"
            ) from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC)
