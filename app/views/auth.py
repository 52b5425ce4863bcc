"""Signing in and out."""
import math
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError

from app.extensions import limiter
from app.models import utcnow
from app.schemas import first_errors
from app.schemas.accounts import SignInSchema
from app.services import accounts
from app.views.rendering import render, safe_next

bp = Blueprint("auth", __name__)


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def _sign_in_name() -> str:
    """Limit attempts per account too, so spreading a guess over many addresses does not help."""
    return "sign-in:" + (request.form.get("identifier") or "").strip().lower()


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
@limiter.limit(_sign_in_limit, methods=["POST"], key_func=_sign_in_name)
def sign_in():
    """Sign in with email or mobile number and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    errors, form = {}, request.form
    if request.method == "POST":
        try:
            data = SignInSchema().load(request.form)
        except ValidationError as error:
            errors = first_errors(error.messages)
        else:
            try:
                user = accounts.authenticate(data["identifier"], data["password"])
            except accounts.AccountLocked as locked:
                user, errors = None, {"form": _locked_message(locked)}
            else:
                if user is None:
                    errors = {"form": _("The email, mobile number or password is not correct.")}
            if user is not None:
                locale = session.get("locale")
                session.clear()  # a fresh session at sign-in: nothing from before carries over
                if locale and not user.locale:
                    accounts.set_locale(user, locale)
                login_user(user, remember=data["remember"])
                return redirect(safe_next(data.get("next")) or url_for("home.index"))
    status = 422 if errors else 200
    return render("auth/sign_in.html", status=status, errors=errors, form=form,
                  next=safe_next(request.values.get("next")))


def _locked_message(locked: accounts.AccountLocked) -> str:
    """When a locked account can try again: at the time on the clock of its dealer (when it has one) and in
    minutes from now, and that a manager can open it sooner by resetting the password."""
    minutes = max(1, math.ceil((locked.until - utcnow()).total_seconds() / 60))
    dealer = locked.user.dealer
    if dealer is not None and dealer.time_zone:
        at = format_time(locked.until, "HH:mm", tzinfo=ZoneInfo(dealer.time_zone), locale=get_locale())
        return ngettext("Too many failed sign-ins: this account is locked. Try again at %(time)s (in %(num)d "
                        "minute), or ask your manager to reset your password.",
                        "Too many failed sign-ins: this account is locked. Try again at %(time)s (in %(num)d "
                        "minutes), or ask your manager to reset your password.", minutes, time=at)
    return ngettext("Too many failed sign-ins: this account is locked. Try again in %(num)d minute, or ask a "
                    "manager to reset your password.",
                    "Too many failed sign-ins: this account is locked. Try again in %(num)d minutes, or ask a "
                    "manager to reset your password.", minutes)


@bp.post("/signout")
@login_required
def sign_out():
    """Sign out of this browser."""
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.sign_in"))
