from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .complaint_solution_line import MONETARY_TYPES

IMPACT_LEVELS = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("severe", "Severe"),
]


class ComplaintCase(models.Model):
    """The solution offered to the customer: its lines, its approval within
    each manager's authority, the major incident application, and its
    execution (credit note, deliveries). Also the 'serious' flag used by the
    monthly reward/penalty review."""

    _inherit = "complaint.case"

    _approval_content_fields = ["solution_description"]

    solution_line_ids = fields.One2many("complaint.solution.line", "case_id", string="Solution Lines")
    solution_amount = fields.Monetary(
        string="Solution Amount", currency_field="currency_id",
        compute="_compute_solution_amounts", store=True,
        help="Refunds, exchanges, price reductions, free repairs and compensation, "
        "in the company currency.",
    )
    compensation_amount = fields.Monetary(
        currency_field="currency_id", compute="_compute_solution_amounts", store=True,
    )
    solution_executed_date = fields.Date(
        string="Solution Executed On", compute="_compute_solution_executed_date", store=True,
        help="When the last solution line was executed.",
    )
    major_incident_ids = fields.One2many(
        "complaint.major.incident", "case_id", string="Major Incident Applications",
    )
    major_incident_count = fields.Integer(compute="_compute_major_incident_count")
    major_incident_pending = fields.Boolean(
        string="Major Incident Pending", compute="_compute_major_incident_count",
        help="A major incident application of the case waits for the general manager's approval.",
    )
    credit_note_ids = fields.One2many("account.move", "complaint_case_id", string="Credit Notes")
    credit_note_count = fields.Integer(compute="_compute_credit_note_count")
    is_serious = fields.Boolean(
        string="Serious", tracking=True,
        help="Reviewed at the monthly reward/penalty review once closed, whatever its urgency or kind.",
    )
    impact_level = fields.Selection(IMPACT_LEVELS, string="Impact on the Company", tracking=True)
    solution_ready_for_customer = fields.Boolean(
        string="Solution Ready for the Customer", compute="_compute_solution_ready_for_customer",
        help="The proposed solution is approved (or needs no approval) and may be put to the customer.",
    )

    @api.depends("approval_state")
    def _compute_solution_ready_for_customer(self):
        for case in self:
            case.solution_ready_for_customer = not case._solution_needs_approval()

    def _solution_needs_approval(self):
        """The solution waits for its approval. Every proposed solution (text,
        lines or both) passes the approval rules when it is proposed; a
        solution no rule applies to is approved at once."""
        self.ensure_one()
        return self.approval_state != "approved"

    @api.depends("solution_line_ids.amount_company", "solution_line_ids.solution_type")
    def _compute_solution_amounts(self):
        for case in self:
            lines = case.solution_line_ids
            case.solution_amount = sum(
                lines.filtered(lambda l: l.solution_type in MONETARY_TYPES).mapped("amount_company")
            )
            case.compensation_amount = sum(
                lines.filtered(lambda l: l.solution_type == "compensation").mapped("amount_company")
            )

    @api.depends("solution_line_ids.execution_state", "solution_line_ids.execution_date")
    def _compute_solution_executed_date(self):
        for case in self:
            lines = case.solution_line_ids
            done = lines and all(l.execution_state == "done" for l in lines)
            case.solution_executed_date = max(lines.mapped("execution_date")) if done else False

    @api.depends("major_incident_ids.approval_state")
    def _compute_major_incident_count(self):
        for case in self:
            case.major_incident_count = len(case.major_incident_ids)
            case.major_incident_pending = any(
                a.approval_state != "approved" for a in case.major_incident_ids
            )

    def _compute_credit_note_count(self):
        for case in self:
            case.credit_note_count = len(case.sudo().credit_note_ids)

    # ------------------------------------------------------------------
    # What the approval rules read
    # ------------------------------------------------------------------
    def _approval_amount(self):
        return self.solution_amount

    def _approval_solution_types(self):
        return set(self.solution_line_ids.mapped("solution_type"))

    def _approval_urgency(self):
        return self.urgency

    def _approval_kind(self):
        return self.kind

    def _approval_department(self):
        return self.responsible_department_id

    def _approval_label(self):
        return _("the solution of case %s", self.name)

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------
    def action_propose_solution(self):
        result = super().action_propose_solution()
        # Whatever form the solution takes, it goes through the rules.
        self.filtered(lambda c: c.approval_state in ("draft", "rejected"))._approval_request()
        return result

    def _check_solution_approved(self):
        result = super()._check_solution_approved()
        for case in self:
            if case._solution_needs_approval():
                case._check_approved(_("carry out or send"))
            pending = case.major_incident_ids.filtered(lambda a: a.approval_state != "approved")
            if pending:
                raise UserError(
                    _(
                        "The major incident application %(number)s of case %(case)s is not "
                        "approved by the general manager yet.",
                        number=pending[0].name, case=case.name,
                    )
                )
            if case.customer_decision != "agreed":
                raise UserError(
                    _("The customer has not agreed to the solution of case %s yet.", case.name)
                )
        return result

    def _record_customer_decision(self, decision, note=False):
        self.ensure_one()
        if self.state == "solution_proposed" and self._solution_needs_approval():
            raise UserError(
                _(
                    "The solution of case %s is not approved yet; it cannot be put to the "
                    "customer before it is.", self.name,
                )
            )
        result = super()._record_customer_decision(decision, note)
        if decision == "declined":
            # Back to proposal: the case is investigated again, a new solution
            # is proposed and approved again.
            self._approval_restart(_("the customer declined the solution."))
        return result

    def action_customer_agreed(self):
        self._check_transition("action_customer_agreed")
        for case in self:
            case._record_customer_decision("agreed")
        return True

    def action_customer_declined(self):
        self._check_transition("action_customer_declined")
        for case in self:
            case._record_customer_decision("declined", case.customer_decline_reason)
            case.customer_decline_reason = False
        return True

    customer_decline_reason = fields.Char(
        string="Reason for Declining", copy=False,
        help="What the customer objects to, recorded when they decline the solution.",
    )

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_new_major_incident(self):
        self.ensure_one()
        self._check_transition("action_new_major_incident")
        return {
            "type": "ir.actions.act_window",
            "name": _("Major Incident Application"),
            "res_model": "complaint.major.incident",
            "view_mode": "form",
            "context": {"default_case_id": self.id, "default_amount": self.amount_claimed},
        }

    def action_view_major_incidents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "complaint_handling.complaint_major_incident_action"
        )
        action["domain"] = [("case_id", "=", self.id)]
        action["context"] = {"default_case_id": self.id}
        return action

    def action_view_credit_notes(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Credit Notes"),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [("complaint_case_id", "=", self.id)],
        }

    # ------------------------------------------------------------------
    # Monthly review
    # ------------------------------------------------------------------
    def _serious_reasons(self):
        """Why a closed case counts as serious for the monthly review."""
        self.ensure_one()
        reasons = []
        if self.urgency == "urgent":
            reasons.append(_("urgent"))
        if self.kind == "claim":
            reasons.append(_("claim"))
        threshold = self.company_id.complaint_approval_threshold
        if self.currency_id.compare_amounts(self.compensation_amount, threshold) > 0:
            reasons.append(_("compensation above %s", threshold))
        if self.is_serious:
            reasons.append(_("flagged serious"))
        return reasons

