"""Conversation channels: WeChat Official Account, Zendesk, Freshdesk.

Every signature and ciphertext here is computed independently of the bridge's code, as the
vendor documents it: hashlib/hmac for the signatures, ``cryptography``'s AES-CBC for
WeChat's safe mode (random(16) + length(4, network order) + message + AppID, PKCS#7 padded
to 32 bytes, IV = the key's first 16 bytes).
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from helpers import WECHAT, bridge_config

from webhook_bridge import create_app

TOKEN = "wechat-token"
KEY = base64.b64decode(WECHAT["encoding_aes_key"] + "=")
APP_ID = WECHAT["app_id"]
OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# --- WeChat, done the documented way ----------------------------------------------------

def sha1_signature(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wechat_encrypt(xml, app_id=APP_ID, key=KEY):
    data = xml.encode()
    raw = os.urandom(16) + struct.pack(">I", len(data)) + data + app_id.encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()


def wechat_decrypt(encrypt, key=KEY):
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    raw = raw[:-raw[-1]]
    length = struct.unpack(">I", raw[16:20])[0]
    return raw[20:20 + length].decode(), raw[20 + length:].decode()


def message_xml(msg_id="6054768590064713728", kind="text", content="我买的水壶漏水了，怎么办？",
                openid=OPENID, **extra):
    fields = {"ToUserName": "gh_e136c6e50636", "FromUserName": openid,
              "CreateTime": str(int(time.time())), "MsgType": kind, **extra}
    if kind == "text":
        fields["Content"] = content
    if msg_id:
        fields["MsgId"] = msg_id
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>"


def wechat_post(client, xml, safe=False, token=TOKEN, timestamp=None, tamper=None):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = "1320562132"
    query = {"signature": sha1_signature(token, ts, nonce), "timestamp": ts, "nonce": nonce,
             "openid": OPENID}
    body = xml
    if safe:
        encrypt = wechat_encrypt(xml)
        body = f"<xml><ToUserName><![CDATA[gh_e136c6e50636]]></ToUserName>" \
               f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        query.update(encrypt_type="aes", msg_signature=sha1_signature(token, ts, nonce, encrypt))
    if tamper:
        tamper(query)
    return client.post("/webhooks/messaging/wechat", query_string=query,
                       data=body.encode(), content_type="text/xml")


def reply_of(response, safe=False):
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.data)
    if safe:
        encrypt = root.findtext("Encrypt")
        assert root.findtext("MsgSignature") == sha1_signature(
            TOKEN, root.findtext("TimeStamp"), root.findtext("Nonce"), encrypt)
        xml, app_id = wechat_decrypt(encrypt)
        assert app_id == APP_ID
        root = ElementTree.fromstring(xml)
    return {child.tag: child.text for child in root}


def items(app):
    outbox = app.extensions["bridge"].outbox
    return [item.payload for item in outbox.claim(100, lease=60)[1]]


def test_handshake_echoes_when_signed(client):
    ts, nonce = str(int(time.time())), "42"
    query = {"signature": sha1_signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
             "echostr": "5837397520765786526"}
    answer = client.get("/webhooks/messaging/wechat", query_string=query)
    assert (answer.status_code, answer.data) == (200, b"5837397520765786526")
    query["signature"] = sha1_signature("another-token", ts, nonce)
    answer = client.get("/webhooks/messaging/wechat", query_string=query)
    assert answer.status_code == 401 and answer.json["field"] == "signature"
    assert client.get("/webhooks/helpdesk/zendesk").status_code == 405


def test_text_message_plain(app, client):
    reply = reply_of(wechat_post(client, message_xml()))
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == "gh_e136c6e50636"
    assert reply["MsgType"] == "text" and "收到" in reply["Content"]
    [payload] = items(app)
    assert payload["thread_ref"] == OPENID
    assert payload["source_system"] == "wechat" and payload["channel"] == "social_media"
    assert payload["external_ref"] == "wechat-6054768590064713728"
    assert payload["description"] == "我买的水壶漏水了，怎么办？"
    # WeChat retries a message it got no answer for in time: the same reply, stored once.
    assert reply_of(wechat_post(client, message_xml()))["Content"] == reply["Content"]
    assert app.extensions["bridge"].outbox.stats()["counters"]["duplicate"] == 1


def test_reply_names_the_case_when_odoo_answers_in_time(app, client, fake_odoo):
    """The passive reply names the case Odoo made for the message (asked at once, with
    a short timeout); the worker's later delivery of the same item is a duplicate."""
    reply = reply_of(wechat_post(client, message_xml(msg_id="501")))
    assert "投诉编号 CMP00001" in reply["Content"]
    reply = reply_of(wechat_post(client, message_xml(msg_id="502", content="还有照片")))
    assert "CMP00002" in reply["Content"]  # the fake makes a case per message
    assert fake_odoo.count("wechat-501") == 1
    state = app.extensions["bridge"]
    from webhook_bridge.delivery import OdooClient, Worker

    Worker(state.outbox, OdooClient(state.config.odoo), state.config).drain()
    assert state.outbox.stats()["states"]["delivered"] == 2
    assert len(fake_odoo.cases) == 2  # delivered again: the same two cases, no third


@pytest.mark.parametrize("odoo_down", ["stopped", "502", "slow"])
def test_reply_without_the_case_when_odoo_does_not_answer_in_time(
        tmp_path, fake_odoo, odoo_down):
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config(),
                                   reply_case_timeout=0.5))
    if odoo_down == "stopped":
        fake_odoo.stop()
    elif odoo_down == "502":
        fake_odoo.http_status = 502
    else:
        fake_odoo.delay = 2.0
    started = time.monotonic()
    reply = reply_of(wechat_post(app.test_client(), message_xml(msg_id="503")))
    assert time.monotonic() - started < 1.9  # WeChat waits 5 s: the reply never waits for Odoo
    assert "收到" in reply["Content"] and "编号" not in reply["Content"]
    [payload] = items(app)  # stored all the same: the worker delivers it later
    assert payload["external_ref"] == "wechat-503"


def test_safe_mode_decrypts_and_encrypts_the_reply(app, client):
    reply = reply_of(wechat_post(client, message_xml(msg_id="777"), safe=True), safe=True)
    assert reply["ToUserName"] == OPENID and "收到" in reply["Content"]
    [payload] = items(app)
    assert payload["external_ref"] == "wechat-777" and payload["thread_ref"] == OPENID


def test_older_token_still_accepted(app, client):
    answer = wechat_post(client, message_xml(msg_id="778"), safe=True, token="wechat-token-old")
    assert answer.status_code == 200
    root = ElementTree.fromstring(answer.data)  # encrypted and signed with the token used
    assert root.findtext("MsgSignature") == sha1_signature(
        "wechat-token-old", root.findtext("TimeStamp"), root.findtext("Nonce"),
        root.findtext("Encrypt"))


@pytest.mark.parametrize("tamper, field", [
    (lambda q: q.update(signature="0" * 40), "signature"),
    (lambda q: q.update(msg_signature="0" * 40), "msg_signature"),
    (lambda q: q.pop("msg_signature"), "msg_signature"),
    (lambda q: q.update(timestamp=str(int(time.time()) - 3600)), "timestamp"),
])
def test_safe_mode_refuses_bad_signatures(app, client, tamper, field):
    answer = wechat_post(client, message_xml(), safe=True, tamper=tamper)
    assert answer.status_code == 401, answer.json
    assert answer.json["field"] == field
    assert items(app) == []


def test_safe_mode_only(tmp_path, fake_odoo):
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config(),
                                   wechat=dict(WECHAT, safe_mode_only=True)))
    client = app.test_client()
    answer = wechat_post(client, message_xml())
    assert answer.status_code == 401 and answer.json["field"] == "encrypt_type"
    assert reply_of(wechat_post(client, message_xml(), safe=True), safe=True)
    assert len(items(app)) == 1


def test_safe_mode_other_app_id_refused(app, client):
    ts, nonce = str(int(time.time())), "9"
    encrypt = wechat_encrypt(message_xml(), app_id="wx0000000000000000")
    query = {"signature": sha1_signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
             "encrypt_type": "aes", "msg_signature": sha1_signature(TOKEN, ts, nonce, encrypt)}
    answer = client.post("/webhooks/messaging/wechat", query_string=query,
                         data=f"<xml><Encrypt>{encrypt}</Encrypt></xml>", content_type="text/xml")
    assert answer.status_code == 400 and answer.json["field"] == "Encrypt"
    assert items(app) == []


def test_entities_and_dtd_are_refused(app, client):
    xml = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           f'<xml><FromUserName>{OPENID}</FromUserName><Content>&x;</Content></xml>')
    answer = wechat_post(client, xml)
    assert answer.status_code == 400 and answer.json["error"] == "malformed_payload"
    assert items(app) == []


def test_replies_in_the_accounts_own_words(tmp_path, fake_odoo):
    """The three replies are options, for an account whose followers read another language;
    the one naming the case takes the number as ``{number}``."""
    wechat = {**WECHAT, "reply": "Thank you, we received your message.",
              "reply_with_case": "Thank you: your complaint is {number}.",
              "reply_unsupported": "Please write to us in text."}
    app = create_app(bridge_config(tmp_path, odoo=fake_odoo.config(), wechat=wechat))
    client = app.test_client()
    reply = reply_of(wechat_post(client, message_xml(msg_id="601")))
    assert reply["Content"] == "Thank you: your complaint is CMP00001."
    voice = reply_of(wechat_post(client, message_xml(msg_id="602", kind="voice", MediaId="m")))
    assert voice["Content"] == "Please write to us in text."
    fake_odoo.stop()
    late = create_app(bridge_config(tmp_path / "late", odoo=fake_odoo.config(),
                                    wechat=wechat, reply_case_timeout=0.3))
    reply = reply_of(wechat_post(late.test_client(), message_xml(msg_id="603")))
    assert reply["Content"] == "Thank you, we received your message."


@pytest.mark.parametrize("template", ["Your complaint", "{number} {number}", "{name}",
                                      "{number.__class__}", "{0}", "{number", "}{number}",
                                      "{number:>{width}}", "{number!z}", "{number:d}"])
def test_a_reply_template_that_cannot_name_the_case_is_refused_at_load(tmp_path, template):
    with pytest.raises(ValueError, match="wechat.reply_with_case"):
        create_app(bridge_config(tmp_path, wechat={**WECHAT, "reply_with_case": template}))


@pytest.mark.parametrize("option", ["reply", "reply_with_case", "reply_unsupported"])
def test_a_reply_that_is_not_text_is_refused_at_load(tmp_path, option):
    with pytest.raises(ValueError, match=f"wechat.{option}: must be text, not list"):
        create_app(bridge_config(tmp_path, wechat={**WECHAT, option: ["Thank you"]}))


def test_events_and_other_types(app, client):
    event = message_xml(msg_id=None, kind="event", Event="subscribe")
    answer = wechat_post(client, event)
    assert (answer.status_code, answer.data) == (200, b"success")
    voice = reply_of(wechat_post(client, message_xml(msg_id="5", kind="voice", MediaId="m")))
    assert "文字" in voice["Content"]
    answer = wechat_post(client, message_xml(openid="o<x>'bad id"))
    assert answer.status_code == 422 and answer.json["field"] == "FromUserName"
    assert items(app) == []


@pytest.fixture
def image_server():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            if self.path == "/big":
                body = b"x" * 5000
            elif self.path == "/gone":
                self.send_error(404)
                return
            else:
                body = PNG
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def test_image_message_fetched_from_allowed_host(tmp_path, fake_odoo, image_server):
    base, hits = image_server
    config = bridge_config(tmp_path, odoo=fake_odoo.config(),
                           wechat=dict(WECHAT, image_hosts=["127.0.0.1"], image_max_bytes=1000))
    app = create_app(config)
    client = app.test_client()
    for msg_id, path in (("1", "/pic.png"), ("2", "/big"), ("3", "/gone")):
        xml = message_xml(msg_id=msg_id, kind="image", PicUrl=base + path, MediaId="media")
        assert "收到" in reply_of(wechat_post(client, xml))["Content"]
    other = message_xml(msg_id="4", kind="image", PicUrl="http://169.254.169.254/latest",
                        MediaId="m")
    reply_of(wechat_post(client, other))
    broken = message_xml(msg_id="5", kind="image", PicUrl="http://[127.0.0.1/x", MediaId="m")
    reply_of(wechat_post(client, broken))  # found by the fuzz suite: once a 500
    fetched, big, gone, elsewhere, _broken = items(app)
    assert fetched["attachments"] == [{"name": "wechat-image.png", "mimetype": "image/png",
                                       "data": base64.b64encode(PNG).decode()}]
    assert not big.get("attachments") and "1000 bytes" in big["description"]
    assert not gone.get("attachments") and "HTTPError" in gone["description"]
    assert "not allowed" in elsewhere["description"]
    assert sorted(hits) == ["/big", "/gone", "/pic.png"], "nothing asked of other hosts"


# --- Zendesk ------------------------------------------------------------------------------

ZENDESK_TICKET = {
    "ticket": {
        "id": "35436", "title": "水壶漏水 / kettle leaking",
        "url": "example.zendesk.com/agent/tickets/35436",
        "via": "Web Form", "status": "Open", "tags": "complaint",
        "description": "The kettle leaks from the base.",
        "latest_public_comment": "The kettle leaks from the base.",
        "requester": {"name": "Wang Fang", "email": "wang.fang@example.cn",
                      "phone": "13800138000"},
    }
}


def zendesk_post(client, data, secret="zendesk-secret", when=None):
    body = json.dumps(data).encode()
    ts = (when or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = base64.b64encode(hmac.new(secret.encode(), ts.encode() + body,
                                          hashlib.sha256).digest()).decode()
    return client.post("/webhooks/helpdesk/zendesk", data=body, content_type="application/json",
                       headers={"X-Zendesk-Webhook-Signature": signature,
                                "X-Zendesk-Webhook-Signature-Timestamp": ts})


def test_zendesk_ticket_then_comment(app, client):
    assert zendesk_post(client, ZENDESK_TICKET).status_code == 202
    assert zendesk_post(client, ZENDESK_TICKET).status_code == 200  # retried: duplicate
    update = json.loads(json.dumps(ZENDESK_TICKET))
    update["ticket"]["latest_public_comment"] = "Any news? I attached a photo."
    assert zendesk_post(client, update).status_code == 202
    first, second = items(app)
    assert first["thread_ref"] == second["thread_ref"] == "35436"
    assert first["external_ref"] != second["external_ref"]
    assert first["source_system"] == "zendesk" and first["channel"] == "web_form"
    assert first["customer"] == {"name": "Wang Fang", "email": "wang.fang@example.cn",
                                 "phone": "+8613800138000"}
    assert first["subject"] == "水壶漏水 / kettle leaking"
    assert second["description"].startswith("Any news?")
    assert "Zendesk ticket #35436: example.zendesk.com/agent/tickets/35436" in \
        second["description"]


def test_zendesk_event_subscription_comment(app, client):
    event = {
        "type": "zen:event-type:ticket.comment_added", "account_id": 22129848,
        "id": "cbe4028c-7239-495d-b020-f22348516046", "subject": "zen:ticket:35436",
        "time": "2024-05-14T08:30:00.000000000Z", "zendesk_event_version": "2022-11-06",
        "detail": {"id": "35436", "subject": "kettle leaking", "description": "It leaks",
                   "via": {"channel": "email"}},
        "event": {"comment": {"id": "8765", "body": "Still leaking", "is_public": True,
                              "author": {"id": "1", "is_staff": False, "name": "Wang"}}},
    }
    assert zendesk_post(client, event).status_code == 202
    event["event"]["comment"].update(id="8766", is_public=False)
    assert zendesk_post(client, event).json["status"] == "ignored"
    [payload] = items(app)
    assert payload["external_ref"] == "35436:8765" and payload["channel"] == "email"


@pytest.mark.parametrize("secret, age, field", [
    ("another-secret", 0, "X-Zendesk-Webhook-Signature"),
    ("zendesk-secret", 3600, "X-Zendesk-Webhook-Signature-Timestamp"),
])
def test_zendesk_refusals(app, client, secret, age, field):
    when = datetime.now(timezone.utc) - timedelta(seconds=age)
    answer = zendesk_post(client, ZENDESK_TICKET, secret=secret, when=when)
    assert answer.status_code == 401 and answer.json["field"] == field
    assert items(app) == []


def test_zendesk_body_tampered(app, client):
    ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps(ZENDESK_TICKET).encode()
    signature = base64.b64encode(hmac.new(b"zendesk-secret", ts.encode() + body,
                                          hashlib.sha256).digest()).decode()
    answer = client.post("/webhooks/helpdesk/zendesk", data=body.replace(b"35436", b"35437"),
                         content_type="application/json",
                         headers={"X-Zendesk-Webhook-Signature": signature,
                                  "X-Zendesk-Webhook-Signature-Timestamp": ts})
    assert answer.status_code == 401


# --- Freshdesk ----------------------------------------------------------------------------

FRESHDESK_TICKET = {"freshdesk_webhook": {
    "ticket_id": 1042, "ticket_subject": "Refund not received",
    "ticket_description": "<div>I returned the kettle a month ago.</div>",
    "ticket_url": "https://example.freshdesk.com/helpdesk/tickets/1042",
    "ticket_source": "Email", "ticket_status": "Open",
    "ticket_contact_name": "Li Lei", "ticket_contact_email": "li.lei@example.cn",
    "ticket_latest_public_comment": "",
}}


@pytest.mark.parametrize("headers", [
    {"Authorization": "Basic " + base64.b64encode(b"bridge:freshdesk-token").decode()},
    {"Authorization": "Basic " + base64.b64encode(b"freshdesk-token:X").decode()},
    {"X-Bridge-Token": "freshdesk-token"},
])
def test_freshdesk_accepted(app, client, headers):
    answer = client.post("/webhooks/helpdesk/freshdesk", json=FRESHDESK_TICKET, headers=headers)
    assert answer.status_code == 202, answer.json
    [payload] = items(app)
    assert payload["thread_ref"] == "1042" and payload["source_system"] == "freshdesk"
    assert payload["channel"] == "email" and payload["customer"]["email"] == "li.lei@example.cn"


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Basic " + base64.b64encode(b"bridge:wrong").decode()},
    {"Authorization": "Basic " + base64.b64encode(b"freshdesk-token").decode()},
    {"X-Bridge-Token": "zendesk-secret"}, {"Authorization": "Basic %%%"},
])
def test_freshdesk_refused(app, client, headers):
    answer = client.post("/webhooks/helpdesk/freshdesk", json=FRESHDESK_TICKET, headers=headers)
    assert answer.status_code == 401
    assert items(app) == []


def test_freshdesk_comment_is_a_later_message(app, client):
    headers = {"X-Bridge-Token": "freshdesk-token"}
    update = json.loads(json.dumps(FRESHDESK_TICKET))
    update["freshdesk_webhook"]["ticket_latest_public_comment"] = "Any news?"
    client.post("/webhooks/helpdesk/freshdesk", json=FRESHDESK_TICKET, headers=headers)
    client.post("/webhooks/helpdesk/freshdesk", json=update, headers=headers)
    assert client.post("/webhooks/helpdesk/freshdesk", json=update,
                       headers=headers).status_code == 200
    first, second = items(app)
    assert first["thread_ref"] == second["thread_ref"] == "1042"
    assert first["external_ref"] != second["external_ref"]
    assert second["description"].startswith("Any news?")


def test_missing_ticket_id_named(client):
    answer = client.post("/webhooks/helpdesk/freshdesk", json={"freshdesk_webhook": {}},
                         headers={"X-Bridge-Token": "freshdesk-token"})
    assert answer.status_code == 422 and answer.json["field"] == "ticket.id"


def test_one_secret_per_endpoint(tmp_path):
    config = bridge_config(tmp_path)
    config["secrets"] = dict(config["secrets"], freshdesk=["zendesk-secret"])
    with pytest.raises(ValueError, match="helpdesk/freshdesk"):
        create_app(config)


def test_bad_aes_key_refused(tmp_path):
    with pytest.raises(ValueError, match="encoding_aes_key"):
        create_app(bridge_config(tmp_path, wechat={"app_id": "wx1", "encoding_aes_key": "short"}))
