"""End to end, a helpdesk and back: a Zendesk ticket posted to the bridge becomes a case in the
real Odoo (started by scripts/test with workers and a cron thread), the case is closed over
JSON-RPC, and a local receiver gets the signed ``case.closed`` event from Odoo's cron after the
closing transaction, verified with the official ``standardwebhooks`` library."""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from odoo_rpc import NEEDED, Rpc, bridge_app
from standardwebhooks.webhooks import Webhook

pytestmark = pytest.mark.e2e
ZENDESK_SECRET = "e2e-events-zendesk-secret"
WAIT_SECONDS = 120  # the cron thread wakes on the trigger; its fallback interval is 5 minutes


@pytest.fixture
def env(odoo_settings):
    return odoo_settings(*NEEDED)


@pytest.fixture
def receiver():
    """The subscriber: a local HTTP server recording what it receives."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/complaint-events"
    server.received = received
    yield server
    server.shutdown()
    server.server_close()


def xmlid(admin, module, name):
    return admin("ir.model.data", "check_object_reference", module, name)[1]


def test_zendesk_ticket_closed_as_a_case_delivers_a_verified_event(env, receiver, tmp_path):
    admin = Rpc(env, env["ODOO_ADMIN_LOGIN"], env["ODOO_ADMIN_PASSWORD"])
    tag = uuid.uuid4().hex[:8]
    subscription = admin("complaint.event.subscription", "create", {
        "name": f"E2E helpdesk {tag}", "url": receiver.url, "on_case_closed": True,
    })
    try:
        [record] = admin("complaint.event.subscription", "read", [subscription], ["secret"])
        secret = record["secret"]

        # The case comes in as a Zendesk ticket posted to the bridge (signed as Zendesk
        # documents it) and delivered into Odoo by the bridge's worker.
        ticket_id = str(uuid.uuid4().int % 10**9)
        body = json.dumps({"ticket": {
            "id": ticket_id, "title": "E2E kettle leaks", "via": "Web form",
            "description": "The kettle leaks.", "latest_public_comment": "The kettle leaks.",
            "requester": {"name": "E2E events customer", "email": f"events-{tag}@example.cn"},
        }}).encode()
        ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        signature = base64.b64encode(hmac.new(ZENDESK_SECRET.encode(), ts.encode() + body,
                                              hashlib.sha256).digest()).decode()
        bridge = bridge_app(env, tmp_path, secrets={"zendesk": [ZENDESK_SECRET]})
        answer = bridge.test_client().post(
            "/webhooks/helpdesk/zendesk", data=body, content_type="application/json",
            headers={"X-Zendesk-Webhook-Signature": signature,
                     "X-Zendesk-Webhook-Signature-Timestamp": ts})
        assert answer.status_code == 202, answer.json
        bridge.deliver()
        assert bridge.outbox.stats()["states"]["delivered"] == 1
        [case] = admin("complaint.case", "search",
                       [("source_system", "=", "zendesk"), ("thread_ref", "=", ticket_id)])

        # A department headed by the administrator (who approves the solution) and an agent
        # who proposes it: the requester may not approve their own solution.
        [admin_employee] = admin("hr.employee", "search", [("user_id", "=", admin.uid)], limit=1)
        department = admin("hr.department", "create", {"name": f"E2E events {tag}", "manager_id": admin_employee})
        agent_login = f"e2e-events-agent-{tag}"
        agent_id = admin("res.users", "create", {
            "name": "E2E events agent", "login": agent_login, "password": agent_login,
            "email": f"{agent_login}@example.com",
            "groups_id": [(6, 0, [xmlid(admin, "base", "group_user"),
                                  xmlid(admin, "complaint_handling", "group_complaint_user")])],
        })
        agent = Rpc(env, agent_login, agent_login)

        admin("complaint.case", "write", [case], {
            "category_id": xmlid(admin, "complaint_handling", "category_product_quality"), "kind": "appeal",
            "urgency": "general", "responsible_department_id": department, "user_id": agent_id,
        })
        admin("complaint.case", "action_acknowledge", [case])
        admin("complaint.case", "action_start_investigation", [case])
        admin("complaint.case", "write", [case], {"verdict": "company", "solution_description": "<p>New kettle.</p>"})
        agent("complaint.case", "action_propose_solution", [case])
        admin("complaint.case", "action_approval_approve", [case])
        admin("complaint.case", "action_customer_agreed", [case])
        admin("complaint.case", "action_start_execution", [case])
        admin("complaint.case", "write", [case], {"reply_summary": "<p>We sent you a new kettle.</p>"})
        admin("complaint.case", "action_mark_replied", [case])
        admin("complaint.case", "action_record_follow_up", [case], outcome="satisfied", note="Happy.")
        admin("complaint.case", "write", [case], {"resolution_note": "New kettle, customer satisfied."})
        admin("complaint.case", "action_close", [case])
        [closed] = admin("complaint.case", "read", [case], ["name", "state"])
        assert closed["state"] == "closed"

        deadline = time.monotonic() + WAIT_SECONDS
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.5)
        assert receiver.received, f"no event within {WAIT_SECONDS} s"
        headers, body = receiver.received[0]
        event = Webhook(secret).verify(body, headers)  # raises unless signed with our secret
        assert event["type"] == "case.closed"
        assert event["data"]["case"] == closed["name"]
        assert event["data"]["state"] == "closed"
        assert event["data"]["source_system"] == "zendesk"
        assert event["data"]["external_ref"].startswith(f"{ticket_id}:")  # the ticket's first update
        assert event["data"]["url"].endswith(f"/odoo/complaint.case/{case}")
        assert len(receiver.received) == 1, "only the subscribed event"

        # The delivery log says so, once the cron committed.
        while time.monotonic() < deadline:
            [delivery] = admin("complaint.event.delivery", "search_read",
                               [("subscription_id", "=", subscription)], ["state", "attempts", "response_code"])
            if delivery["state"] == "sent":
                break
            time.sleep(0.5)
        assert (delivery["state"], delivery["attempts"], delivery["response_code"]) == ("sent", 1, 204)
    finally:
        admin("complaint.event.subscription", "write", [subscription], {"active": False})
