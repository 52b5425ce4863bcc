"""The user's own account: language, password, and signing out on all devices."""
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from marshmallow import ValidationError

from app.schemas import first_errors
from app.schemas.accounts import LocaleSchema, PasswordChangeSchema
from app.services import accounts
from app.views.rendering import render

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@login_required
def profile():
    """Who I am, my language, and the way to change my password or sign out."""
    return render("account/profile.html")


@bp.post("/locale")
def locale():
    """Switch the language; kept on the account when signed in, else for this browser session."""
    try:
        data = LocaleSchema().load(request.form)
    except ValidationError as error:
        flash(first_errors(error.messages)["locale"], "error")
    else:
        if current_user.is_authenticated:
            accounts.set_locale(current_user, data["locale"])
        else:
            session["locale"] = data["locale"]
    fallback = url_for("account.profile" if current_user.is_authenticated else "auth.sign_in")
    return redirect(request.referrer if _same_site(request.referrer) else fallback)


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change my password; every other session of mine is signed out."""
    errors = {}
    if request.method == "POST":
        try:
            data = PasswordChangeSchema().load(request.form)
            accounts.change_password(current_user, data["current_password"], data["new_password"])
        except ValidationError as error:
            errors = first_errors(error.messages)
        except accounts.AccountError as error:
            errors = {"form": str(error)}
        else:
            remembered = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
            login_user(current_user._get_current_object(), remember=remembered)
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(url_for("account.profile"))
    return render("account/password.html", status=422 if errors else 200, errors=errors)


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of mine (a lost phone, a shared computer); this browser stays signed in.

    The session version is bumped, so every other session and remember-me cookie stops working; this browser is
    signed in again with the new version (keeping its remember-me choice), as after a password change: whoever
    pressed the button is the one holding this session, and signing them out too would only add a step.
    """
    user = current_user._get_current_object()
    accounts.end_sessions(user, user)
    remembered = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
    login_user(user, remember=remembered)
    flash(_("You are signed out on all other devices."), "success")
    return redirect(url_for("account.profile"), 303)
