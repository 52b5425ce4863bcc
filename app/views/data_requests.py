"""A customer's requests about their personal data, answered by a manager or the brand's administrator: see
everything held about them (a page, or JSON to hand over), and erase them. Who may is visibility's decision."""
from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from app.labels import audit_action_label, audit_object_label
from app.schemas import first_errors
from app.schemas.data_requests import ErasureSchema
from app.services import customer_data, erasure, visibility
from app.views.exports import content_disposition
from app.views.rendering import render

bp = Blueprint("data_requests", __name__, url_prefix="/customers/<int:customer_id>")


@bp.get("/data")
@login_required
def show(customer_id: int):
    """Everything held about the customer, section by section, as the JSON download holds it; audited."""
    customer = visibility.get_customer_for_data_request(current_user, customer_id)
    data = customer_data.everything_about(customer, current_user)
    customer_data.record_export(current_user, customer, "page")
    return render("data_requests/data.html", customer=customer, data=data, sections=customer_data.SECTIONS,
                  field_label=customer_data.field_label,
                  code_labels={"action": audit_action_label, "object_type": audit_object_label})


@bp.get("/data.json")
@login_required
def download(customer_id: int):
    """The same as a JSON file to hand to the customer; audited."""
    customer = visibility.get_customer_for_data_request(current_user, customer_id)
    body = customer_data.as_json(customer_data.everything_about(customer, current_user))
    customer_data.record_export(current_user, customer, "json")
    response = Response(body, content_type="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = content_disposition(f"customer-{customer.id}-data.json")
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept in a cache
    return response


@bp.route("/erase", methods=["GET", "POST"])
@login_required
def erase(customer_id: int):
    """What erasing does, and the form that does it: a reason and a tick that it cannot be undone."""
    customer = visibility.get_customer_for_data_request(current_user, customer_id)
    if request.method == "POST" and customer.erased_at is not None:
        flash(_("This customer was erased already. Nothing changed."), "info")
        return redirect(url_for("leads.customer", customer_id=customer.id), 303)
    errors = {}
    if request.method == "POST":
        try:
            data = ErasureSchema().load(request.form)
            erased = erasure.erase(customer, current_user, data["reason"])
        except ValidationError as error:
            errors = first_errors(error.messages)
        except erasure.ErasureError as error:
            errors = {error.field: str(error)}
        else:
            flash(_("The customer's personal data was erased.") if erased
                  else _("This customer was erased already. Nothing changed."), "success" if erased else "info")
            return redirect(url_for("leads.customer", customer_id=customer.id), 303)
    return render("data_requests/erase.html", status=422 if errors else 200, customer=customer, errors=errors,
                  form=request.form, plan=erasure.plan(current_user, customer), erased_name=erasure.ERASED_NAME)
