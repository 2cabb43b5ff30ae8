"""Times as people read them: stored times are UTC ISO-8601; people see them in the configured
time zone (``timezone`` in the config, Asia/Shanghai by default), with the zone named.

The zone is process-wide: :func:`watcher.config.load_config` sets it for every process that
reads the config (daemon, crawl processes, CLI, web), so that pages, tables, alerts and log lines
agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
# Names people use for China Standard Time.
_CHINA_NAMES = {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi", "PRC"}

_zone_name = DEFAULT_ZONE
_zone: tzinfo = ZoneInfo(DEFAULT_ZONE)
_CHINA_TZ = ZoneInfo(DEFAULT_ZONE)  # the zone of a platform time printed without an offset


def check_zone(name: str) -> tzinfo:
    """The zone called ``name`` (IANA, e.g. Asia/Shanghai); ValueError in Chinese otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"未知的时区 {name!r}，应为 IANA 时区名，如 Asia/Shanghai、Asia/Hong_Kong") from e


def set_zone(name: str) -> None:
    global _zone, _zone_name
    _zone, _zone_name = check_zone(name), name


def zone() -> tzinfo:
    return _zone


def zone_label() -> str:
    """``北京时间`` for China Standard Time, else the zone's name."""
    return "北京时间" if _zone_name in _CHINA_NAMES else _zone_name


def local_time(value: str | datetime | None, *, seconds: bool = False) -> str:
    """``2026-11-20T02:00:00+00:00`` → ``2026-11-20 10:00``; empty for nothing. A time without an
    offset is shown as it is (a date, or a time already local)."""
    if not value:
        return ""
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return (dt if dt.tzinfo is None else dt.astimezone(_zone)).strftime(fmt)


def local_time_zoned(value: str | datetime | None) -> str:
    """:func:`local_time` followed by the zone: ``2026-11-20 10:00（北京时间）``."""
    shown = local_time(value)
    return f"{shown}（{zone_label()}）" if shown else ""


def local_date(value: str | datetime) -> date:
    """The day ``value`` falls on in the configured zone: the day people name. A stored time
    without an offset is China time (what Chinese platforms print); a bare date is itself."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_CHINA_TZ)
    return dt.astimezone(_zone).date()


def parse_stored(value: str | None, *, naive: tzinfo = UTC) -> datetime | None:
    """A stored time (ISO-8601, any offset) as an aware datetime, or None when it is missing or
    not a time. ``naive``: the zone of a time written without an offset — UTC for what we write,
    China time (``CHINA``) where it came from a platform's page."""
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=naive)


CHINA = _CHINA_TZ


def local_today(now: datetime | None = None) -> date:
    """Today in the configured zone, whatever the server's own clock zone (a server on UTC is
    still on yesterday until 08:00 in Beijing). Every date people read defaults to this; never
    ``date.today()``, which is the server's zone."""
    return (now or datetime.now(UTC)).astimezone(_zone).date()
