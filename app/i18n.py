"""Languages (English and Simplified Chinese) and the time zone used to show times."""
from flask import Flask, has_request_context, request, session
from flask_login import current_user

from app.extensions import babel

# Language tags the browser may send, mapped to our catalogue names.
LOCALES = {"en": "en", "zh_Hans": "zh_Hans"}
LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文"}
_ACCEPT = {"en": "en", "zh": "zh_Hans", "zh-Hans": "zh_Hans", "zh-CN": "zh_Hans", "zh-SG": "zh_Hans"}


def select_locale() -> str | None:
    """The user's own setting, else the one chosen before signing in, else the browser's Accept-Language;
    outside a request (the command line, a background job) None, which means the app's default."""
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    if session.get("locale") in LOCALES:
        return session["locale"]
    best = request.accept_languages.best_match(list(_ACCEPT), default="en")
    return _ACCEPT[best]


def language_of(saved: str | None) -> str:
    """The language to write to a user outside their request (a push, a digest, a background import): their own
    setting, else the app's default."""
    return saved if saved in LOCALES else str(babel.default_locale)


def select_timezone() -> str | None:
    """Times show in the user's dealer's zone; brand users see the brand default."""
    if current_user and current_user.is_authenticated and current_user.dealer is not None:
        return current_user.dealer.time_zone
    return None


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories="translations",
    )
