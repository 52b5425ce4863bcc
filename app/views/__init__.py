"""Blueprints, one per area. Views stay thin: load input through a schema, call a service, render."""
from flask import Flask, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

# Endpoints a user whose password must be replaced may still reach.
_OPEN_DURING_PASSWORD_CHANGE = {"account.password", "auth.sign_out", "account.locale", "static",
                                "service_worker.script", "service_worker.manifest", "service_worker.session",
                                "csp_reports.report", "api.openapi"}


def init_app(app: Flask) -> None:
    from app.views import (
        account, api, api_tokens, appointments, assignments, audit, auth, cadence, contacts, csp_reports, dashboards,
        data_requests, dealers, desk, home, imports, inbox, lead_actions, leads, notification_settings, routing_rules,
        service_worker, team, today, walk_ins,
    )

    for module in (auth, account, home, today, leads, lead_actions, contacts, appointments, team, dealers,
                   walk_ins, inbox, desk, imports, routing_rules, assignments, notification_settings, service_worker,
                   cadence, dashboards, csp_reports, audit, api, api_tokens, data_requests):
        app.register_blueprint(module.bp)
    app.before_request(_require_password_change)


def _require_password_change():
    """A temporary password set by a manager must be replaced before anything else."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in _OPEN_DURING_PASSWORD_CHANGE):
        if request.blueprint == "api":  # a client cannot follow a redirect to a form
            abort(403, _("Replace your temporary password on the web first."))
        return redirect(url_for("account.password"))
    return None
