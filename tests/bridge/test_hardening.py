"""Issue 15, item by item, as an outside client: inputs that once gave 500s, unsigned
bodies, cut bodies, cross-endpoint replays, vendor-library interoperability, limits."""

import base64
import hashlib
import io
import json
import time
from datetime import datetime, timezone

import pytest
from helpers import FORMS_WHSEC, NEW_WHSEC, SAMPLES, bridge_config, signed
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from webhook_bridge import create_app, logs, normalize
from webhook_bridge.config import Config

CALL = json.loads((SAMPLES / "telephony_generic.json").read_text())
FORM = "application/x-www-form-urlencoded"


def post(client, kind, provider, body, content_type="application/json", msg_id="m1"):
    path, kw = signed(kind, provider, body, content_type, msg_id=msg_id)
    return client.post(path, **kw)


def stored_count(outbox):
    return sum(outbox.stats()["states"].values())


# --- 1. no 500, and authentication before any parsing --------------------------------------

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("kind, provider, body", [
    ("telephony", "generic", '{"call_id": %s}' % DEEP),
    ("telephony", "yeastar", '{"action": "NewCdr", "msg": %s}' % json.dumps(DEEP)),
    ("telephony", "yeastar", '{"action": "NewCdr", "msg": %s}' % DEEP),
    ("telephony", "asterisk", '{"cdrs": %s}' % DEEP),
    ("forms", "typeform", '{"form_response": %s}' % DEEP),
    ("forms", "feedbackhub", '{"entry": %s}' % DEEP),
    ("forms", "generic", DEEP),
])
def test_deeply_nested_json_is_a_400(client, outbox_of, kind, provider, body):
    response = post(client, kind, provider, body.encode())
    assert response.status_code == 400, response.json
    assert response.json["error"] == "malformed_payload"
    assert response.json["field"] in ("body", "msg")
    assert stored_count(outbox_of) == 0


def test_aircall_unparseable_body_is_unauthenticated(client):
    """Aircall's token is in the body: a body that does not parse carries no token (401)."""
    for body in (DEEP, '{"token": "aircall-token", "x": %s}' % DEEP, "{not json", "[]"):
        response = client.post("/webhooks/telephony/aircall", data=body,
                               content_type="application/json")
        assert response.status_code == 401, response.json


def test_lone_surrogate_token_is_a_401(client):
    body = b'{"event": "call.ended", "token": "\\ud800", "data": {}}'
    response = client.post("/webhooks/telephony/aircall", data=body,
                           content_type="application/json")
    assert response.status_code == 401 and response.json["field"] == "token"


def test_surrogates_and_control_characters_in_values_are_422(client, outbox_of):
    for value, reason in (("\ud800", "Unicode"), ("a\x00b", "control character"),
                          ("bell\x07", "control character")):
        body = json.dumps({**CALL, "agent": value}).encode()
        response = post(client, "telephony", "generic", body)
        assert response.status_code == 422 and response.json["field"] == "agent"
        assert reason in response.json["message"]
    assert stored_count(outbox_of) == 0


def test_non_finite_numbers_are_422(client):
    for key, value in (("duration", "NaN"), ("duration", "Infinity"), ("billsec", "-1"),
                       ("duration", "1e10")):
        body = json.dumps(CALL)[:-1] + f', "{key}": {value}}}'
        response = post(client, "telephony", "generic", body.encode())
        assert response.status_code == 422 and response.json["field"] == key, response.json
    body = json.dumps({**CALL, "amount_claimed": 1})[:-1] + ', "amount_claimed": NaN}'
    response = post(client, "telephony", "generic", body.encode())
    assert response.status_code == 422 and response.json["field"] == "amount_claimed"


def test_typeform_list_as_field_id_is_a_422(client):
    data = json.loads((SAMPLES / "typeform_form_response.json").read_text())
    data["form_response"]["answers"][0]["field"]["id"] = ["a", "list"]
    response = post(client, "forms", "typeform", json.dumps(data).encode())
    assert response.status_code == 422, response.json
    assert response.json["field"].startswith("form_response.answers.field")


def test_number_where_a_mapped_description_is_expected(client, outbox_of):
    body = json.dumps({"entry": {"id": "FH-9"}, "message": "The box was wet.",
                       "feedback": {"text": 42}}).encode()
    response = post(client, "forms", "feedbackhub", body)
    assert response.status_code == 202, response.json
    payload = outbox_of.get(response.json["delivery_id"]).payload
    assert payload["description"] in ("The box was wet.\n42", "42\nThe box was wet.")


def test_unsigned_requests_are_401_whatever_the_body(client):
    """Authentication never depends on parsing the body: garbage unsigned is a 401."""
    for kind, provider in (("telephony", "generic"), ("telephony", "twilio"),
                           ("telephony", "asterisk"), ("telephony", "yeastar"),
                           ("forms", "generic"), ("forms", "typeform"), ("forms", "jotform"),
                           ("forms", "feedbackhub")):
        for body, ctype in ((DEEP, "application/json"), (b"\xff\xfe", "text/csv"),
                            (b"--x\r\n", "multipart/form-data; boundary=x"), (b"a=%ff", FORM)):
            response = client.post(f"/webhooks/{kind}/{provider}", data=body,
                                   content_type=ctype)
            assert response.status_code == 401, (kind, provider, body[:20], response.json)


# --- 2. bodies whole or 413; signatures cover the body; bound to their endpoint ------------

def chunked_post(app, path, body, headers=None, content_type="application/json"):
    """A chunked request as a WSGI server hands it over (no Content-Length)."""
    client = app.test_client()
    return client.post(path, input_stream=io.BytesIO(body), content_type=content_type,
                       headers={**(headers or {}), "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_chunked_body_over_the_limit_is_413_and_not_cut(tmp_path):
    app = create_app(bridge_config(tmp_path, max_body_bytes=1000))
    box = app.extensions["bridge"].outbox
    row = b"uniqueid,linkedid,src,dst,start,end,duration,disposition\n"
    row += b"1715675400.1,1715675400.1,13800138000,600,2024-05-14 16:30:00,"
    row += b"2024-05-14 16:31:10,70,ANSWERED\n"
    over = row + b"#" * (1001 - len(row))
    assert len(over) == 1001
    headers = {"X-Bridge-Token": "asterisk-token"}
    response = chunked_post(app, "/webhooks/telephony/asterisk", over, headers, "text/csv")
    assert response.status_code == 413, response.json
    assert "1000 bytes" in response.json["message"]
    assert stored_count(box) == 0
    response = chunked_post(app, "/webhooks/telephony/asterisk", row, headers, "text/csv")
    assert response.status_code == 202, response.json
    stored = box.get(response.json["delivery_id"]).payload
    assert stored["call"]["status"] == "completed" and stored["call"]["duration"] == 70


def test_chunked_body_within_the_limit_is_read_whole(tmp_path):
    app = create_app(bridge_config(tmp_path, max_body_bytes=4000))
    body = json.dumps({**CALL, "description": "d" * 3000}).encode()
    path, kw = signed("telephony", "generic", body, "application/json")
    response = chunked_post(app, path, body, kw["headers"])
    assert response.status_code == 202, response.json
    payload = app.extensions["bridge"].outbox.get(response.json["delivery_id"]).payload
    assert payload["description"] == "d" * 3000


def test_413_messages_say_which_limit(tmp_path):
    app = create_app(bridge_config(tmp_path, max_body_bytes=2000, max_form_parts=3))
    client = app.test_client()
    body = json.dumps({**CALL, "description": "d" * 2000}).encode()
    response = post(client, "telephony", "generic", body)
    assert response.status_code == 413
    assert f"{len(body)} bytes is larger than 2000 bytes" in response.json["message"]
    parts = "".join(f'--b\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'
                    for i in range(5)) + "--b--\r\n"
    response = post(client, "forms", "generic", parts.encode(),
                    "multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert response.json["message"] == "the form has more than 3 parts"


def test_twilio_json_without_body_hash_is_refused(client, outbox_of):
    """Signed over the URL only, the body would be anybody's: refused."""
    body = json.dumps({"CallSid": "CA1", "CallStatus": "completed"}).encode()
    url = "http://localhost/webhooks/telephony/twilio"
    signature = RequestValidator("twilio-token").compute_signature(url, {})
    response = client.post("/webhooks/telephony/twilio", data=body,
                           content_type="application/json",
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 401 and response.json["field"] == "bodySHA256"
    response = client.post("/webhooks/telephony/twilio", data=body, content_type="text/plain",
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 401
    assert stored_count(outbox_of) == 0


def test_signed_for_one_endpoint_refused_at_another(client, outbox_of):
    body = json.dumps({**CALL, "subject": "replayed"}).encode()
    path, kw = signed("telephony", "generic", body, "application/json", msg_id="r1")
    assert client.post(path, **kw).status_code == 202
    for other in ("/webhooks/forms/generic", "/webhooks/forms/feedbackhub",
                  "/webhooks/telephony/asterisk"):
        response = client.post(other, **kw)
        assert response.status_code == 401, (other, response.json)
    path, kw = signed("telephony", "asterisk", b'{"uniqueid": "1"}', "application/json")
    for other in ("/webhooks/telephony/yeastar", "/webhooks/forms/jotform"):
        assert client.post(other, **kw).status_code == 401
    assert stored_count(outbox_of) == 1


@pytest.mark.parametrize("secrets, message", [
    ({"generic": [NEW_WHSEC]}, "telephony/generic and forms/generic"),
    ({"asterisk": ["same"], "yeastar": ["same"]}, "telephony/asterisk and telephony/yeastar"),
    ({"typeform": ["s"], "forms/generic": ["s"]}, "forms/generic and forms/typeform"),
])
def test_a_secret_shared_by_two_endpoints_is_refused(tmp_path, secrets, message):
    with pytest.raises(ValueError, match=message):
        create_app(bridge_config(tmp_path, secrets=secrets))


# --- 3. interoperability with the vendors' official libraries ------------------------------

def twilio_form_post(client, pairs, algorithm, token="twilio-token"):
    url = "http://localhost/webhooks/telephony/twilio"
    signature = RequestValidator(token).compute_signature(url, MultiDict(pairs), algorithm)
    headers = {"X-Twilio-Signature": signature}
    if algorithm == "HMAC_SHA256":
        headers["X-Twilio-Webhooks-Signature-Settings"] = "key=KS1,algorithm=HMAC_SHA256"
    from urllib.parse import urlencode

    return client.post("/webhooks/telephony/twilio", data=urlencode(pairs),
                       content_type=FORM, headers=headers)


@pytest.mark.parametrize("algorithm", ["HMAC_SHA1", "HMAC_SHA256"])
def test_twilio_library_signatures_with_repeated_parameters(client, outbox_of, algorithm):
    pairs = [("CallSid", f"CA{algorithm}"), ("CallStatus", "completed"),
             ("From", "+8613800138000"), ("To", "+862161234567"),
             ("StirVerstat", "TN-Validation-Passed-A"), ("StirVerstat", "Other")]
    response = twilio_form_post(client, pairs, algorithm)
    assert response.status_code == 202, response.json
    tampered = pairs[:-1] + [("StirVerstat", "Changed")]
    signature_of_pairs = twilio_form_post(client, pairs, algorithm).status_code
    assert signature_of_pairs == 200  # the same event again: a duplicate, not a refusal
    url = "http://localhost/webhooks/telephony/twilio"
    signature = RequestValidator("twilio-token").compute_signature(url, MultiDict(pairs),
                                                                   algorithm)
    from urllib.parse import urlencode

    headers = {"X-Twilio-Signature": signature}
    if algorithm == "HMAC_SHA256":
        headers["X-Twilio-Webhooks-Signature-Settings"] = "key=KS1,algorithm=HMAC_SHA256"
    response = client.post("/webhooks/telephony/twilio", data=urlencode(tampered),
                           content_type=FORM, headers=headers)
    assert response.status_code == 401


def test_twilio_sha256_signature_needs_its_settings_header(client):
    """An HMAC-SHA256 signature sent without saying so is checked as SHA-1, and refused."""
    pairs = [("CallSid", "CAx"), ("CallStatus", "completed")]
    url = "http://localhost/webhooks/telephony/twilio"
    signature = RequestValidator("twilio-token").compute_signature(url, MultiDict(pairs),
                                                                   "HMAC_SHA256")
    from urllib.parse import urlencode

    response = client.post("/webhooks/telephony/twilio", data=urlencode(pairs),
                           content_type=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 401


def test_twilio_library_json_body(client, outbox_of):
    body = json.dumps({"CallSid": "CAjson", "CallStatus": "ringing", "From": "+8613800138000",
                       "To": "+862161234567"}).encode()
    validator = RequestValidator("twilio-token")
    path = "/webhooks/telephony/twilio?bodySHA256=" + validator.compute_hash(body.decode())
    signature = validator.compute_signature("http://localhost" + path, {})
    assert validator.validate("http://localhost" + path, body.decode(), signature)
    response = client.post(path, data=body, content_type="application/json",
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 202, response.json
    response = client.post(path, data=body.replace(b"ringing", b"completed"),
                           content_type="application/json",
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 401


def standard_post(client, secret, path="/webhooks/telephony/generic", msg_id="sw1"):
    body = json.dumps({**CALL, "call_id": msg_id}).encode()
    ts = int(time.time())
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, timezone.utc), body)
    return client.post(path, data=body, content_type="application/json",
                       headers={"webhook-id": msg_id, "webhook-timestamp": str(ts),
                                "webhook-signature": signature})


@pytest.mark.parametrize("secret", [
    "whsec_" + base64.b64encode(b"unpadded-secret-0").decode().rstrip("="),  # unpadded
    base64.b64encode(b"no-prefix-secret-0123").decode(),  # without whsec_
    base64.b64encode(b"no-prefix-unpadded-0").decode().rstrip("="),
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # the Standard Webhooks documentation's
])
def test_standard_webhooks_secrets_as_the_library_reads_them(tmp_path, secret):
    secrets = {"telephony/generic": [secret], "forms/generic": [FORMS_WHSEC]}
    Config.from_dict(bridge_config(tmp_path, secrets=secrets))  # accepted by the config
    client = create_app(bridge_config(tmp_path, secrets=secrets)).test_client()
    response = standard_post(client, secret)
    assert response.status_code == 202, response.json
    # and the library verifies what the bridge would sign
    from webhook_bridge.signatures import standard_sign

    ts = int(time.time())
    Webhook(secret).verify(b"{}", {"webhook-id": "x", "webhook-timestamp": str(ts),
                                   "webhook-signature": standard_sign(secret, "x", ts, b"{}")})


def test_whsec_secret_that_is_not_base64_is_refused_by_the_config(tmp_path):
    with pytest.raises(ValueError, match="base64"):
        Config.from_dict(bridge_config(tmp_path, secrets={"telephony/generic": ["whsec_a"],
                                                          "forms/generic": [FORMS_WHSEC]}))


# --- 5. limits agree; long calls accepted --------------------------------------------------

def test_asterisk_call_with_many_legs_is_accepted(client, outbox_of):
    legs = [{"uniqueid": f"1715675400.{100 + i}", "linkedid": "1715675400.100",
             "src": "13800138000", "dst": f"{600 + i}", "start": "2024-05-14 16:30:00",
             "answer": "2024-05-14 16:30:05" if i == 39 else "",
             "end": "2024-05-14 16:31:10", "duration": 70, "billsec": 65 if i == 39 else 0,
             "disposition": "ANSWERED" if i == 39 else "NO ANSWER",
             "dstchannel": "PJSIP/1001-0000002a"} for i in range(40)]
    response = post(client, "telephony", "asterisk", json.dumps({"cdrs": legs}).encode())
    assert response.status_code == 202, response.json
    item = outbox_of.get(response.json["delivery_id"])
    assert len(item.event_id) <= 256
    assert item.payload["call"]["status"] == "completed"
    again = post(client, "telephony", "asterisk", json.dumps({"cdrs": legs[::-1]}).encode())
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    fewer = post(client, "telephony", "asterisk", json.dumps({"cdrs": legs[:39]}).encode())
    assert fewer.status_code == 202  # another set of legs: another event


@pytest.mark.parametrize("length", [255, 256, 257, 400, 500, 1000])
def test_long_webhook_ids_are_accepted_alike_everywhere(client, outbox_of, length):
    msg_id = "w" * length
    response = post(client, "telephony", "generic", json.dumps(CALL).encode(), msg_id=msg_id)
    assert response.status_code == 202, response.json
    body = json.dumps({"name": "Li Lei", "description": "broken"}).encode()
    response = post(client, "forms", "generic", body, msg_id=msg_id)
    assert response.status_code == 202, response.json
    item = outbox_of.get(response.json["delivery_id"])
    assert len(item.event_id) <= 256 and len(item.payload["external_ref"]) <= 256
    again = post(client, "forms", "generic", body, msg_id=msg_id)
    assert again.json["status"] == "duplicate"


def test_bridge_limits_agree_with_odoo_intake():
    """The limits in normalize.LIMITS are the ones Odoo's intake reads with."""
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "odoo_addons" / "complaint_handling" /
              "models" / "complaint_case_intake.py").read_text()
    for field, odoo_call in [("name", '"customer.name", 256'), ("phone", '"customer.phone", 64'),
                             ("email", '"customer.email", 256'),
                             ("address", '"customer.address", 1024'),
                             ("order_ref", '"order_ref", max_length=64'),
                             ("category", '"category", max_length=64'),
                             ("subject", '"subject", max_length=256'),
                             ("agent", '"call.agent", 256'),
                             ("recording_url", '"call.recording_url", 2048'),
                             ("mimetype", '"mimetype", f"{path}.mimetype", 128')]:
        assert odoo_call in source, field
        assert str(normalize.LIMITS[field]) in odoo_call, field
    assert '"external_ref", max_length=256' in source and normalize.MAX_REF == 256
    assert '"call.call_id", 256' in source
    assert "MAX_INTEGER = 2**31 - 1" in source and normalize.MAX_INTEGER == 2**31 - 1
    assert normalize.CONTROL_CHARACTERS.pattern in source


# --- 6. codes validated by Odoo, not by the bridge -----------------------------------------

def test_a_category_added_in_odoo_passes_through(client, outbox_of):
    body = json.dumps({"name": "Li Lei", "description": "late", "category": "Warranty Claim",
                       "channel": "walk_in", "urgency": "important",
                       "expectation": "discount"}).encode()
    response = post(client, "forms", "generic", body, msg_id="cat1")
    assert response.status_code == 202, response.json
    payload = outbox_of.get(response.json["delivery_id"]).payload
    assert payload["category"] == "warranty_claim"
    assert payload["channel"] == "walk_in" and payload["urgency"] == "important"
    assert payload["expectation"] == "price_reduction"


# --- details: rejections cost no disk write each; masking only of phones ------------------

def test_rejections_are_counted_without_a_write_each(client, outbox_of):
    writes = []
    original = outbox_of.transaction

    def counting(*args, **kwargs):
        writes.append(1)
        return original(*args, **kwargs)

    outbox_of.transaction = counting
    state = client.application.extensions["bridge"]
    for _ in range(50):
        response = client.post("/webhooks/telephony/generic", data=b"{}",
                               content_type="application/json",
                               headers={"webhook-signature": "v1,AAAA"})
        assert response.status_code == 401
    assert writes == [] and state.rejections.pending == 50
    state.rejections.flush()
    assert len(writes) == 1 and state.rejections.pending == 0
    assert outbox_of.stats()["counters"]["rejected"] == 50


def test_masking_only_phone_like_values():
    logs.REGION["code"] = "CN"
    assert logs.scrub("call 1715675400 took 70 s, delivery 12345678") == \
        "call 1715675400 took 70 s, delivery 12345678"
    assert logs.scrub("from +86 138 0013 8000") == "from ***8000"
    assert logs.scrub("caller 13800138000") == "caller ***8000"
    assert normalize.mask_phone("anonymous") == "anonymous"
    assert normalize.mask_phone("1001") == "1001"
    assert normalize.mask_phone("+8613800138000") == "***8000"


def test_metrics_show_what_the_outbox_reports(client, outbox_of):
    """New outbox statistics (counters and numbers) appear in /metrics as they are."""
    original = outbox_of.stats

    def stats(now=None):
        data = original(now)
        data["counters"]["lease_takeovers"] = 3
        data["counters"]["future_counter"] = 4
        data["retrying"] = 2
        data["future_gauge"] = 5
        return data

    outbox_of.stats = stats
    text = client.get("/metrics").get_data(as_text=True)
    assert "bridge_deliveries_lease_takeovers_total 3.0" in text
    assert "bridge_outbox_future_counter_total 4.0" in text
    assert "bridge_outbox_retrying 2.0" in text
    assert "bridge_outbox_future_gauge 5.0" in text


def test_body_hash_helper_is_sha256_hex():
    assert RequestValidator("t").compute_hash("{}") == hashlib.sha256(b"{}").hexdigest()
