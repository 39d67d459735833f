"""Times as reports write them: ISO-8601, UTC, with a ``Z``."""

from __future__ import annotations

import datetime as dt


def _iso(moment: dt.datetime) -> str:
    text = moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def utc_now() -> str:
    """The current time to the second."""
    return _iso(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


def utc_iso(timestamp: float | None) -> str | None:
    """Seconds since the epoch as ISO-8601 UTC (None, or out of range, gives None)."""
    if timestamp is None:
        return None
    try:
        return _iso(dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc))
    except (OverflowError, OSError, ValueError):
        return None
