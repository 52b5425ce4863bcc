"""The JSON API under /api/v1: what the phone's offline entry and integrations (a dealer's DMS, a portal sync) use.

- Who calls: the signed-in session (its writes carry the CSRF token in X-CSRFToken, as the offline sync sends it),
  or `Authorization: Bearer <token>` with a personal API token (app.services.api_tokens): no cookie, no CSRF, no
  session is made. A request without either is a 401, never a redirect to the sign-in page.
- What they see: only through app.services.visibility, as on the pages; anything else is a 404.
- Errors: RFC 9457 problem details (application/problem+json) from app.errors, with `errors` by field on a 422.
- Writes accept an Idempotency-Key (app.views.idempotency), as the pages' offline entries do.
- The OpenAPI document, generated from the schemas in app.schemas.api, is at /api/v1/openapi.json.
"""
# The routes join the blueprint as their modules are imported.
from app.views.api import docs, lead_work, leads  # noqa: F401
from app.views.api.blueprint import bp  # noqa: F401
