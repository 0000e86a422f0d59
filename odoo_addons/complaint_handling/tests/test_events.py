"""Events to other systems: a case's milestones queued as deliveries in the
user's transaction, posted by the cron afterwards, signed per Standard
Webhooks (checked by a receiver using the official ``standardwebhooks``
library), retried with backoff, given up, retried by hand; and who may see
the subscriptions and their secrets, attacked over JSON-RPC."""

import base64
import importlib
import json
import threading
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ComplaintCommon

ALL_EVENTS = {
    "on_case_created": True, "on_case_acknowledged": True, "on_case_solution_proposed": True,
    "on_case_replied": True, "on_case_closed": True, "on_case_reopened": True,
    "on_case_rejected": True, "on_case_cancelled": True,
}


class Receiver:
    """A subscriber on 127.0.0.1 (a thread of the test): records every request
    and verifies it with the official Standard Webhooks library when given the
    secret. Answers with `statuses` in turn (the last one repeated)."""

    def __init__(self, statuses=(204,)):
        self.statuses = list(statuses)
        self.requests = []  # (headers, body)
        self.secret = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/complaints"

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def standard_webhooks():
    """The official library (a test dependency, installed into Odoo's Python
    by scripts/test). Missing, the test fails: nothing else proves the
    signatures are the standard's."""
    return importlib.import_module("standardwebhooks.webhooks")


class EventsCommon(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="events_manager", groups="base.group_user,complaint_handling.group_complaint_manager",
        )
        cls.Delivery = cls.env["complaint.event.delivery"]

    def subscribe(self, url="https://helpdesk.example.com/hooks", **values):
        return self.env["complaint.event.subscription"].create(
            dict({"name": "Helpdesk", "url": url}, **(values or ALL_EVENTS))
        )

    def deliveries(self, subscription):
        return self.Delivery.search([("subscription_id", "=", subscription.id)], order="id")

    def secret(self, subscription):
        return subscription.sudo().secret


@tagged("post_install", "-at_install")
class TestEventQueue(EventsCommon):
    def test_each_milestone_queues_one_delivery_with_its_payload(self):
        subscription = self.subscribe()
        case = self.create_case()
        self.advance(case, "closed")
        case.with_user(self.officer).write({"reopen_reason": "The lid cracked again."})
        case.with_user(self.officer).action_reopen()
        deliveries = self.deliveries(subscription)
        self.assertEqual(
            deliveries.mapped("event"),
            ["case.created", "case.acknowledged", "case.solution_proposed", "case.replied", "case.closed",
             "case.reopened"],
            "one event per milestone, none for the steps in between (investigation, execution, follow-up)",
        )
        self.assertEqual(set(deliveries.mapped("state")), {"pending"})
        self.assertEqual(len(set(deliveries.mapped("webhook_id"))), 6)
        closed = json.loads(deliveries[4].payload)
        self.assertEqual(closed["type"], "case.closed")
        self.assertEqual(closed["data"]["case"], case.name)
        self.assertEqual(closed["data"]["state"], "closed")
        self.assertTrue(closed["data"]["url"].endswith(f"/odoo/complaint.case/{case.id}"))
        self.assertTrue(closed["data"]["portal_url"].endswith(f"/my/complaints/{case.id}"))
        self.assertRegex(closed["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(json.loads(deliveries[5].payload)["data"]["state"], "investigating")

    def test_a_rejected_or_cancelled_case_is_an_end_the_subscriber_hears_of(self):
        """Rejection and cancellation end a case as closing does: a new subscription wants
        all three ends unless told otherwise, so a ticket never waits for a case that ended."""
        subscription = self.subscribe(on_case_closed=True)
        self.assertTrue(subscription.on_case_rejected and subscription.on_case_cancelled)
        rejected = self.advance(self.create_case(), "investigating")
        rejected.write({"verdict": "carrier", "rejection_explanation": "<p>The carrier broke it.</p>"})
        rejected.with_user(self.officer).action_reject()
        cancelled = self.create_case(cancel_reason="withdrawn")
        cancelled.with_user(self.officer).action_cancel()
        deliveries = self.deliveries(subscription)
        self.assertEqual(deliveries.mapped("event"), ["case.rejected", "case.cancelled"])
        self.assertEqual(deliveries.mapped("case_id"), rejected | cancelled)
        self.assertEqual([json.loads(d.payload)["data"]["state"] for d in deliveries],
                         ["rejected", "cancelled"])
        rejected.with_user(self.officer).write({"reopen_reason": "New evidence: our packaging."})
        rejected.with_user(self.officer).action_reopen()
        self.assertEqual(self.deliveries(subscription)[-1:].event, "case.cancelled",
                         "a reopening is told only to those who asked for it")
        closed_only = self.subscribe(on_case_closed=True, on_case_rejected=False, on_case_cancelled=False)
        other = self.create_case(cancel_reason="spam")
        other.with_user(self.officer).action_cancel()
        self.assertFalse(self.deliveries(closed_only))

    def test_unsatisfied_follow_up_is_a_reopening_a_declined_solution_is_not(self):
        subscription = self.subscribe()
        case = self.advance(self.create_case(), "follow_up")
        case.action_record_follow_up("unsatisfied", "Still leaking.")
        self.assertEqual(case.state, "investigating")
        self.assertEqual(self.deliveries(subscription)[-1].event, "case.reopened")
        other = self.advance(self.create_case(), "solution_proposed")
        count = len(self.deliveries(subscription))
        self.approve_solution(other)
        other.write({"customer_decline_reason": "Too little."})
        other.action_customer_declined()
        self.assertEqual(other.state, "investigating")
        self.assertEqual(len(self.deliveries(subscription)), count)

    def test_intake_case_carries_where_it_came_from(self):
        subscription = self.subscribe(on_case_created=True)
        self.env["complaint.case"].with_user(self.intake_bot).intake([{
            "channel": "web_form", "source_system": "zendesk", "external_ref": "ZD-4711",
            "subject": "Kettle leaks", "customer": {"name": "Li Lei", "email": "li.lei@example.cn"},
        }])
        data = json.loads(self.deliveries(subscription).payload)["data"]
        self.assertEqual((data["source_system"], data["external_ref"]), ("zendesk", "ZD-4711"))

    def test_only_subscribed_events_of_active_subscriptions_of_the_company(self):
        closed_only = self.subscribe(on_case_closed=True)
        archived = self.subscribe(**ALL_EVENTS)
        archived.active = False
        other_company = self.env["res.company"].create({"name": "Other company (events)"})
        elsewhere = self.subscribe(company_id=other_company.id, **ALL_EVENTS)
        case = self.advance(self.create_case(), "replied")
        self.assertFalse(self.deliveries(closed_only))
        self.advance(case, "closed")
        self.assertEqual(self.deliveries(closed_only).mapped("event"), ["case.closed"])
        self.assertFalse(self.deliveries(archived) | self.deliveries(elsewhere))

    def test_queued_in_the_transaction_sent_by_the_cron_after_it(self):
        """The step posts nothing (not even to a subscriber that answers); it
        queues the delivery and triggers the sending cron."""
        subscription = self.subscribe(on_case_closed=True)
        case = self.advance(self.create_case(), "follow_up")
        cron = self.env.ref("complaint_handling.ir_cron_complaint_send_events")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        case.action_record_follow_up("satisfied", "Fine now.")
        with patch("requests.sessions.Session.request", side_effect=AssertionError("sent in the transaction")):
            case.write({"resolution_note": "Done."})
            case.action_close()
        delivery = self.deliveries(subscription)
        self.assertEqual((delivery.state, delivery.attempts), ("pending", 0))
        self.assertGreater(len(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])), len(triggers))

    def test_backoff_then_dead(self):
        with Receiver(statuses=(503,)) as receiver:
            subscription = self.subscribe(url=receiver.url, on_case_created=True)
            self.create_case()
            delivery = self.deliveries(subscription)
            now = fields.Datetime.now()
            with freeze_time(now):
                self.Delivery._cron_send()
            self.assertEqual((delivery.state, delivery.attempts, delivery.response_code), ("pending", 1, 503))
            self.assertEqual(delivery.response_body, "answer 503")
            self.assertEqual(delivery.next_attempt, now + timedelta(seconds=60))
            with freeze_time(now + timedelta(seconds=30)):
                self.Delivery._cron_send()  # not due yet
            self.assertEqual(delivery.attempts, 1)
            with freeze_time(now + timedelta(seconds=61)):
                self.Delivery._cron_send()
            self.assertEqual(delivery.attempts, 2)
            self.assertEqual(delivery.next_attempt, now + timedelta(seconds=61 + 120), "the wait doubles")
            for _attempt in range(delivery.MAX_ATTEMPTS - 2):
                delivery._send()
            self.assertEqual((delivery.state, delivery.attempts), ("dead", delivery.MAX_ATTEMPTS))
            self.assertEqual(len(receiver.requests), delivery.MAX_ATTEMPTS)
            ids = {headers["webhook-id"] for headers, _body in receiver.requests}
            self.assertEqual(ids, {delivery.webhook_id}, "every attempt carries the same webhook-id")

    def test_unreachable_subscriber_is_an_attempt_not_a_crash(self):
        with Receiver() as receiver:
            url = receiver.url
        subscription = self.subscribe(url=url, on_case_created=True)  # nobody listens any more
        self.create_case()
        self.Delivery._cron_send()
        delivery = self.deliveries(subscription)
        self.assertEqual((delivery.state, delivery.attempts, delivery.response_code), ("pending", 1, 0))
        self.assertTrue(delivery.response_body)

    def test_retry_button(self):
        subscription = self.subscribe(on_case_created=True)
        self.create_case()
        delivery = self.deliveries(subscription)
        delivery._workflow_write({"state": "dead", "attempts": delivery.MAX_ATTEMPTS})
        with self.assertRaisesRegex(AccessError, "Administrator"):
            delivery.with_user(self.officer).action_retry()
        delivery.with_user(self.manager).action_retry()
        self.assertEqual((delivery.state, delivery.attempts), ("pending", 0))
        self.assertLessEqual(delivery.next_attempt, fields.Datetime.now())
        delivery._workflow_write({"state": "sent"})
        with self.assertRaisesRegex(UserError, "Sent"):
            delivery.with_user(self.manager).action_retry()
        with self.assertRaisesRegex(AccessError, "'state'"):
            delivery.write({"state": "pending"})

    def test_url_must_be_https_or_local_http(self):
        for url in ("http://helpdesk.example.com/hooks", "ftp://example.com/x", "https://", "helpdesk"):
            with self.assertRaisesRegex(ValidationError, r"URL.*https://"), self.cr.savepoint():
                self.subscribe(url=url)
        for url in ("https://helpdesk.example.com/hooks", "http://localhost:8080/x", "http://127.0.0.1/x"):
            self.assertTrue(self.subscribe(url=url))

    def test_secret_generated_regenerated_and_checked(self):
        subscription = self.subscribe()
        secret = self.secret(subscription)
        self.assertTrue(secret.startswith("whsec_"))
        self.assertEqual(len(base64.b64decode(secret[6:])), 32)
        self.assertNotEqual(self.secret(self.subscribe()), secret, "one secret per subscription")
        action = subscription.with_user(self.manager).action_regenerate_secret()
        self.assertNotEqual(self.secret(subscription), secret)
        self.assertIn(self.secret(subscription), action["params"]["message"], "the new secret is shown once")
        with self.assertRaisesRegex(ValidationError, "whsec_"), self.cr.savepoint():
            subscription.secret = "not-a-secret"
        with self.assertRaisesRegex(ValidationError, "whsec_"), self.cr.savepoint():
            subscription.secret = "whsec_" + base64.b64encode(b"short").decode()


@tagged("post_install", "-at_install")
class TestEventSignature(EventsCommon):
    def test_official_library_verifies_every_event(self):
        webhooks = standard_webhooks()
        with Receiver() as receiver:
            subscription = self.subscribe(url=receiver.url)
            case = self.create_case(subject="Verified by the subscriber")
            self.advance(case, "closed")
            self.assertFalse(receiver.requests, "nothing is sent before the cron runs")
            sent = self.Delivery._cron_send()
        self.assertEqual(len(sent), 5)
        self.assertEqual(set(sent.mapped("state")), {"sent"})
        self.assertEqual(set(sent.mapped("response_code")), {204})
        verifier = webhooks.Webhook(self.secret(subscription))
        received = [verifier.verify(body, headers) for headers, body in receiver.requests]
        self.assertEqual([event["type"] for event in received],
                         ["case.created", "case.acknowledged", "case.solution_proposed", "case.replied",
                          "case.closed"])
        self.assertEqual(received[-1]["data"]["case"], case.name)
        # A forged body, another secret or a replay of another message: refused.
        headers, body = receiver.requests[-1]
        with self.assertRaises(webhooks.WebhookVerificationError):
            verifier.verify(body.replace(b"closed", b"rejected"), headers)
        with self.assertRaises(webhooks.WebhookVerificationError):
            webhooks.Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(body, headers)
        with self.assertRaises(webhooks.WebhookVerificationError):
            verifier.verify(body, dict(headers, **{"webhook-id": receiver.requests[0][0]["webhook-id"]}))


@tagged("post_install", "-at_install")
class TestEventAccess(HttpCase, EventsCommon):
    def rpc(self, login, model, method, args, kwargs=None):
        """execute_kw over JSON-RPC: (result, error or None)."""
        user = self.env["res.users"].search([("login", "=", login)])
        response = self.url_open("/jsonrpc", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"service": "object", "method": "execute_kw",
                       "args": [self.env.cr.dbname, user.id, login.ljust(8, "x"), model, method, args, kwargs or {}]},
        }), headers={"Content-Type": "application/json"}, timeout=60)
        body = response.json()
        if "error" in body:
            return None, body["error"]["data"]["name"] + ": " + body["error"]["data"]["message"]
        return body["result"], None

    def test_only_managers_see_subscriptions_secrets_and_deliveries(self):
        subscription = self.subscribe()
        self.create_case()
        secret = self.secret(subscription)
        for login in ("officer", "gm", "head_production", "agent", "finance", "plain_user"):
            for model, method, args, kwargs in (
                ("complaint.event.subscription", "search_read", [[]], {"fields": ["secret"]}),
                ("complaint.event.subscription", "read", [subscription.ids, ["secret", "url"]], {}),
                ("complaint.event.delivery", "search_read", [[]], {"fields": ["payload"]}),
                ("complaint.event.subscription", "write", [subscription.ids, {"url": "https://evil.example"}], {}),
                ("complaint.event.subscription", "create", [{"name": "Mine", "url": "https://evil.example"}], {}),
                ("complaint.event.subscription", "action_regenerate_secret", [subscription.ids], {}),
            ):
                result, error = self.rpc(login, model, method, args, kwargs)
                self.assertIsNone(result, f"{login} {model}.{method}")
                self.assertIn("AccessError", error or "", f"{login} {model}.{method}")
        self.assertEqual(self.secret(subscription), secret)
        self.assertEqual(subscription.url, "https://helpdesk.example.com/hooks")
        result, error = self.rpc("events_manager", "complaint.event.subscription", "read",
                                 [subscription.ids, ["secret"]])
        self.assertIsNone(error)
        self.assertEqual(result[0]["secret"], secret)
        result, error = self.rpc("events_manager", "complaint.event.delivery", "write",
                                 [self.deliveries(subscription).ids, {"state": "sent"}])
        self.assertIn("AccessError", error)


@tagged("post_install", "-at_install")
class TestEventChinese(EventsCommon):
    def test_subscriptions_and_deliveries_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["complaint_handling"], ["zh_CN"], overwrite=True)
        allowed = {"ID", "URL", "Webhook ID"}
        for model in ("complaint.event.subscription", "complaint.event.delivery"):
            english = self.env[model].with_context(lang="en_US").fields_get(attributes=["string"])
            chinese = self.env[model].with_context(lang="zh_CN").fields_get(attributes=["string"])
            same = {name for name in english if english[name]["string"] == chinese[name]["string"]
                    and english[name]["string"] not in allowed and not name.startswith(("create_", "write_"))
                    and name not in ("display_name", "__last_update")}
            self.assertFalse(same, f"fields of {model} without a Chinese name")
        events = dict(self.env["complaint.event.delivery"].with_context(lang="zh_CN")
                      .fields_get(["event"])["event"]["selection"])
        self.assertEqual(events["case.closed"], "案件已结案")
        with self.assertRaisesRegex(ValidationError, "必须以 https:// 开头"), self.cr.savepoint():
            self.env["complaint.event.subscription"].with_context(lang="zh_CN").create(
                {"name": "Helpdesk", "url": "http://helpdesk.example.com"}
            )
        delivery_refusal = self.subscribe(on_case_created=True)
        self.create_case()
        delivery = self.deliveries(delivery_refusal)
        delivery._workflow_write({"state": "sent"})
        with self.assertRaisesRegex(UserError, "重试"):
            delivery.with_user(self.manager).with_context(lang="zh_CN").action_retry()
