"""The in-app inbox: every notification a user gets lands here, whether or not a push reaches their phone."""
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Notification, User, utcnow

PAGE = 50


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def latest(user: User) -> list[Notification]:
    """The user's newest notifications."""
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(PAGE)))


def open_notification(user: User, notification_id: int) -> Notification | None:
    """The user's own notification, marked read; None for anyone else's."""
    notification = db.session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user.id))
    if notification is not None and notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def mark_all_read(user: User) -> None:
    db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.commit()
