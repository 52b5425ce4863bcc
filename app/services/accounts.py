"""Accounts: signing in, password rules, and a manager's care of their dealer's consultants."""
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Role, User, utcnow
from app.services import audit
from app.services.phones import InvalidPhone, normalise_mobile

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "passw0rd", "1234567890", "0123456789", "12345678910",
    "qwertyuiop", "1q2w3e4r5t", "a123456789", "abcdefghij", "iloveyou", "woaini1314", "1qaz2wsx3edc",
    "qwerty1234", "admin12345", "welcome123", "zxcvbnm123", "aaaaaaaaaa", "letmein123",
})
# Checked against when the sign-in name is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is for the person who asked."""


class AccountLocked(Exception):
    """Too many failed sign-ins: the account opens again at `until` (aware UTC), even for the right password.

    Only raised for an account that exists: an unknown sign-in name always reads as a wrong password.
    """

    def __init__(self, user: User, until: datetime):
        super().__init__(f"account {user.id} locked until {until.isoformat()}")
        self.user = user
        self.until = until


def hash_password(password: str) -> str:
    """Hash with Werkzeug's scrypt (memory-hard, salted)."""
    return generate_password_hash(password, method="scrypt")


def find_by_sign_in_name(identifier: str) -> User | None:
    """Find an account by email address, or by mobile number typed in any usual way."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return db.session.scalar(select(User).where(User.email == identifier.lower()))
    try:
        phone = normalise_mobile(identifier)
    except InvalidPhone:
        return None
    return db.session.scalar(select(User).where(User.phone_e164 == phone))


def authenticate(identifier: str, password: str) -> User | None:
    """The active account that this name and password open, or None (never saying which part was wrong).

    Failed attempts are counted on the account: SIGN_IN_LOCKOUT_ATTEMPTS of them within SIGN_IN_LOCKOUT_MINUTES
    lock it for SIGN_IN_LOCKOUT_MINUTES, so a guesser gets a handful of tries however many addresses they use
    (the rate limits in app.views.auth slow them down further). A success resets the count.

    :raise AccountLocked: when the account is locked, or this attempt locked it.
    """
    user = find_by_sign_in_name(identifier)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    now = utcnow()
    # The hash is checked even when locked, so a locked account answers in the same time as any other.
    correct = check_password_hash(user.password_hash, password)
    if user.locked_until is not None:
        if user.locked_until > now:
            raise AccountLocked(user, user.locked_until)
        _unlock(None, user, reason="expired")
    if not correct or not user.active:
        _count_failure(user, now)
        db.session.commit()
        if user.locked_until is not None:
            raise AccountLocked(user, user.locked_until)
        return None
    user.failed_sign_ins, user.failed_sign_in_at = 0, None
    user.last_sign_in_at = now
    db.session.commit()
    return user


def _count_failure(user: User, now: datetime) -> None:
    """Count a failed sign-in in the current window (opened by the first failure), locking at the limit."""
    window = timedelta(minutes=current_app.config["SIGN_IN_LOCKOUT_MINUTES"])
    if user.failed_sign_in_at is None or now - user.failed_sign_in_at > window:
        user.failed_sign_ins, user.failed_sign_in_at = 0, now
    user.failed_sign_ins += 1
    if user.failed_sign_ins >= current_app.config["SIGN_IN_LOCKOUT_ATTEMPTS"]:
        user.locked_until = now + window
        audit.record(None, "user.locked", user, dealer_id=user.dealer_id,
                     after={"failed_sign_ins": user.failed_sign_ins, "locked_until": user.locked_until.isoformat()})
        user.failed_sign_ins, user.failed_sign_in_at = 0, None


def _unlock(actor: User | None, user: User, *, reason: str) -> None:
    """Lift a lock and forget failed attempts (the lock ran out, or a manager reset the password); the caller
    commits. A lock still in force when lifted, or one found run out, is audited."""
    if user.locked_until is not None and (reason == "expired" or user.locked_until > utcnow()):
        audit.record(actor, "user.unlocked", user, dealer_id=user.dealer_id,
                     before={"locked_until": user.locked_until.isoformat()}, after={"reason": reason})
    user.locked_until, user.failed_sign_ins, user.failed_sign_in_at = None, 0, None


def user_for_session(session_id: str) -> User | None:
    """The user whose session id ("id.version") is still current; a changed password ends older sessions."""
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    # the dealer comes along: nearly every page of a dealer's people reads it (time zone, cadence)
    user = db.session.get(User, int(user_id), options=[joinedload(User.dealer)])
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


def password_problems(password: str, user: User | None = None) -> list:
    """What is wrong with a new password, as messages; an empty list means it is strong enough."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(_l("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH))
    if len(set(password)) < 5 or password.lower() in COMMON_PASSWORDS:
        problems.append(_l("This password is too easy to guess."))
    if user is not None and _contains_own_details(password, user):
        problems.append(_l("Do not use your own email address or mobile number."))
    return problems


def _contains_own_details(password: str, user: User) -> bool:
    lowered = password.lower()
    parts = [user.email.split("@")[0] if user.email else "", user.phone_e164[-8:] if user.phone_e164 else ""]
    return any(len(part) >= 4 and part.lower() in lowered for part in parts)


def change_password(user: User, current: str, new: str) -> None:
    """Change a user's own password; every other session of theirs is signed out.

    :raise AccountError: when the current password is wrong or the new one too weak.
    """
    if not check_password_hash(user.password_hash, current):
        raise AccountError(_l("Your current password is not correct."))
    if new == current:
        raise AccountError(_l("Choose a password you have not used here before."))
    problems = password_problems(new, user)
    if problems:
        raise AccountError(" ".join(str(p) for p in problems))
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    audit.record(user, "user.password_changed", user, dealer_id=user.dealer_id)
    db.session.commit()


def temporary_password() -> str:
    """A random password to hand over in person; the user must replace it at first sign-in."""
    return secrets.token_urlsafe(9)


def add_consultant(manager: User, *, name: str, email: str | None, phone: str | None) -> tuple[User, str]:
    """Create a consultant at the manager's dealer with a temporary password, returned once.

    :raise AccountError: when the email or mobile number already belongs to an account.
    """
    phone_e164 = normalise_mobile(phone, manager.dealer.phone_region) if phone else None
    email = email.strip().lower() if email else None
    if email and db.session.scalar(select(User.id).where(User.email == email)):
        raise AccountError(_l("An account with this email address already exists."))
    if phone_e164 and db.session.scalar(select(User.id).where(User.phone_e164 == phone_e164)):
        raise AccountError(_l("An account with this mobile number already exists."))
    password = temporary_password()
    consultant = User(
        oem_id=manager.oem_id, dealer_id=manager.dealer_id, role=Role.CONSULTANT, name=name.strip(),
        email=email, phone_e164=phone_e164, password_hash=hash_password(password), must_change_password=True,
    )
    db.session.add(consultant)
    db.session.flush()
    audit.record(manager, "user.created", consultant, dealer_id=manager.dealer_id,
                 after={"name": consultant.name, "email": email, "phone": phone_e164, "role": "consultant"})
    db.session.commit()
    return consultant, password


def set_active(manager: User, consultant: User, active: bool) -> None:
    """Deactivate (signing them out everywhere) or reactivate a consultant of the manager's dealer."""
    if consultant.active == active:
        return
    consultant.active = active
    consultant.session_version += 1
    audit.record(manager, "user.activated" if active else "user.deactivated", consultant,
                 dealer_id=manager.dealer_id, before={"active": not active}, after={"active": active})
    db.session.commit()


def reset_password(manager: User, consultant: User) -> str:
    """Give a consultant a new temporary password (returned once); their sessions end and a lockout lifts."""
    password = temporary_password()
    consultant.password_hash = hash_password(password)
    consultant.must_change_password = True
    consultant.session_version += 1
    audit.record(manager, "user.password_reset", consultant, dealer_id=manager.dealer_id)
    _unlock(manager, consultant, reason="password_reset")
    db.session.commit()
    return password


def end_sessions(actor: User, user: User) -> None:
    """Sign a user out on every device ("sign out on all devices", or a manager for a consultant of theirs).

    The session version is part of every session id and remember-me cookie, so bumping it ends them all; the
    caller signs the current browser in again with the new version when the user ended their own sessions.
    """
    user.session_version += 1
    audit.record(actor, "user.sessions_ended", user, dealer_id=user.dealer_id,
                 after={"session_version": user.session_version})
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    """Remember the user's language on every device."""
    user.locale = locale
    db.session.commit()
