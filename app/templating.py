"""Filters and globals the templates share."""
from datetime import datetime, timezone

from flask import Flask
from babel.dates import format_skeleton
from flask_babel import format_datetime, get_locale, get_timezone, gettext as _

from app.contact_buttons import contact_buttons
from app.i18n import LANGUAGE_NAMES
from app.labels import label
from app.models import (
    Activity, ActivityKind, AppointmentKind, Channel, IntentLevel, Outcome, Source, Stage, utcnow,
)
from app.services.charts import chart as chart_data
from app.services.consent import by_channel as consent_by_channel
from app.services.first_contact_clock import is_breached
from app.services.phones import display as display_phone


def when(moment: datetime | None) -> str:
    """A time the way a consultant reads it: "14:30" today, "Mon 14:30" this week, else a short date."""
    if moment is None:
        return ""
    zone = get_timezone()  # the reader's: one look-up, not one per conversion
    local = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(zone)
    today = utcnow().astimezone(zone).date()
    days = (local.date() - today).days
    if abs(days) <= 1:
        clock = f"{local:%H:%M}"  # the same digits in every language the app speaks
        if days == 0:
            return _("today %(time)s", time=clock)
        return _("yesterday %(time)s", time=clock) if days < 0 else _("tomorrow %(time)s", time=clock)
    if abs(days) < 7:
        return format_datetime(moment, "EEE HH:mm")
    skeleton = "MMMEd" if local.year == today.year else "yMMMEd"
    return format_skeleton(skeleton, local, locale=get_locale())


def activity_summary(activity: Activity) -> str:
    """An activity's summary in the reader's language: stage and level changes, close requests, notes."""
    summary = activity.summary or ""
    if " → " in summary:
        old, new = summary.split(" → ", 1)
        if activity.kind is ActivityKind.STAGE_CHANGE:
            old, new = label(Stage(old)), label(Stage(new))
        return f"{old} → {new}"
    if ": " in summary:
        head, tail = summary.split(": ", 1)
        return f"{label(head)}: {label(tail)}"
    return label(summary)


def waiting(since: datetime, now: datetime) -> str:
    """How long a lead has waited for its first contact: minutes, then hours, then days."""
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 120:
        return _("Waiting %(minutes)d min", minutes=minutes)
    if minutes < 48 * 60:
        return _("Waiting %(hours)d h", hours=minutes // 60)
    return _("Waiting %(days)d days", days=minutes // (24 * 60))


def first_contact(lead, now: datetime) -> tuple[str, str]:
    """A new lead's first-contact clock as a row shows it: (css class, text); red once the dealer's limit passed."""
    text = waiting(lead.arrived_at, now)
    if lead.first_contact_due_at is None:
        return "", text
    if is_breached(lead, now):
        return "overdue", _("%(waiting)s · over the limit", waiting=text)
    return "", _("%(waiting)s · call by %(time)s", waiting=text, time=when(lead.first_contact_due_at))


_DEVICES = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Macintosh", "Mac"), ("Linux", "Linux"))
_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))


def device_name(user_agent: str | None) -> str:
    """"Chrome on Android" from a browser's User-Agent, enough to tell one's devices apart."""
    agent = user_agent or ""
    system = next((name for token, name in _DEVICES if token in agent), None)
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    if system and browser:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return system or browser or _("A browser")


def _unread_notifications() -> int:
    from flask_login import current_user

    from app.services.inbox import unread_count

    return unread_count(current_user) if current_user.is_authenticated else 0


def outbox_texts() -> dict:
    """The words of offline entry, for static/js/outbox.js and app.js ({n}, {time} are filled in there)."""
    return {
        "queued": _("Saved on this phone. It will sync when there is signal."),
        "badge": _("To sync: %(n)s", n="{n}"),
        "as_of": _("Offline — as of %(time)s", time="{time}"),
        "synced": _("Synced: %(n)s", n="{n}"),
        "no_signal": _("No signal. Your entries stay on this phone."),
        "sign_in": _("Sign in to sync the entries on this phone."),
        "unavailable": _("This is not on the phone. Open it again when there is signal."),
        "refused": _("The server did not accept this entry."),
        "gone": _("This lead is no longer yours, or it is gone."),
        "forbidden": _("You may not make this change any more."),
        "retry": _("The server is busy. Trying again shortly."),
        "waiting": _("Waiting to sync"),
        "finish_first": _("Save or close what you are entering first, then reload."),
        "discard": _("Discard this entry? It will not be saved anywhere."),
        "sign_out": _("Entries waiting to sync: %(n)s. They stay on this phone and sync when you sign in "
                      "again. Sign out?", n="{n}"),
        "kinds": {"walk_in": _("Walk-in"), "contact": _("Contact"), "follow_up": _("Next follow-up"),
                  "booking": _("Appointment"), "note": _("Note")},
    }


def percent(rate: float | None) -> str:
    """A rate as a whole percentage ("33%"), or a dash when there was nothing to divide by."""
    return "—" if rate is None else f"{round(rate * 100)}%"


def duration(seconds: float | None) -> str:
    """A span of time the way a manager reads it: "45 s", "12 min", "3 h 05 min", "2 d 4 h"; a dash for none."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(n)s s", n=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return _("%(n)s min", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)s h %(m)02d min", h=hours, m=minutes)
    days, hours = divmod(hours, 24)
    return _("%(d)s d %(h)s h", d=days, h=hours)


def date_label(day) -> str:
    """A day, short, in the user's language: "2 Nov", "11月2日"."""
    return format_skeleton("MMMd", day, locale=get_locale())


def is_overdue(moment: datetime | None) -> bool:
    return moment is not None and moment < utcnow()


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(label=label, when=when, phone=display_phone, datetime=format_datetime,
                                 summary=activity_summary, source_label=lambda code: label(Source(code)),
                                 channel_label=lambda code: label(Channel(code)), device_name=device_name,
                                 percent=percent, duration=duration, date_label=date_label)
    app.jinja_env.globals.update(waiting=waiting, first_contact=first_contact,
                                 unread_notifications=_unread_notifications, now=utcnow,
                                 outbox_texts=outbox_texts, chart_data=chart_data,
                                 consent_by_channel=consent_by_channel, contact_buttons_of=contact_buttons)
    app.jinja_env.tests["overdue"] = is_overdue
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale()), languages=LANGUAGE_NAMES,
                                 Outcome=Outcome, IntentLevel=IntentLevel, AppointmentKind=AppointmentKind)
