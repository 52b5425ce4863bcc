"""Notifications on my devices: turning Web Push on for this browser, my devices, what I want pushed, a test."""
from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.schemas import first_errors
from app.schemas.push import KINDS, PreferencesSchema, SubscriptionSchema
from app.services import push_devices, vapid
from app.views.rendering import render

bp = Blueprint("notification_settings", __name__, url_prefix="/account/notifications")


@bp.get("")
@login_required
def index():
    """This device's notifications, my other devices, and what I want pushed."""
    return render("notifications/settings.html", "notifications/_devices.html",
                  devices=push_devices.devices(current_user), preferences=push_devices.preferences(current_user),
                  kinds=KINDS, public_key=vapid.public_key_b64url())


@bp.post("/devices")
@login_required
def subscribe():
    """Store this browser's push subscription (JSON, as PushSubscription.toJSON() gives it)."""
    try:
        data = SubscriptionSchema().load(request.get_json(silent=True) or {})
        device = push_devices.subscribe(current_user, data, request.user_agent.string)
    except ValidationError as error:
        return jsonify(errors=first_errors(error.messages)), 422
    except push_devices.DeviceError as error:
        return jsonify(errors={error.field: str(error)}), 422
    return jsonify(id=device.id), 201


@bp.post("/devices/<int:device_id>/delete")
@login_required
def remove(device_id: int):
    """Stop pushing to one of my devices."""
    if not push_devices.remove(current_user, device_id):
        abort(404)
    flash(_("That device gets no more notifications."), "success")
    return redirect(url_for("notification_settings.index"), 303)


@bp.post("/preferences")
@login_required
def preferences():
    """Choose what is pushed to my devices (the inbox keeps everything)."""
    try:
        push_devices.save_preferences(current_user, PreferencesSchema().load(request.form))
    except ValidationError as error:
        flash(" ".join(first_errors(error.messages).values()), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("notification_settings.index"), 303)


@bp.post("/test")
@login_required
def test():
    """Send a test notification to every device of mine."""
    push_devices.send_test(current_user)
    if push_devices.devices(current_user):
        flash(_("A test notification is on its way to your devices; it arrives within a minute."), "success")
    else:
        flash(_("Turn notifications on for this device first; the test is in your inbox."), "info")
    return redirect(url_for("notification_settings.index"), 303)
