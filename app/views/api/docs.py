"""The OpenAPI document of /api/v1, generated with apispec from the routes themselves: each view carries its
`operation` (summary, query and body schemas, answer schema, the problems it may answer) and the URL map gives the
paths, so the document cannot leave an endpoint out or describe one that does not exist."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify
from marshmallow import fields, validate

from app.schemas.api import MAX_ID, ProblemOut
from app.views.api.blueprint import bp

READ_PROBLEMS = (400, 401, 403, 404, 422, 429)
WRITE_PROBLEMS = READ_PROBLEMS + (409, 413, 415)
PROBLEM_TITLES = {400: "Bad request", 401: "Not signed in, or the API token is not valid",
                  403: "Not allowed for this user", 404: "Not found, or not yours to see",
                  409: "Conflict: the entry exists already, or is still being saved", 413: "Body too large",
                  415: "The body is not JSON", 422: "Fields that are not valid, or a change the rules refuse",
                  429: "Too many requests"}
DESCRIPTION = """The JSON API of Dealer Leads, for the phone's offline entry and for integrations.

Authenticate with a personal API token (`Authorization: Bearer dlk_…`; a manager issues one on the API tokens page)
or with the signed-in session, whose writes also send the CSRF token in `X-CSRFToken`. Errors are RFC 9457 problem
details. Writes accept an `Idempotency-Key` (a UUID): a replay gets the first answer back and creates nothing."""
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "description": "A UUID for this entry: a replay gets the first answer, never a second row.",
                   "schema": {"type": "string", "format": "uuid"}}


def operation(summary: str, *, answer: tuple[int, type], query=None, body=None, problems=READ_PROBLEMS):
    """Describe a view for the document.

    :param answer: (status, schema class) of a successful answer.
    :param query: the schema class of the query string; :param body: of the JSON body (writes).
    """
    def describe(view):
        view.operation = {"summary": summary, "description": (view.__doc__ or "").strip(), "answer": answer,
                          "query": query, "body": body, "problems": problems}
        return view
    return describe


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document (public: it describes shapes, never data)."""
    return jsonify(document())


def document() -> dict:
    """The OpenAPI 3.0 document of every operation of the blueprint."""
    plugin = MarshmallowPlugin()
    spec = APISpec(title="Dealer Leads API", version="1", openapi_version="3.0.3", plugins=[plugin],
                   info={"description": DESCRIPTION})
    plugin.converter.add_attribute_function(_narrowed_enum)
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    spec.components.schema("Problem", schema=ProblemOut)
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        view = current_app.view_functions[rule.endpoint]
        if rule.endpoint.startswith(f"{bp.name}.") and hasattr(view, "operation"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                paths.setdefault(path, {})[method.lower()] = _operation(rule, method, view.operation)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _narrowed_enum(_converter, field, **_kwargs) -> dict:
    """An enum field that accepts only some of its members (validate.OneOf) lists only those."""
    narrowing = [check for check in field.validators if isinstance(check, validate.OneOf)]
    if not isinstance(field, fields.Enum) or not narrowing:
        return {}
    return {"enum": [member.value for member in narrowing[0].choices]}


def _operation(rule, method: str, described: dict) -> dict:
    status, schema = described["answer"]
    parameters = [{"in": "path", "name": name, "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}} for name in sorted(rule.arguments)]
    if described["query"] is not None:
        parameters.append({"in": "query", "schema": described["query"]})
    operation = {
        "operationId": rule.endpoint.removeprefix(f"{bp.name}."),
        "summary": described["summary"],
        "description": described["description"],
        "security": [{"token": []}, {"session": []}],
        "parameters": parameters,
        "responses": {str(status): {"description": "OK", "content": {"application/json": {"schema": schema}}}},
    }
    if described["body"] is not None:
        parameters.append(IDEMPOTENCY_KEY)
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": described["body"]}}}
    for code in described["problems"]:
        operation["responses"][str(code)] = {"description": PROBLEM_TITLES[code], "content": {
            "application/problem+json": {"schema": "Problem"}}}
    return operation
