"""Filters and globals the templates share."""
from datetime import datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_time, get_locale, gettext as _
from flask_babel import to_user_timezone

from app.i18n import LANGUAGE_NAMES
from app.labels import label
from app.models import utcnow
from app.services.phones import display as display_phone


def when(moment: datetime | None) -> str:
    """A time the way a consultant reads it: "14:30" today, "Mon 14:30" this week, else a short date."""
    if moment is None:
        return ""
    local, now = to_user_timezone(moment), to_user_timezone(utcnow())
    days = (local.date() - now.date()).days
    if days == 0:
        return _("today %(time)s", time=format_time(moment, "HH:mm"))
    if days == -1:
        return _("yesterday %(time)s", time=format_time(moment, "HH:mm"))
    if days == 1:
        return _("tomorrow %(time)s", time=format_time(moment, "HH:mm"))
    if abs(days) < 7:
        return format_datetime(moment, "EEE HH:mm")
    return format_date(moment, "short")


def is_overdue(moment: datetime | None) -> bool:
    return moment is not None and moment < utcnow()


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(label=label, when=when, phone=display_phone, datetime=format_datetime)
    app.jinja_env.tests["overdue"] = is_overdue
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale()), languages=LANGUAGE_NAMES)
