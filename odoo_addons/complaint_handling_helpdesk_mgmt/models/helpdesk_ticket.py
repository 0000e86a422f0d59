from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError

from odoo.addons.complaint_handling.models.complaint_case import STATES

SOURCE_SYSTEM = "helpdesk_mgmt"
COMPLAINT_GROUPS = "complaint_handling.group_complaint_user"
# Changes of these fields may make a ticket match an automatic escalation rule.
RULE_FIELDS = ("name", "team_id", "category_id", "tag_ids")
# The escalation's facts: written by the escalation only (as superuser).
ESCALATION_FIELDS = (
    "complaint_case_id", "complaint_escalated_by_id", "complaint_escalated_on",
    "complaint_escalation_reason", "complaint_rule_id",
)


class HelpdeskTicket(models.Model):
    _inherit = "helpdesk.ticket"

    # The link itself is for complaint users only; a helpdesk user sees the
    # case's number and status (computed as superuser), not the case.
    complaint_case_id = fields.Many2one(
        "complaint.case", string="Complaint Case", readonly=True, copy=False, index="btree_not_null",
        groups=COMPLAINT_GROUPS,
    )
    complaint_case_number = fields.Char(
        string="Complaint Number", compute="_compute_complaint_case_info",
    )
    complaint_case_state = fields.Selection(
        STATES, string="Complaint Status", compute="_compute_complaint_case_info",
    )
    complaint_escalated = fields.Boolean(
        string="Escalated to Complaint", compute="_compute_complaint_case_info",
    )
    complaint_escalated_by_id = fields.Many2one(
        "res.users", string="Escalated By", readonly=True, copy=False,
    )
    complaint_escalated_on = fields.Datetime(string="Escalated On", readonly=True, copy=False)
    complaint_escalation_reason = fields.Text(string="Escalation Reason", readonly=True, copy=False)
    complaint_rule_id = fields.Many2one(
        "helpdesk.complaint.rule", string="Escalation Rule", readonly=True, copy=False,
        help="The automatic escalation rule that escalated this ticket.",
    )

    def _compute_complaint_case_info(self):
        for ticket in self:
            case = ticket.sudo().complaint_case_id
            ticket.complaint_case_number = case.name or False
            ticket.complaint_case_state = case.state or False
            ticket.complaint_escalated = bool(case)

    # ------------------------------------------------------------------
    # Escalation
    # ------------------------------------------------------------------
    def action_open_complaint_escalate_wizard(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Escalate to Complaint"),
            "res_model": "helpdesk.ticket.escalate.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_ticket_id": self.id},
        }

    def action_escalate_complaint(self, reason):
        """Escalate the ticket into a complaint case, through the intake
        (idempotent on the ticket: escalating again gives the same case).
        Any user who can read the ticket may escalate it; the case is created
        as superuser. Returns the case (as superuser)."""
        self.ensure_one()
        self.check_access("read")
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Escalation reason: required, say why the ticket is a complaint."))
        return self.sudo()._escalate_complaint(reason, self.env.user)

    def _escalate_complaint(self, reason, user, rule=None):
        self.ensure_one()
        ticket = self.sudo()
        if ticket.complaint_case_id:
            return ticket.complaint_case_id
        Case = self.env["complaint.case"].sudo().with_company(ticket.company_id or self.env.company)
        result = Case._intake([ticket._complaint_intake_item()])[0]
        if result["status"] == "error":
            raise UserError(self.env._(
                "Ticket %(ticket)s could not be escalated: %(error)s", ticket=ticket.number, error=result["error"]
            ))
        case = Case.browse(result["id"])
        ticket.write({
            "complaint_case_id": case.id,
            "complaint_escalated_by_id": user.id,
            "complaint_escalated_on": fields.Datetime.now(),
            "complaint_escalation_reason": reason,
            "complaint_rule_id": rule.id if rule else False,
        })
        body = Markup("%s<br/>%s") % (
            self.env._("Escalated to complaint case %(case)s by %(user)s.", case=case.name, user=user.name),
            self.env._("Reason: %s", reason),
        )
        ticket.message_post(body=body, author_id=user.partner_id.id, subtype_xmlid="mail.mt_note")
        case._message_log(body=Markup("%s<br/>%s") % (
            self.env._("Escalated from helpdesk ticket %(ticket)s by %(user)s.", ticket=ticket.display_name,
                       user=user.name),
            self.env._("Reason: %s", reason),
        ))
        return case

    def _complaint_intake_item(self):
        """The ticket as an intake item (README, "Intake API")."""
        self.ensure_one()
        partner = self.partner_id
        customer = {
            "name": partner.name or self.partner_name or False,
            "email": partner.email or self.partner_email or False,
            "phone": partner.phone or partner.mobile or False,
            "address": partner.contact_address.strip() if partner and partner.street else False,
        }
        item = {
            "channel": self.channel_id.complaint_channel or "web_form",
            "source_system": SOURCE_SYSTEM,
            "external_ref": str(self.id),
            "thread_ref": f"helpdesk.ticket:{self.id}",
            "customer": {key: value for key, value in customer.items() if value},
            "subject": f"{self.number} {self.name}"[:256],
            "description": tools.html2plaintext(self.description or "") or self.name,
            "received_at": fields.Datetime.to_string(self.create_date),
            "attachments": [
                {"name": a.name, "mimetype": a.mimetype, "data": a.datas.decode()}
                for a in self.env["ir.attachment"].sudo().search(
                    [("res_model", "=", self._name), ("res_id", "=", self.id), ("type", "=", "binary")]
                ) if a.datas
            ],
        }
        # helpdesk_mgmt has no sales order on tickets; an addon adding one
        # (a `sale_order_id` field) gets it linked through the intake's rules.
        order = self["sale_order_id"] if "sale_order_id" in self._fields else False
        if order:
            item["order_ref"] = order.name
        return item

    def action_view_complaint_case(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "complaint.case",
            "res_id": self.complaint_case_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------
    # Automatic escalation (helpdesk.complaint.rule)
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_escalation_fields(vals)
        tickets = super().create(vals_list)
        tickets._complaint_auto_escalate()
        return tickets

    def _check_escalation_fields(self, field_names):
        forged = sorted(set(field_names) & set(ESCALATION_FIELDS))
        if forged and not self.env.su:
            raise AccessError(self.env._(
                "Field %(field)s of helpdesk tickets: set by the escalation to a complaint only.",
                field=", ".join(forged),
            ))

    def write(self, vals):
        self._check_escalation_fields(vals)
        result = super().write(vals)
        if any(name in vals for name in RULE_FIELDS):
            self._complaint_auto_escalate()
        return result

    def _complaint_auto_escalate(self):
        # No context key turns this off: a client could send it. The
        # escalation's own writes touch no RULE_FIELDS, and escalated
        # tickets are skipped.
        Rule = self.env["helpdesk.complaint.rule"].sudo()
        if not Rule.search_count([], limit=1):
            return
        for ticket in self.sudo().filtered(lambda t: not t.complaint_case_id):
            rule = Rule._rule_for(ticket)
            if rule:
                ticket._escalate_complaint(
                    self.env._("Automatic escalation by rule %s.", rule.name), self.env.user, rule=rule
                )

    # ------------------------------------------------------------------
    # The customer's replies reach the case
    # ------------------------------------------------------------------
    def message_post(self, **kwargs):
        message = super().message_post(**kwargs)
        ticket = self.sudo()
        if (
            len(self) == 1
            and ticket.complaint_case_id
            and message.message_type in ("comment", "email")
            and not message.subtype_id.internal
            and message.author_id
            and message.author_id in (ticket.partner_id | ticket.partner_id.commercial_partner_id)
            and self._complaint_posted_by_author(message)
        ):
            ticket._complaint_forward_reply(message)
        return message

    def _complaint_posted_by_author(self, message):
        """Whether `message` comes from its author: posted by the author's own user (the
        customer on the portal) or by the system (the mail gateway, which sets the sender of
        an incoming e-mail as author).  An employee may post with another author (standard
        ``message_post``); such a post is not the customer's reply."""
        return self.env.su or self.env.user.partner_id == message.author_id

    def _complaint_forward_reply(self, message):
        """Log the customer's reply `message` in the linked case's chatter."""
        case = self.complaint_case_id
        attachments = message.attachment_ids.copy({"res_model": case._name, "res_id": case.id})
        case._message_log(
            body=Markup("%s<br/>") % self.env._(
                "Reply of the customer on helpdesk ticket %s:", self.display_name
            ) + (message.body or ""),
            author_id=message.author_id.id,
            email_from=message.email_from,
            message_type="comment",
            attachment_ids=attachments.ids,
        )
