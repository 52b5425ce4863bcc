"""Content-Security-Policy violation reports: the policy names the endpoint; browsers' reports in both formats are
logged as one compact line and answered 204; oversized, malformed or foreign bodies are refused cleanly."""
import json
import logging

import pytest

from app.extensions import db

LEGACY = "application/csp-report"
REPORTING_API = "application/reports+json"


def legacy_report(**fields) -> bytes:
    return json.dumps({"csp-report": {
        "document-uri": "https://crm.example/leads/7", "blocked-uri": "https://evil.example/x.js",
        "violated-directive": "script-src-elem", "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'", **fields}}).encode()


def reporting_api_report() -> bytes:
    return json.dumps([
        {"type": "csp-violation", "age": 10, "url": "https://crm.example/today", "user_agent": "Firefox",
         "body": {"documentURL": "https://crm.example/today", "blockedURL": "inline",
                  "effectiveDirective": "style-src-attr", "disposition": "enforce"}},
        {"type": "deprecation", "body": {"id": "x"}},
    ]).encode()


def post(client, body: bytes, content_type: str = LEGACY):
    return client.post("/csp-report", data=body, content_type=content_type)


def test_the_policy_and_the_reporting_header_name_the_endpoint(client, world):
    headers = client.get("/signin").headers
    policy = headers["Content-Security-Policy"]
    assert "report-uri /csp-report" in policy and "report-to csp-endpoint" in policy
    assert headers["Reporting-Endpoints"] == 'csp-endpoint="/csp-report"'


def test_a_legacy_report_is_logged_in_one_line_without_csrf_or_sign_in(client, world, caplog):
    with caplog.at_level(logging.WARNING):
        response = post(client, legacy_report())
    assert response.status_code == 204 and response.get_data() == b""
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("csp violation")]
    assert lines == [("csp violation: blocked=https://evil.example/x.js directive=script-src-elem "
                      "document=https://crm.example/leads/7")]


def test_a_reporting_api_report_is_logged_per_violation(client, world, caplog):
    with caplog.at_level(logging.WARNING):
        response = post(client, reporting_api_report(), REPORTING_API)
    assert response.status_code == 204
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("csp violation")]
    assert lines == ["csp violation: blocked=inline directive=style-src-attr document=https://crm.example/today"]


def test_long_or_multi_line_values_are_truncated_to_one_line(client, world, caplog):
    with caplog.at_level(logging.WARNING):
        post(client, legacy_report(**{"blocked-uri": "https://evil.example/\n" + "a" * 5000}))
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("csp violation"))
    assert "\n" not in line and len(line) < 700


def test_a_report_over_16_kb_is_refused(client, world):
    body = legacy_report(**{"script-sample": "x" * (16 * 1024)})
    assert post(client, body).status_code == 413
    assert post(client, legacy_report(**{"script-sample": "x" * (15 * 1024)})).status_code == 204


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"a string"', b'{"other": 1}', b"\xff\xfe"])
def test_a_malformed_report_is_a_400_without_a_stack_trace(client, world, body):
    response = post(client, body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "JSONDecodeError" not in page


def test_other_content_types_are_refused(client, world):
    assert post(client, legacy_report(), "text/plain").status_code == 415


def test_reports_are_rate_limited_per_address(app, client, world):
    app.config["CSP_REPORT_RATE_LIMIT"] = "3 per minute"
    answers = [post(client, legacy_report()).status_code for _ in range(4)]
    assert answers == [204, 204, 204, 429]


def test_a_report_from_a_user_who_must_change_their_password_is_accepted(client, auth, world):
    world.one.consultant.must_change_password = True
    db.session.commit()
    auth.sign_in(world.one.consultant)
    assert post(client, legacy_report()).status_code == 204
