"""API tokens for /api/v1: a manager issues them for the people of their dealer, the brand's administrator for the
brand's own people; the secret shows once; revoking takes effect on the token's next request."""
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.extensions import db
from app.models import ApiToken, Role, User
from app.schemas import first_errors
from app.schemas.api_tokens import NewApiTokenSchema
from app.services import api_tokens, visibility
from app.views.access import roles_required
from app.views.rendering import render

bp = Blueprint("api_tokens", __name__, url_prefix="/api-tokens")
token_keepers = roles_required(Role.MANAGER, Role.OEM_ADMIN)


@bp.get("")
@token_keepers
def index():
    """The tokens I look after, newest first, and the form to issue one."""
    return _page({}, {})


@bp.post("")
@token_keepers
def issue():
    """Issue a token for someone I look after; its secret is shown this once."""
    try:
        data = NewApiTokenSchema().load(request.form)
    except ValidationError as error:
        return _page(first_errors(error.messages), request.form, 422)
    holder = visibility.get_token_holder(current_user, data["user_id"])
    token, secret = api_tokens.issue(current_user, holder, data["name"])
    return render("api_tokens/issued.html", token=token, secret=secret)


@bp.post("/<int:token_id>/revoke")
@token_keepers
def revoke(token_id: int):
    """Revoke a token: the integration using it is refused from its next request on."""
    token = visibility.get_api_token(current_user, token_id)
    api_tokens.revoke(current_user, token)
    flash(_("Token %(name)s is revoked.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"), 303)


def _page(errors: dict, form, status: int = 200):
    tokens = db.session.scalars(visibility.visible_api_tokens(current_user)
                                .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc()))
    holders = db.session.scalars(visibility.token_holders(current_user).where(User.active.is_(True))
                                 .order_by(User.name, User.id))
    return render("api_tokens/index.html", status=status, tokens=list(tokens), holders=list(holders),
                  errors=errors, form=form)
