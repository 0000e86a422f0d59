import logging

from odoo import _, api, fields, models

from ..tools import workflow_step

_logger = logging.getLogger(__name__)

ACKNOWLEDGEMENT_STATES = [
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("failed", "Failed"),
]


class ComplaintCase(models.Model):
    """The acknowledgement: queued by intake or by *Acknowledge*, rendered
    and handed to Odoo's mail (or SMS) queue by a cron in batches, and the
    case's first response only once the mail or SMS actually left."""

    _inherit = "complaint.case"

    acknowledgement_state = fields.Selection(
        ACKNOWLEDGEMENT_STATES, string="Acknowledgement Status", readonly=True, copy=False, index="btree_not_null",
        help="Queued: waiting to be sent (within a minute or two); Sending: in the mail or SMS queue; "
        "Sent: the customer was told (the first response); Failed: the e-mail or SMS could not be sent.",
    )
    acknowledgement_message_id = fields.Many2one(
        "mail.message", string="Acknowledgement Message", readonly=True, copy=False, index="btree_not_null",
        help="The message carrying the acknowledgement, whose e-mail or SMS stamps the first response.",
    )

    # ------------------------------------------------------------------
    # Queue
    # ------------------------------------------------------------------
    def _queue_acknowledgement(self, auto=False):
        """Queue the acknowledgement of the cases in self that have not been
        (or are not being) told yet. Automatic (intake of e-mails and web
        forms): only to customers with an e-mail. Returns the cases queued."""
        todo = self.filtered(lambda c: c.acknowledgement_state in (False, "failed"))
        if auto:
            todo = todo.filtered(lambda c: c._customer_can_receive_email())
        else:
            unreachable = todo.filtered(lambda c: not c._acknowledgement_channel())
            for case in unreachable:
                case.message_post(
                    body=_("No acknowledgement sent: the customer has no e-mail address or phone number. "
                           "The written reply will be the first response."),
                    subtype_xmlid="mail.mt_note",
                )
            todo -= unreachable
        if todo:
            todo._workflow_write({"acknowledgement_state": "queued"})
            self.env.ref("complaint_handling.ir_cron_complaint_send_acknowledgements").sudo()._trigger()
        return todo

    def _acknowledgement_channel(self):
        self.ensure_one()
        if self._customer_can_receive_email():
            return "email"
        if self.partner_id.phone or self.partner_id.mobile or self.customer_phone:
            return "sms"
        return False

    def action_acknowledge(self):
        """Acknowledge: the case moves on, and the customer is told (queued,
        sent within a minute or two); the first response is stamped when
        the e-mail or SMS is sent."""
        result = super().action_acknowledge()
        self._queue_acknowledgement()
        return result

    # ------------------------------------------------------------------
    # Cron: render and hand over to the mail/SMS queues, in batches
    # ------------------------------------------------------------------
    @api.model
    def _cron_send_acknowledgements(self, batch_size=200):
        cases = self.sudo().search([("acknowledgement_state", "=", "queued")], order="id", limit=batch_size)
        with workflow_step(self._name):
            for case in cases:
                try:
                    with self.env.cr.savepoint():
                        case._deliver_acknowledgement()
                except Exception:
                    _logger.exception("acknowledgement of case %s could not be prepared", case.name)
                    case._workflow_write({"acknowledgement_state": "failed"})
        # The e-mails leave through Odoo's mail queue, right after this run.
        self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        remaining = self.sudo().search_count([("acknowledgement_state", "=", "queued")])
        self.env["ir.cron"]._notify_progress(done=len(cases), remaining=remaining)
        return cases

    def _deliver_acknowledgement(self):
        """Render the acknowledgement of one case: an e-mail queued in
        mail.mail, or an SMS (sent at once through Odoo's SMS)."""
        self.ensure_one()
        channel = self._acknowledgement_channel()
        if channel == "email":
            template = self.env.ref("complaint_handling.mail_template_complaint_acknowledgement")
            if self.partner_id:
                message = self._send_to_customer(template)
            else:
                # Straight to the address given: the customer is not (yet) a contact.
                mail = self.env["mail.mail"].sudo().browse(
                    template.send_mail(self.id, email_values={"email_to": self.customer_email})
                )
                message = mail.mail_message_id
                self.message_post(
                    body=_("E-mail %(template)s sent to %(email)s.", template=template.name,
                           email=self.customer_email),
                    subtype_xmlid="mail.mt_note",
                )
        elif channel == "sms":
            message = self._message_sms(
                self._acknowledgement_sms_body(),
                partner_ids=self.partner_id.ids if self.partner_id else None,
                sms_numbers=None if self.partner_id else [self.customer_phone],
            )
        else:
            self._workflow_write({"acknowledgement_state": "failed"})
            return
        # Rendered once: the next run of the cron leaves it to the mail/SMS queue.
        self._workflow_write({"acknowledgement_message_id": message.id, "acknowledgement_state": "sending"})
        if channel == "sms":
            sms = self.env["sms.sms"].sudo().search([("mail_message_id", "=", message.id)])
            if sms.filtered(lambda s: s.state in ("pending", "sent")):
                self._acknowledgement_sent()
            elif sms.filtered(lambda s: s.state == "error"):
                self._acknowledgement_failed()

    # ------------------------------------------------------------------
    # Sent (from mail.mail / sms.sms)
    # ------------------------------------------------------------------
    def _acknowledgement_sent(self):
        """The customer was told: the acknowledgement is the first response."""
        cases = self.filtered(lambda c: c.acknowledgement_state != "sent")
        if not cases:
            return
        now = fields.Datetime.now()
        with workflow_step(self._name):
            cases._workflow_write({"acknowledgement_state": "sent", "acknowledgement_sent_date": now})
            cases.filtered(lambda c: not c.first_response_date)._workflow_write({"first_response_date": now})

    def _acknowledgement_failed(self):
        cases = self.filtered(lambda c: c.acknowledgement_state in ("queued", "sending"))
        with workflow_step(self._name):
            cases._workflow_write({"acknowledgement_state": "failed"})
        for case in cases:
            case.message_post(
                body=_("The acknowledgement could not be sent: check the customer's e-mail or phone, "
                       "then click Acknowledge again."),
                subtype_xmlid="mail.mt_note",
            )

    @api.model
    def _acknowledgements_of(self, message_ids):
        if not message_ids:
            return self.browse()
        return self.sudo().with_context(active_test=False).search(
            [("acknowledgement_message_id", "in", list(message_ids))]
        )
