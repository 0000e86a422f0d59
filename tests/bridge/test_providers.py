"""Every provider's sample payload maps to the expected canonical intake payload."""

import json

import pytest
from helpers import SAMPLES, cases, load_case, signed

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_sample_maps_to_canonical_payload(client, outbox_of, case):
    path, kwargs = signed(case["kind"], case["provider"], load_case(case),
                          case["content_type"], msg_id="msg_" + case["name"])
    response = client.post(path, **kwargs)
    assert response.status_code == 202, response.json
    expected = json.loads((SAMPLES / f"{case['name']}.expected.json").read_text())
    stored = [outbox_of.get(d["delivery_id"]) for d in response.json["deliveries"]]
    assert [{"event_id": i.event_id, "payload": i.payload} for i in stored] == expected
    assert response.json["delivery_id"] == stored[0].id
    # the same delivery again is answered 200 with the same ids and queues nothing
    again = client.post(path, **signed(case["kind"], case["provider"], load_case(case),
                                       case["content_type"], msg_id="msg_" + case["name"])[1])
    assert again.status_code == 200, again.json
    assert again.json["status"] == "duplicate"
    assert [d["delivery_id"] for d in again.json["deliveries"]] == [i.id for i in stored]
    assert len(outbox_of.list("pending")) == len(stored)


def test_generic_form_multipart_with_files(client, outbox_of):
    import io

    from helpers import FORMS_WHSEC, standard_headers
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    fields = {"name": "Li Lei", "phone": "13800138000", "description": "Scratched table",
              "category": "Product quality",
              "photo": FileStorage(io.BytesIO(b"\x89PNG fake"), "table.png",
                                   content_type="image/png")}
    boundary, body = encode_multipart(fields)
    content_type = f"multipart/form-data; boundary={boundary}"
    response = client.post("/webhooks/forms/generic", data=body, content_type=content_type,
                           headers=standard_headers(body, "msg_multipart", secret=FORMS_WHSEC))
    assert response.status_code == 202, response.json
    payload = outbox_of.get(response.json["delivery_id"]).payload
    assert payload["external_ref"] == "msg_multipart"
    assert payload["customer"] == {"name": "Li Lei", "phone": "+8613800138000"}
    assert payload["category"] == "product_quality"
    assert payload["attachments"] == [{"name": "table.png", "mimetype": "image/png",
                                       "data": "iVBORyBmYWtl"}]


def test_generic_form_urlencoded(client, outbox_of):
    from helpers import FORMS_WHSEC, standard_headers

    body = b"name=Wang&email=wang%40example.com&subject=Late+delivery&urgency=general"
    response = client.post("/webhooks/forms/generic", data=body,
                           content_type="application/x-www-form-urlencoded",
                           headers=standard_headers(body, "msg_urlenc", secret=FORMS_WHSEC))
    assert response.status_code == 202, response.json
    payload = outbox_of.get(response.json["delivery_id"]).payload
    assert payload["subject"] == "Late delivery" and payload["urgency"] == "general"
    assert payload["customer"] == {"name": "Wang", "email": "wang@example.com"}


def test_twilio_status_sequence_is_one_item_per_status(client, outbox_of):
    """ringing, in-progress and completed for one CallSid are three events, one call."""
    base = "CallSid=CAseq&From=%2B8613800138000&To=%2B862161234567&Direction=inbound"
    ids = set()
    for status in ("ringing", "in-progress", "completed"):
        body = f"{base}&CallStatus={status}".encode()
        path, kw = signed("telephony", "twilio", body, "application/x-www-form-urlencoded")
        response = client.post(path, **kw)
        assert response.status_code == 202
        ids.add(response.json["delivery_id"])
    items = outbox_of.list("pending")
    assert len(ids) == 3 and {i.external_ref for i in items} == {"CAseq"}
    assert [i.payload["call"]["status"] for i in items] == ["ringing", "in_progress",
                                                            "completed"]


def test_twilio_behind_proxy(tmp_path, fake_odoo):
    """The signature covers the public URL: X-Forwarded-* (trusted) or the configured base."""
    from helpers import bridge_config

    from webhook_bridge import create_app
    from webhook_bridge.signatures import twilio_sign

    body = b"CallSid=CAproxy&CallStatus=completed&From=%2B8613800138000"
    params = [("CallSid", "CAproxy"), ("CallStatus", "completed"), ("From", "+8613800138000")]
    public = "https://bridge.example.com/hooks/webhooks/telephony/twilio?tenant=7"
    headers = {"X-Twilio-Signature": twilio_sign("twilio-token", public, params),
               "X-Forwarded-Proto": "https", "X-Forwarded-Host": "bridge.example.com",
               "X-Forwarded-Prefix": "/hooks"}
    kw = dict(data=body, content_type="application/x-www-form-urlencoded", headers=headers)
    path = "/webhooks/telephony/twilio?tenant=7"
    untrusted = create_app(bridge_config(tmp_path / "a")).test_client()
    assert untrusted.post(path, **kw).status_code == 401
    proxied = create_app(bridge_config(tmp_path / "b", trust_proxy=True)).test_client()
    assert proxied.post(path, **kw).status_code == 202
    configured = create_app(bridge_config(
        tmp_path / "c", public_base_url="https://bridge.example.com/hooks/")).test_client()
    assert configured.post(path, data=body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": headers["X-Twilio-Signature"]}
                           ).status_code == 202


def test_aircall_unanswered_and_ignored_events(client, outbox_of):
    data = json.loads((SAMPLES / "aircall_call_ended.json").read_text())
    data["data"]["answered_at"] = None
    data["data"]["id"] = 99
    response = client.post("/webhooks/telephony/aircall", json=data)
    assert response.status_code == 202
    assert outbox_of.get(response.json["delivery_id"]).payload["call"]["status"] == "no_answer"
    response = client.post("/webhooks/telephony/aircall",
                           json={"event": "contact.created", "token": "aircall-token"})
    assert response.status_code == 200 and response.json["status"] == "ignored"
    response = client.post("/webhooks/telephony/aircall", json={**data, "token": "wrong"})
    assert response.status_code == 401


def test_jotform_token_in_query(client):
    case = next(c for c in CASES if c["provider"] == "jotform")
    fields = json.loads(load_case(case))
    assert client.post("/webhooks/forms/jotform?token=jotform-token", data=fields,
                       content_type="multipart/form-data").status_code == 202
    assert client.post("/webhooks/forms/jotform?token=nope", data=fields,
                       content_type="multipart/form-data").status_code == 401
