"""End to end: conversation channels into the real Odoo.  A WeChat follower's messages and a
Zendesk ticket with a later public comment each become one case, the later messages in its
chatter (signatures computed here with hashlib/hmac, as the vendors document them)."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime, timezone

import pytest
from odoo_rpc import NEEDED, Rpc, bridge_app
from test_e2e_odoo import assert_delivered

pytestmark = pytest.mark.e2e
WECHAT_TOKEN = "e2e-wechat-token"
ZENDESK_SECRET = "e2e-zendesk-secret"


@pytest.fixture(scope="module")
def admin(odoo_settings):
    return Rpc.admin(odoo_settings(*NEEDED))


@pytest.fixture
def bridge(odoo_settings, tmp_path):
    # A generous wait for the case number: this checks the real Odoo's answer, not the
    # time limit (tests/bridge/test_channels.py does, against a fake Odoo).
    return bridge_app(odoo_settings(*NEEDED), tmp_path, reply_case_timeout=30.0,
                      secrets={"wechat": [WECHAT_TOKEN], "zendesk": [ZENDESK_SECRET]})


def case_and_messages(admin, domain):
    cases = admin("complaint.case", "search_read", domain,
                  fields=["name", "thread_ref", "external_ref"])
    assert len(cases) == 1, cases
    bodies = [m["body"] for m in admin("mail.message", "search_read", [
        ("model", "=", "complaint.case"), ("res_id", "=", cases[0]["id"])], fields=["body"])]
    return cases[0], bodies


def test_wechat_follower_messages_make_one_case(admin, bridge):
    client = bridge.test_client()
    openid = "oE2E" + uuid.uuid4().hex[:20]
    replies = []
    for msg_id, text in ((f"{uuid.uuid4().int % 10**18}", "E2E 水壶漏水"),
                         (f"{uuid.uuid4().int % 10**18}", "E2E 底座也坏了")):
        ts, nonce = str(int(time.time())), "7"
        signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, ts, nonce])).encode()).hexdigest()
        xml = (f"<xml><ToUserName><![CDATA[gh_e2e]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
               f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
        answer = client.post("/webhooks/messaging/wechat", data=xml.encode(), content_type="text/xml",
                             query_string={"signature": signature, "timestamp": ts, "nonce": nonce})
        assert answer.status_code == 200 and "收到".encode() in answer.data
        replies.append(answer.data.decode())
        assert_delivered(bridge)
    case, bodies = case_and_messages(admin, [("thread_ref", "=", openid)])
    # The passive replies name the case (Odoo answered within the reply's time limit).
    assert all(f"投诉编号 {case['name']}" in reply for reply in replies), (case, replies)
    assert case["external_ref"] != f"wechat-{msg_id}", "the second message opened no case"
    assert any("底座也坏了" in b for b in bodies), bodies


def test_zendesk_ticket_then_comment(admin, bridge):
    client = bridge.test_client()
    ticket_id = str(uuid.uuid4().int % 10**9)
    ticket = {"ticket": {"id": ticket_id, "title": "E2E kettle leaking", "via": "Mail",
                         "description": "It leaks.", "latest_public_comment": "It leaks.",
                         "requester": {"name": "E2E Requester", "email": f"r{ticket_id}@example.cn"}}}
    for comment in ("It leaks.", "E2E: any news?"):
        ticket["ticket"]["latest_public_comment"] = comment
        body = json.dumps(ticket).encode()
        ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        signature = base64.b64encode(hmac.new(ZENDESK_SECRET.encode(), ts.encode() + body,
                                              hashlib.sha256).digest()).decode()
        answer = client.post("/webhooks/helpdesk/zendesk", data=body, content_type="application/json",
                             headers={"X-Zendesk-Webhook-Signature": signature,
                                      "X-Zendesk-Webhook-Signature-Timestamp": ts})
        assert answer.status_code == 202, answer.json
        assert_delivered(bridge)
    case, bodies = case_and_messages(admin, [("source_system", "=", "zendesk"),
                                             ("thread_ref", "=", ticket_id)])
    assert any("any news?" in b for b in bodies), bodies
