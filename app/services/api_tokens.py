"""Personal API tokens: an integration (a dealer's DMS bridge, a portal sync) calls /api/v1 as one user, with a
bearer token that a manager issued for someone at their dealer, or the brand's administrator for the brand's own
people (app.services.visibility.token_holders). The secret is shown once; only its SHA-256 is kept.

A token opens the API only while it is not revoked and its user is active, and it sees exactly what its user
sees (app.services.visibility), so a deactivated consultant's integration stops at once.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, User, utcnow
from app.services import audit

SCHEME = "dlk_"
PREFIX_LENGTH = 12  # "dlk_" and 8 random characters: enough to tell a user's tokens apart in a list
LAST_USED_EVERY = timedelta(minutes=1)  # "last used" is a rough time: not one write per request


def digest(secret: str) -> str:
    """The SHA-256 that identifies a secret (hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(actor: User, holder: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token acting as `holder`, named for what it is for; returns the token and its secret, the only
    time the secret exists outside the caller's hands. Audited, and committed."""
    secret = f"{SCHEME}{secrets.token_urlsafe(32)}"
    token = ApiToken(user_id=holder.id, name=name, token_hash=digest(secret), prefix=secret[:PREFIX_LENGTH],
                     created_by_id=actor.id)
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "api_token.issued", token, dealer_id=holder.dealer_id,
                 after={"user_id": holder.id, "name": name, "prefix": token.prefix})
    db.session.commit()
    return token, secret


def revoke(actor: User, token: ApiToken) -> None:
    """Revoke a token: its next request is refused. Revoking it again changes nothing."""
    if token.revoked_at is not None:
        return
    token.revoked_at, token.revoked_by_id = utcnow(), actor.id
    audit.record(actor, "api_token.revoked", token, dealer_id=token.user.dealer_id,
                 after={"user_id": token.user_id, "name": token.name, "prefix": token.prefix})
    db.session.commit()


def authenticate(secret: str) -> User | None:
    """The user a presented secret acts as, or None when it is unknown, revoked or its user is inactive. Notes the
    time of use, at most every LAST_USED_EVERY."""
    if not secret.startswith(SCHEME) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    user = token.user
    if not user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        token.last_used_at = now
        db.session.commit()
    return user
