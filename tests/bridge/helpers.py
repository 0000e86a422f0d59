"""Shared test helpers: the test configuration and correctly signed requests per provider."""

import base64
import hashlib
import json
import time
from pathlib import Path
from urllib.parse import parse_qsl

from webhook_bridge import signatures

SAMPLES = Path(__file__).parent / "samples"
OLD_WHSEC = "whsec_" + base64.b64encode(b"old-generic-secret-0123456789abc").decode()
NEW_WHSEC = "whsec_" + base64.b64encode(b"new-generic-secret-0123456789abc").decode()
FORMS_WHSEC = "whsec_" + base64.b64encode(b"forms-generic-secret-0123456789a").decode()
TOKEN_PROVIDERS = ("asterisk", "yeastar", "jotform", "feedbackhub")
# One secret per endpoint: the bridge refuses a secret shared by two endpoints.
SECRETS = {
    "telephony/generic": [OLD_WHSEC, NEW_WHSEC],
    "forms/generic": [FORMS_WHSEC],
    "twilio": ["twilio-token-old", "twilio-token"],
    "aircall": ["aircall-token"],
    "typeform": ["typeform-secret"],
    **{p: [f"{p}-token"] for p in TOKEN_PROVIDERS},
    "wechat": ["wechat-token-old", "wechat-token"],
    "zendesk": ["zendesk-secret"],
    "freshdesk": ["freshdesk-token"],
}
# WeChat's documented sample EncodingAESKey (43 characters) and an AppID.
WECHAT = {"app_id": "wx5823bf96d3bd56c7",
          "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
FORMS = {
    "typeform": {
        "field_map": {"customer_phone": "phone", "customer_email": "email",
                      "complaint_text": "description", "urgency_choice": "urgency",
                      "wants": "expectation"},
        "value_map": {"urgency": {"Very urgent": "urgent"}, "expectation": {"A refund": "refund"}},
    },
    "jotform": {"field_map": {"typeA": "category"}},
    "feedbackhub": {
        "signature": "token", "id_field": "entry.id",
        "field_map": {"contact.fullName": "name", "contact.mobile": "phone",
                      "feedback.text": "description", "feedback.topic": "category"},
    },
}


def bridge_config(tmp_path, **overrides):
    config = {
        "outbox_url": f"sqlite:///{tmp_path}/outbox.sqlite",
        "secrets": SECRETS,
        "forms": FORMS,
        "wechat": dict(WECHAT),
        "default_region": "CN",
        "pbx_timezone": "Asia/Shanghai",
        "retry_base_seconds": 0.0,
        "claim_lease_seconds": 30.0,
        "log_level": "WARNING",
    }
    config.update(overrides)
    return config


def standard_headers(body, msg_id, secret=NEW_WHSEC, timestamp=None):
    ts = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": signatures.standard_sign(secret, msg_id, ts, body)}


def signed(kind, provider, body, content_type, msg_id="msg_1", host="http://localhost"):
    """(path, kwargs for the Flask test client) for a correctly signed request."""
    path = f"/webhooks/{kind}/{provider}"
    headers = {}
    data = body
    if provider == "generic":
        headers.update(standard_headers(body, msg_id,
                                        secret=NEW_WHSEC if kind == "telephony" else FORMS_WHSEC))
    elif provider == "twilio":
        if content_type == "application/json":
            path += "?bodySHA256=" + hashlib.sha256(body).hexdigest()
            headers["X-Twilio-Signature"] = signatures.twilio_sign("twilio-token", host + path)
        else:
            params = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
            headers["X-Twilio-Signature"] = signatures.twilio_sign("twilio-token", host + path,
                                                                   params)
    elif provider == "typeform":
        headers["Typeform-Signature"] = signatures.typeform_sign("typeform-secret", body)
    elif provider in TOKEN_PROVIDERS:
        headers["X-Bridge-Token"] = f"{provider}-token"
    if content_type == "multipart/form-data":
        data = json.loads(body)
    return path, {"data": data, "headers": headers, "content_type": content_type}


def load_case(case):
    return (SAMPLES / case["file"]).read_bytes()


def cases():
    return json.loads((SAMPLES / "cases.json").read_text())


def wait_for(predicate, timeout=20):
    """True as soon as ``predicate()`` is, False when ``timeout`` seconds pass first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
