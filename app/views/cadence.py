"""Cadence policy screens: the brand's default and each region's override (the OEM administrator), and a dealer's
one settings page (its manager): lead handling, follow-up rhythm, working time, reminders, when to stop.
Rules: app.services.cadence_policies."""
from babel.dates import get_day_names
from flask import Blueprint, abort, flash, redirect, request
from flask_babel import get_locale, gettext as _, ngettext
from flask_login import current_user
from marshmallow import ValidationError

from app.models import AssignmentMode, Digest, Role
from app.schemas import first_errors
from app.schemas.cadence import DealerPolicySchema, PolicySchema
from app.services import cadence, cadence_policies
from app.views.access import roles_required
from app.views.rendering import render

bp = Blueprint("cadence", __name__, url_prefix="/cadence")
oem_admin_only = roles_required(Role.OEM_ADMIN)


@bp.route("", methods=["GET", "POST"])
@oem_admin_only
def brand():
    """The brand's default policy, and the regions that override it."""
    oem = cadence_policies.brand_of(current_user)
    return _level(oem, PolicySchema, regions=cadence_policies.overview(oem))


@bp.route("/regions/<int:region_id>", methods=["GET", "POST"])
@oem_admin_only
def region(region_id: int):
    """A region's override of the brand's default; another brand's region is a 404."""
    owner = cadence_policies.region_of(current_user, region_id)
    if owner is None:
        abort(404)
    return _level(owner, PolicySchema)


@bp.route("/dealer", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def dealer():
    """The manager's dealer's settings: how leads reach consultants, its time zone and its policy."""
    return _level(current_user.dealer, DealerPolicySchema, modes=list(AssignmentMode),
                  zones=sorted(zone for zone in cadence_policies.time_zones() if zone.startswith("Asia/")))


def _level(owner, schema, **context):
    """A level's form; a saved one goes back to the page with what changed (and moved), a refused one shows
    again with the messages (422) and what was typed."""
    errors = {}
    if request.method == "POST":
        try:
            data = schema().load(request.form)
            extras = (cadence_policies.DealerSettings(data["assignment_mode"], data["time_zone"])
                      if "time_zone" in data else None)
            changed = cadence_policies.save(current_user, owner, data["settings"], extras)
            moved = cadence_policies.reschedule(current_user, owner) if data["reschedule"] else None
        except ValidationError as error:
            errors = first_errors(error.messages)
        except cadence_policies.PolicyError as error:
            errors = error.errors
        else:
            flash(_saved(changed, moved), "success")
            return redirect(request.path, 303)
    days = get_day_names("abbreviated", locale=get_locale())
    return render("cadence/level.html", status=422 if errors else 200, owner=owner,
                  kind=cadence.owner_key(owner)[0], settings=cadence_policies.resolve(owner), errors=errors,
                  form=request.form if errors else None, weekdays=[(day + 1, days[day]) for day in range(7)],
                  no_digest=Digest.OFF, **context)


def _saved(changed: list[str], moved: int | None) -> str:
    """"Saved." (or "Nothing changed."), and how many open follow-ups moved when that was asked for."""
    message = _("Saved.") if changed else _("Nothing changed.")
    if moved is not None:
        message += " " + ngettext("%(num)d open follow-up moved to the new rhythm.",
                                  "%(num)d open follow-ups moved to the new rhythm.", moved)
    return message
