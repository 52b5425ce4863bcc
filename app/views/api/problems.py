"""Reading requests and answering them for /api/v1: bodies and query strings through the schemas, answers dumped
through them, refusals as problems (app.errors renders them as RFC 9457 problem details)."""
from typing import NoReturn

from flask import abort, jsonify, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import default_exceptions

from app.models import Lead
from app.schemas.api import MAX_ID
from app.services import visibility


def problem(status: int, detail, **members) -> NoReturn:
    """Refuse with a problem of this status; `members` join the problem details (errors, lead_id)."""
    error = default_exceptions[status](description=str(detail))
    error.problem = members
    raise error


def invalid(errors: dict) -> NoReturn:
    """A 422 naming what is wrong with each field (nested fields as "booking.starts_at")."""
    problem(422, _("Some fields are not valid."), errors=_flat(errors))


def _flat(messages: dict, prefix: str = "") -> dict[str, str]:
    flat = {}
    for field, message in messages.items():
        name = f"{prefix}{field}"
        if isinstance(message, dict):
            flat.update(_flat(message, f"{name}."))
        else:
            flat[name] = str(message[0] if isinstance(message, list) else message)
    return flat


def load_body(schema: Schema) -> dict:
    """The JSON body loaded through the schema.

    :raise UnsupportedMediaType: for a body that is not JSON. :raise BadRequest: for JSON that does not parse.
    :raise UnprocessableEntity: for a body that is not an object, or fields that are not valid.
    """
    if not request.is_json:
        abort(415, _("Send the body as JSON, with Content-Type: application/json."))
    body = request.get_json(silent=True)
    if body is None:
        abort(400, _("The body is not valid JSON."))
    if not isinstance(body, dict):
        invalid({"_schema": [_("Send a JSON object.")]})
    try:
        return schema.load(body)
    except ValidationError as error:
        invalid(error.messages)


def load_query(schema: Schema) -> dict:
    """The query string loaded through the schema. :raise UnprocessableEntity: for parameters that are not valid."""
    try:
        return schema.load(request.args)
    except ValidationError as error:
        invalid(error.messages)


def answer(schema: Schema, obj, status: int = 200, **headers):
    """`obj` dumped through the schema, as JSON."""
    response = jsonify(schema.dump(obj))
    response.status_code = status
    response.headers.update(headers)
    return response


def lead(user, lead_id: int, *, to_work: bool = False) -> Lead:
    """A lead the user may see (to_work: may change, else 403); 404 otherwise, also for ids no row can have."""
    if lead_id > MAX_ID:
        abort(404)
    if to_work:
        return visibility.get_lead_to_work(user, lead_id)
    return visibility.get_lead(user, lead_id)
