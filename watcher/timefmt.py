"""Times as people read them: stored times are UTC ISO-8601; people see China time."""

from __future__ import annotations

from datetime import datetime

from spiders.parsing import CHINA


def local_time(value: str | datetime | None) -> str:
    """``2026-11-20T02:00:00+00:00`` → ``2026-11-20 10:00``; empty for nothing."""
    if not value:
        return ""
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if dt.tzinfo is None:
        return dt.strftime("%Y-%m-%d %H:%M")
    return dt.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
