import base64
import hashlib
import hmac
import logging
import threading
import time
import uuid
from datetime import timedelta

import requests

from odoo import _lt, api, fields, models

from ..tools import Transition
from .complaint_event_subscription import EVENTS, SECRET_PREFIX

_logger = logging.getLogger(__name__)

DELIVERY_STATES = [
    ("pending", "Pending"),
    ("sent", "Sent"),
    ("dead", "Dead"),
]
GROUP_MANAGER = "complaint_handling.group_complaint_manager"


def sign(secret, webhook_id, timestamp, body):
    """The ``webhook-signature`` header of Standard Webhooks: ``v1,`` and the
    base64 HMAC-SHA256, keyed with the secret's bytes, of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class ComplaintEventDelivery(models.Model):
    """One event for one subscriber: queued in the transaction that reached the
    milestone, posted by a cron after the commit (never inside the user's
    transaction), retried with exponential backoff and given up (dead) after
    `MAX_ATTEMPTS`. Every field is a fact only the server writes."""

    _name = "complaint.event.delivery"
    _description = "Complaint Event Delivery"
    _inherit = ["complaint.workflow.mixin"]
    _order = "id desc"

    # Retry schedule: BACKOFF_SECONDS * 2 ** (attempts - 1) after each failure
    # (1, 2, 4 … 256 minutes: about 8.5 hours in all), then dead.
    MAX_ATTEMPTS = 10
    BACKOFF_SECONDS = 60
    TIMEOUT_SECONDS = 5
    BATCH_SIZE = 20

    _transitions = {
        # A pending one is sent again at once; a dead one gets a new round of attempts.
        "action_retry": Transition(_lt("retry"), ("pending", "dead"), (GROUP_MANAGER,)),
    }

    subscription_id = fields.Many2one(
        "complaint.event.subscription", required=True, readonly=True, index=True, ondelete="cascade",
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True, index=True)
    case_id = fields.Many2one("complaint.case", readonly=True, index="btree_not_null", ondelete="set null")
    event = fields.Selection(EVENTS, required=True, readonly=True)
    payload = fields.Text(readonly=True, help="The JSON body posted, the same on every attempt.")
    webhook_id = fields.Char(
        string="Webhook ID", readonly=True, index=True, copy=False,
        default=lambda self: f"msg_{uuid.uuid4().hex}",
        help="The webhook-id header, the same on every attempt: subscribers ignore a repeated one.",
    )
    state = fields.Selection(DELIVERY_STATES, default="pending", required=True, readonly=True, index=True)
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(readonly=True, index=True, default=fields.Datetime.now)
    last_attempt = fields.Datetime(readonly=True)
    response_code = fields.Integer(string="Last Answer Code", readonly=True)
    response_body = fields.Text(string="Last Answer", readonly=True, help="The first 500 characters of the last answer or error.")

    # ------------------------------------------------------------------
    # Sending (cron)
    # ------------------------------------------------------------------
    def _trigger_sending(self, at=None):
        self.env.ref("complaint_handling.ir_cron_complaint_send_events").sudo()._trigger(at)

    @api.model
    def _cron_send(self, batch_size=None):
        """Post the due deliveries, oldest first, one batch per run; the cron
        runs again at once while more are due (``_notify_progress``)."""
        now = fields.Datetime.now()
        domain = [("state", "=", "pending"), ("next_attempt", "<=", now)]
        deliveries = self.sudo().search(domain, order="next_attempt, id", limit=batch_size or self.BATCH_SIZE)
        for delivery in deliveries:
            try:
                with self.env.cr.savepoint():
                    delivery._send()
            except Exception as error:  # noqa: BLE001 - one bad delivery must not stop the others
                _logger.exception("event %s could not be sent", delivery.webhook_id)
                delivery._record_attempt(False, 0, str(error)[:500])
            if not getattr(threading.current_thread(), "testing", False):
                # Each answer kept at once: a later crash does not post it again.
                self.env.cr.commit()
        remaining = self.sudo().search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(deliveries), remaining=remaining)
        upcoming = self.sudo().search([("state", "=", "pending")], order="next_attempt", limit=1)
        if upcoming and not remaining:
            upcoming._trigger_sending(upcoming.next_attempt)
        return deliveries

    def _send(self):
        """One attempt: post the payload signed, record the answer."""
        self.ensure_one()
        body = self.payload.encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Odoo complaint_handling",
            "webhook-id": self.webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign(self.subscription_id.sudo().secret, self.webhook_id, timestamp, body),
        }
        try:
            response = requests.post(
                self.subscription_id.url, data=body, headers=headers, timeout=self.TIMEOUT_SECONDS,
                allow_redirects=False,
            )
            code, answer, ok = response.status_code, response.text[:500], 200 <= response.status_code < 300
        except requests.RequestException as error:
            code, answer, ok = 0, str(error)[:500], False
        self._record_attempt(ok, code, answer)
        return ok

    def _record_attempt(self, ok, code, answer):
        attempts = self.attempts + 1
        now = fields.Datetime.now()
        values = {"attempts": attempts, "last_attempt": now, "response_code": code, "response_body": answer}
        if ok:
            values["state"] = "sent"
        elif attempts >= self.MAX_ATTEMPTS:
            values["state"] = "dead"
            _logger.warning("event %s to %s given up after %s attempts: %s %s",
                            self.webhook_id, self.subscription_id.name, attempts, code, answer[:100])
        else:
            values["next_attempt"] = now + timedelta(seconds=self.BACKOFF_SECONDS * 2 ** (attempts - 1))
        self._workflow_write(values)

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_retry(self):
        """Send again soon (by the cron, after this transaction), with a new
        round of attempts for dead ones."""
        self._check_transition("action_retry")
        self.sudo()._workflow_write({"state": "pending", "attempts": 0, "next_attempt": fields.Datetime.now()})
        self._trigger_sending()
        return True
