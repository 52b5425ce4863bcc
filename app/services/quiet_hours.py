"""Quiet hours: when a dealer's people may not be disturbed by a push (their inbox fills at any hour).

`next_allowed(policy, moment)`: `moment` itself outside the quiet window, else the window's end, in the dealer's
time zone. The window may span midnight (21:00–09:00 is the evening and the next morning). A policy without quiet
hours allows any time.
"""
from datetime import datetime, timedelta, timezone

from app.services.cadence import Policy


def next_allowed(policy: Policy, moment: datetime) -> datetime:
    """The first moment at or after `moment` outside the policy's quiet hours (UTC)."""
    starts, ends = policy.quiet_starts, policy.quiet_ends
    if starts is None or ends is None or starts == ends:
        return moment
    local = moment.astimezone(policy.zone)
    clock = local.time()
    spans_midnight = starts > ends
    quiet = (clock >= starts or clock < ends) if spans_midnight else (starts <= clock < ends)
    if not quiet:
        return moment
    day = local.date() + timedelta(days=1) if spans_midnight and clock >= starts else local.date()
    return datetime.combine(day, ends, tzinfo=policy.zone).astimezone(timezone.utc)
