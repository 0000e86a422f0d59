"""Status codes and error bodies, operations endpoints, logging hygiene."""

import json
import logging
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from helpers import FORMS_WHSEC, SAMPLES, bridge_config, signed, standard_headers

from webhook_bridge import create_app

CALL = (SAMPLES / "telephony_generic.json").read_bytes()


def post_generic(client, body, msg_id="m1", **header_overrides):
    headers = {**standard_headers(body, msg_id), **header_overrides}
    return client.post("/webhooks/telephony/generic", data=body, headers=headers,
                       content_type="application/json")


def assert_error(response, status, error, field=None):
    assert response.status_code == status, response.json
    assert response.is_json and response.json["error"] == error
    assert response.json["message"] and response.json["request_id"]
    if field:
        assert response.json["field"] == field, response.json


def test_accepted_202_with_delivery_id(client):
    response = post_generic(client, CALL)
    assert response.status_code == 202
    assert response.json["status"] == "accepted" and response.json["delivery_id"] == 1
    assert response.headers["X-Request-Id"]


@pytest.mark.parametrize("change, field", [
    ({"webhook-signature": "v1,AAAA"}, "webhook-signature"),
    ({"webhook-signature": ""}, "webhook-signature"),
    ({"webhook-id": ""}, "webhook-id"),
    ({"webhook-timestamp": -400}, "webhook-timestamp"),
    ({"webhook-timestamp": 400}, "webhook-timestamp"),
])
def test_bad_signature_401(client, change, field):
    if isinstance(change.get("webhook-timestamp"), int):  # seconds from now, taken now
        change = {"webhook-timestamp": str(int(time.time()) + change["webhook-timestamp"])}
    assert_error(post_generic(client, CALL, **change), 401, "invalid_signature", field)


def test_rotated_secrets_both_valid(client):
    from helpers import OLD_WHSEC

    headers = standard_headers(CALL, "old", secret=OLD_WHSEC)
    response = client.post("/webhooks/telephony/generic", data=CALL, headers=headers,
                           content_type="application/json")
    assert response.status_code == 202


def test_provider_without_secret_is_refused(tmp_path):
    app = create_app(bridge_config(tmp_path, secrets={}))
    response = post_generic(app.test_client(), CALL)
    assert_error(response, 401, "invalid_signature")
    assert "no secret" in response.json["message"]


def test_malformed_json_400(client):
    assert_error(post_generic(client, b"{not json"), 400, "malformed_payload", "body")
    assert_error(post_generic(client, b"[1, 2]"), 400, "malformed_payload", "body")


@pytest.mark.parametrize("change, field", [
    ({"call_id": None}, "call_id"),
    ({"status": "exploded"}, "status"),
    ({"direction": "sideways"}, "direction"),
    ({"start": "yesterday-ish"}, "start"),
    ({"duration": "long"}, "duration"),
    ({"duration": -5}, "duration"),
    ({"duration": 2**31}, "duration"),
    ({"start": "1969-12-31T23:59:59Z"}, "start"),
    ({"end": "2999-01-01T00:00:00Z"}, "end"),
    ({"agent": "Li\u0000Lei"}, "agent"),
    ({"description": "bell \u0007"}, "description"),
    ({"subject": "x" * 257}, "subject"),
    ({"category": "c" * 65}, "category"),
    ({"amount_claimed": 1e13}, "amount_claimed"),
    ({"customer": {"address": "a" * 1025}}, "address"),
    ({"customer": {"email": "not-an-address"}}, "email"),
    ({"customer": "Li Lei"}, "customer"),
    ({"amount_claimed": "a lot"}, "amount_claimed"),
])
def test_invalid_field_422_names_it(client, change, field):
    body = json.dumps({**json.loads(CALL), **change}).encode()
    response = post_generic(client, body)
    assert_error(response, 422, "invalid_field", field)
    assert field in response.json["message"]


def test_provider_field_names_in_errors(client):
    body = b"CallSid=CA1&CallStatus=exploded"
    path, kw = signed("telephony", "twilio", body, "application/x-www-form-urlencoded")
    assert_error(client.post(path, **kw), 422, "invalid_field", "CallStatus")
    body = b'{"action": "NewCdr", "callid": "1", "status": "ANSWERED", "timestart": "never"}'
    path, kw = signed("telephony", "yeastar", body, "application/json")
    assert_error(client.post(path, **kw), 422, "invalid_field", "timestart")


def test_form_without_content_422(client):
    body = json.dumps({"name": "Li Lei"}).encode()
    response = client.post("/webhooks/forms/generic", data=body, content_type="application/json",
                           headers=standard_headers(body, "f1", secret=FORMS_WHSEC))
    assert_error(response, 422, "invalid_field", "description")


def test_too_large_413(tmp_path):
    client = create_app(bridge_config(tmp_path, max_body_bytes=1000)).test_client()
    body = json.dumps({**json.loads(CALL), "description": "x" * 2000}).encode()
    assert_error(post_generic(client, body), 413, "payload_too_large")


def test_unknown_provider_404(client):
    assert_error(client.post("/webhooks/telephony/skype", json={}), 404, "unknown_provider")
    assert_error(client.post("/webhooks/faxes/generic", json={}), 404, "unknown_provider")
    assert_error(client.post("/webhooks/forms/wufoo", json={}), 404, "unknown_provider")
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.get("/webhooks/telephony/generic"), 405, "method_not_allowed")


def test_healthz_readyz(client, fake_odoo):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"outbox": "ok", "odoo": "ok"}
    fake_odoo.stop()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["odoo"].startswith("unreachable")


def test_metrics(client):
    post_generic(client, CALL)
    post_generic(client, CALL)
    post_generic(client, CALL, **{"webhook-signature": "v1,AAAA"})
    response = client.get("/metrics")
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    values = {s.name: s.value for family in text_string_to_metric_families(text)
              for s in family.samples}
    assert values["bridge_webhooks_accepted_total"] == 1
    assert values["bridge_webhooks_duplicate_total"] == 1
    assert values["bridge_webhooks_rejected_total"] == 1
    assert values["bridge_outbox_queue_depth"] == 1
    assert values["bridge_outbox_oldest_item_age_seconds"] >= 0
    for name in ("delivered", "retried", "dead_lettered"):
        assert values[f"bridge_deliveries_{name}_total"] == 0
    assert "# TYPE bridge_webhooks_accepted_total counter" in text or \
        "# TYPE bridge_webhooks_accepted counter" in text


def test_openapi(client):
    doc = client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert {"/webhooks/telephony/{provider}", "/webhooks/forms/{provider}", "/healthz",
            "/readyz", "/metrics", "/openapi.json"} <= set(doc["paths"])
    params = doc["paths"]["/webhooks/forms/{provider}"]["post"]["parameters"]
    assert "feedbackhub" in params[0]["schema"]["enum"]


def test_logs_are_json_without_secrets_or_phone_numbers(client, caplog):
    from webhook_bridge.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger="webhook_bridge")
    post_generic(client, CALL, msg_id="logme")
    client.post("/webhooks/telephony/aircall", data=b'{"token": "aircall-token-x"}',
                content_type="application/json")
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    entries = [json.loads(line) for line in lines]
    accepted = next(e for e in entries if e["msg"] == "webhook accepted")
    assert accepted["caller"] == "***8000" and accepted["request_id"]
    text = "\n".join(lines)
    for secret in ("13800138000", "8613800138000", "aircall-token", "whsec_"):
        assert secret not in text


def test_log_formatter_masks_stray_numbers():
    from webhook_bridge.logs import JsonFormatter

    record = logging.LogRecord("webhook_bridge.x", logging.INFO, "", 0,
                               "call from +86 138 0013 8000 to 02161234567", (), None)
    record.api_key = "k"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "call from ***8000 to ***4567"
    assert entry["api_key"] == "[redacted]"
