"""Signing in and out."""
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError

from app.extensions import limiter
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
            user = accounts.authenticate(data["identifier"], data["password"])
            if user is None:
                errors = {"form": _("The email, mobile number or password is not correct.")}
            else:
                locale = session.get("locale")
                session.clear()  # a fresh session at sign-in: nothing from before carries over
                if locale and not user.locale:
                    accounts.set_locale(user, locale)
                login_user(user, remember=data["remember"])
                return redirect(safe_next(data.get("next")) or url_for("home.index"))
    status = 422 if errors else 200
    return render("auth/sign_in.html", status=status, errors=errors, form=form,
                  next=safe_next(request.values.get("next")))


@bp.post("/signout")
@login_required
def sign_out():
    """Sign out of this browser."""
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.sign_in"))
