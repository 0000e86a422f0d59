"""Signature schemes against test vectors: valid, ±1 s around the tolerance, one-byte
tampering, several valid secrets."""

import json

import pytest
from helpers import SAMPLES

from webhook_bridge import signatures as sig
from webhook_bridge.errors import SignatureError

VECTORS = json.loads((SAMPLES / "signature_vectors.json").read_text())
OTHER_WHSEC = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="


def tamper(data):
    """Flip one byte in the middle."""
    data = bytearray(data.encode() if isinstance(data, str) else data)
    data[len(data) // 2] ^= 0x01
    return bytes(data)


@pytest.mark.parametrize("v", VECTORS["standard"], ids=lambda v: v["id"])
class TestStandardWebhooks:
    def check(self, v, secrets=None, body=None, signature=None, now=None, msg_id=None):
        sig.verify_standard(secrets or [v["secret"]], msg_id or v["id"], str(v["timestamp"]),
                            signature or v["signature"],
                            v["body"].encode() if body is None else body,
                            now=v["timestamp"] if now is None else now)

    def test_vector(self, v):
        assert sig.standard_sign(v["secret"], v["id"], v["timestamp"],
                                 v["body"].encode()) == v["signature"]
        self.check(v)

    @pytest.mark.parametrize("offset", [-300, 300, -299, 299])
    def test_inside_tolerance(self, v, offset):
        self.check(v, now=v["timestamp"] + offset)

    @pytest.mark.parametrize("offset", [-301, 301, -3600, 86400])
    def test_outside_tolerance(self, v, offset):
        with pytest.raises(SignatureError, match="webhook-timestamp"):
            self.check(v, now=v["timestamp"] + offset)

    def test_tampered_body(self, v):
        with pytest.raises(SignatureError, match="does not match"):
            self.check(v, body=tamper(v["body"]))

    def test_tampered_signature(self, v):
        prefix, digest = v["signature"].split(",")
        with pytest.raises(SignatureError):
            self.check(v, signature=prefix + "," + tamper(digest).decode())

    def test_tampered_id(self, v):
        with pytest.raises(SignatureError):
            self.check(v, msg_id=v["id"] + "x")

    def test_rotation_several_secrets(self, v):
        self.check(v, secrets=[OTHER_WHSEC, v["secret"]])
        self.check(v, secrets=[v["secret"], OTHER_WHSEC])
        with pytest.raises(SignatureError):
            self.check(v, secrets=[OTHER_WHSEC])

    def test_several_signatures_in_header(self, v):
        other = sig.standard_sign(OTHER_WHSEC, v["id"], v["timestamp"], v["body"].encode())
        self.check(v, signature=f"{other} v1a,xyz {v['signature']}")
        self.check(v, signature=f"{v['signature']} {other}")


def test_standard_missing_headers():
    for msg_id, ts, signature, field in [(None, "1", "v1,x", "webhook-id"),
                                         ("m", None, "v1,x", "webhook-timestamp"),
                                         ("m", "1", None, "webhook-signature"),
                                         ("m", "soon", "v1,x", "webhook-timestamp")]:
        with pytest.raises(SignatureError) as exc:
            sig.verify_standard([OTHER_WHSEC], msg_id, ts, signature, b"{}", now=1)
        assert exc.value.field == field


def test_no_secret_configured():
    with pytest.raises(SignatureError, match="no secret"):
        sig.verify_standard([], "m", "1", "v1,x", b"{}", now=1)


@pytest.mark.parametrize("v", VECTORS["twilio_form"], ids=["twilio-docs"])
def test_twilio_form(v):
    params = [tuple(p) for p in v["params"]]
    assert sig.twilio_sign(v["token"], v["url"], params) == v["signature"]
    sig.verify_twilio([v["token"]], v["url"], v["signature"], params=params)
    sig.verify_twilio(["other", v["token"]], v["url"], v["signature"], params=params)
    # the same URL with the default port spelt out is accepted too
    port_url = v["url"].replace("mycompany.com", "mycompany.com:443")
    sig.verify_twilio([v["token"]], port_url, v["signature"], params=params)
    tampered = [(k, tamper(val).decode()) if k == "Digits" else (k, val) for k, val in params]
    for bad in (dict(params=tampered), dict(params=params[:-1])):
        with pytest.raises(SignatureError):
            sig.verify_twilio([v["token"]], v["url"], v["signature"], **bad)
    with pytest.raises(SignatureError):  # the URL is signed: another host is refused
        sig.verify_twilio([v["token"]], v["url"].replace("mycompany", "evil"), v["signature"],
                          params=params)
    with pytest.raises(SignatureError):
        sig.verify_twilio(["other"], v["url"], v["signature"], params=params)
    with pytest.raises(SignatureError, match="missing"):
        sig.verify_twilio([v["token"]], v["url"], "", params=params)


@pytest.mark.parametrize("v", VECTORS["twilio_json"], ids=["twilio-python"])
def test_twilio_json_body(v):
    body = v["body"].encode()
    assert sig.twilio_sign(v["token"], v["url"]) == v["signature"]
    sig.verify_twilio([v["token"]], v["url"], v["signature"], body=body)
    with pytest.raises(SignatureError, match="bodySHA256"):
        sig.verify_twilio([v["token"]], v["url"], v["signature"], body=tamper(body))


@pytest.mark.parametrize("v", VECTORS["typeform"], ids=["openssl"])
def test_typeform(v):
    body = v["body"].encode()
    assert sig.typeform_sign(v["secret"], body) == v["signature"]
    sig.verify_typeform([v["secret"]], v["signature"], body)
    sig.verify_typeform(["rotated-out", v["secret"]], v["signature"], body)
    with pytest.raises(SignatureError):
        sig.verify_typeform([v["secret"]], v["signature"], tamper(body))
    with pytest.raises(SignatureError):
        sig.verify_typeform([v["secret"]], v["signature"][:-2] + "A=", body)
    with pytest.raises(SignatureError, match="missing"):
        sig.verify_typeform([v["secret"]], None, body)


def test_token():
    sig.verify_token(["a-token", "b-token"], "b-token")
    for bad in ("a-tokeN", "", None, "a-token "):
        with pytest.raises(SignatureError):
            sig.verify_token(["a-token"], bad)


def test_whsec_must_be_base64():
    with pytest.raises(ValueError):
        sig.standard_secret_key("whsec_not base64!")
