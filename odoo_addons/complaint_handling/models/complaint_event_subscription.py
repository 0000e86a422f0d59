import base64
import secrets
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The events a subscriber may receive: (type sent in the payload, label).
EVENTS = [
    ("case.created", "Case created"),
    ("case.acknowledged", "Case acknowledged"),
    ("case.solution_proposed", "Solution proposed"),
    ("case.replied", "Written reply sent"),
    ("case.closed", "Case closed"),
    ("case.reopened", "Case reopened"),
    ("case.rejected", "Case rejected"),
    ("case.cancelled", "Case cancelled"),
]
# Hosts an http:// (unencrypted) URL may name: this machine only.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
SECRET_PREFIX = "whsec_"


def event_field(event):
    """The subscription's boolean field of `event` ("case.closed" -> "on_case_closed")."""
    return "on_" + event.replace(".", "_")


def new_secret():
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class ComplaintEventSubscription(models.Model):
    """A system told what happens to complaint cases (a helpdesk, a CRM): the
    URL its events are posted to, which events, and the secret they are
    signed with (Standard Webhooks). Deliveries: complaint.event.delivery."""

    _name = "complaint.event.subscription"
    _description = "Complaint Event Subscription"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, help="Who receives the events, e.g. the helpdesk's name.")
    url = fields.Char(
        string="URL", required=True,
        help="Where the events are posted (HTTPS; plain HTTP only to this machine).",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
        help="Only this company's cases are reported.",
    )
    secret = fields.Char(
        copy=False, default=lambda self: new_secret(),
        groups="complaint_handling.group_complaint_manager",
        help="Standard Webhooks signing secret (whsec_ and base64). Shown once: copy it into the "
        "subscriber now; later, regenerate it to get a new one.",
    )
    secret_hint = fields.Char(string="Secret Hint", compute="_compute_secret_hint")
    on_case_created = fields.Boolean(string="Case created")
    on_case_acknowledged = fields.Boolean(string="Case acknowledged")
    on_case_solution_proposed = fields.Boolean(string="Solution proposed")
    on_case_replied = fields.Boolean(string="Written reply sent")
    on_case_closed = fields.Boolean(string="Case closed", default=True)
    on_case_reopened = fields.Boolean(string="Case reopened")
    # The three ends of a case: a subscriber told of one is told of the others by default.
    on_case_rejected = fields.Boolean(string="Case rejected", default=True)
    on_case_cancelled = fields.Boolean(string="Case cancelled", default=True)
    delivery_ids = fields.One2many("complaint.event.delivery", "subscription_id", string="Deliveries")
    delivery_dead_count = fields.Integer(string="Dead Deliveries", compute="_compute_delivery_dead_count")

    @api.depends("secret")
    def _compute_secret_hint(self):
        for subscription in self:
            secret = subscription.sudo().secret or ""
            subscription.secret_hint = f"{secret[:10]}…{secret[-4:]}" if secret else False

    def _compute_delivery_dead_count(self):
        counts = dict(
            self.env["complaint.event.delivery"]._read_group(
                [("subscription_id", "in", self.ids), ("state", "=", "dead")], ["subscription_id"], ["__count"]
            )
        )
        for subscription in self:
            subscription.delivery_dead_count = counts.get(subscription, 0)

    @api.constrains("url")
    def _check_url(self):
        for subscription in self:
            parts = urlsplit(subscription.url or "")
            try:
                host = parts.hostname
            except ValueError:
                host = None
            if parts.scheme == "https" and host:
                continue
            if parts.scheme == "http" and host in LOCAL_HOSTS:
                continue
            raise ValidationError(
                self.env._(
                    "Subscription %(name)s: the URL %(url)r must start with https:// and name a host "
                    "(plain http:// only for localhost or 127.0.0.1), so that events and their "
                    "signatures are not sent in the clear.",
                    name=subscription.name, url=subscription.url,
                )
            )

    @api.constrains("secret")
    def _check_secret(self):
        for subscription in self.sudo():
            secret = subscription.secret or ""
            try:
                key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
            except ValueError:
                key = b""
            if not secret.startswith(SECRET_PREFIX) or not 24 <= len(key) <= 64:
                raise ValidationError(
                    self.env._(
                        "Subscription %(name)s: the secret must be whsec_ followed by 24 to 64 bytes "
                        "in base64 (Standard Webhooks); leave it empty to have one generated.",
                        name=subscription.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("secret"):
                vals["secret"] = new_secret()
        return super().create(vals_list)

    def _events(self):
        self.ensure_one()
        return [event for event, _label in EVENTS if self[event_field(event)]]

    def action_regenerate_secret(self):
        """A new secret, shown once in a notification; the old one stops at once."""
        self.ensure_one()
        self.check_access("write")
        secret = new_secret()
        self.write({"secret": secret})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("New secret of %s", self.name),
                "message": self.env._(
                    "Copy it into the subscriber now; it is not shown again: %s", secret
                ),
                "sticky": True,
                "type": "warning",
            },
        }

    def action_view_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "complaint_handling.complaint_event_delivery_action"
        )
        action["domain"] = [("subscription_id", "=", self.id)]
        return action
