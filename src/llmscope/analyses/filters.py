"""Filters shared by every analysis: ``--since/--until`` windows and ``--where`` on canonical columns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_REL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|wk|weeks?)\s*$", re.I)
_UNITS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "wk": 604800,
    "week": 604800,
    "weeks": 604800,
}


class FilterError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``2d``, ``1w`` -> timedelta."""
    m = _REL.match(text)
    if not m:
        raise FilterError(f"{text!r} is not a duration like 30m, 2h, 2d or 1w")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """A point in time: a duration ago (``2d``) or ISO-8601 (``2025-11-08``, ``2025-11-12T09:00``). UTC, naive."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if _REL.match(text):
        return now - parse_duration(text)
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"{text!r} is neither a duration (2d, 12h) nor a date/time (2025-11-08, 2025-11-12T09:00)"
        ) from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


@dataclass
class SpanFilter:
    """A window and a SQL predicate over the canonical ``spans`` columns."""

    since: datetime | None = None
    until: datetime | None = None
    where: str | None = None

    @classmethod
    def from_options(cls, since: str | None = None, until: str | None = None, where: str | None = None) -> SpanFilter:
        return cls(parse_time(since) if since else None, parse_time(until) if until else None, where or None)

    def sql(self, alias: str = "") -> tuple[str, list]:
        """A WHERE body (always valid, ``TRUE`` when empty) and its parameters."""
        p = f"{alias}." if alias else ""
        parts, params = [], []
        if self.since:
            parts.append(f"{p}start_time >= ?")
            params.append(self.since)
        if self.until:
            parts.append(f"{p}start_time < ?")
            params.append(self.until)
        if self.where:
            if ";" in self.where:
                raise FilterError("--where takes one SQL condition, without ';'")
            parts.append(f"({self.where})")
        return (" AND ".join(parts) or "TRUE"), params
