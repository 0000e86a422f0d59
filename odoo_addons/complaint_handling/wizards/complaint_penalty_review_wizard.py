from datetime import datetime, time

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.complaint_case_solution import IMPACT_LEVELS
from ..models.complaint_penalty_notice import GROUP_GM_OFFICE
from ..models.complaint_penalty_notice_line import KINDS

# Months by name, translated at display time.
MONTHS = [
    ("1", "January"), ("2", "February"), ("3", "March"), ("4", "April"),
    ("5", "May"), ("6", "June"), ("7", "July"), ("8", "August"),
    ("9", "September"), ("10", "October"), ("11", "November"), ("12", "December"),
]


def _previous_month(today):
    return today.replace(day=1) - relativedelta(months=1)


class ComplaintPenaltyReviewWizard(models.TransientModel):
    """Monthly complaint review of the general manager's office: the serious
    cases closed in a month (urgent, claims, compensation above the
    threshold, flagged serious), and the draft notice it proposes."""

    _name = "complaint.penalty.review.wizard"
    _description = "Monthly Complaint Review"

    year = fields.Integer(required=True, default=lambda self: _previous_month(fields.Date.context_today(self)).year)
    month = fields.Selection(
        MONTHS, required=True, default=lambda self: str(_previous_month(fields.Date.context_today(self)).month),
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    line_ids = fields.One2many(
        "complaint.penalty.review.wizard.line", "wizard_id", string="Serious Cases",
        compute="_compute_line_ids", store=True, readonly=False,
    )

    @api.model
    def _month_bounds(self, year, month):
        start = datetime.combine(fields.Date.to_date(f"{year:04d}-{int(month):02d}-01"), time.min)
        return start, start + relativedelta(months=1)

    @api.model
    def _serious_cases(self, year, month, company):
        """Cases closed in the month that are serious, in closing order."""
        start, end = self._month_bounds(year, month)
        cases = self.env["complaint.case"].search(
            [
                ("state", "=", "closed"),
                ("close_date", ">=", start),
                ("close_date", "<", end),
                ("company_id", "=", company.id),
            ],
            order="close_date, id",
        )
        return cases.filtered(lambda c: c._serious_reasons())

    @api.depends("year", "month", "company_id")
    def _compute_line_ids(self):
        for wizard in self:
            commands = [fields.Command.clear()]
            if wizard.year and wizard.month:
                for case in self._serious_cases(wizard.year, wizard.month, wizard.company_id):
                    commands.append(fields.Command.create({"case_id": case.id}))
            wizard.line_ids = commands

    def action_create_notice(self):
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group(GROUP_GM_OFFICE):
            raise AccessError(_("Only the general manager's office issues reward/penalty notices."))
        lines = self.line_ids.filtered("include")
        if not lines:
            raise UserError(_("No serious case is selected for a notice."))
        month_start = fields.Date.to_date(f"{self.year:04d}-{int(self.month):02d}-01")
        notice = self.env["complaint.penalty.notice"].create({
            "company_id": self.company_id.id,
            "review_month": month_start,
            "period": (month_start + relativedelta(months=1)).strftime("%Y-%m"),
            "line_ids": [
                fields.Command.create({
                    "employee_id": line.employee_id.id,
                    "department_id": line.department_id.id,
                    "kind": line.kind,
                    "amount": line.amount,
                    "reason": line._proposed_reason(),
                    "case_ids": [fields.Command.set(line.case_id.ids)],
                    "impact_level": line.impact_level,
                })
                for line in lines
            ],
        })
        return {
            "type": "ir.actions.act_window",
            "res_model": "complaint.penalty.notice",
            "res_id": notice.id,
            "view_mode": "form",
        }


class ComplaintPenaltyReviewWizardLine(models.TransientModel):
    _name = "complaint.penalty.review.wizard.line"
    _description = "Monthly Complaint Review Case"

    wizard_id = fields.Many2one(
        "complaint.penalty.review.wizard", string="Review", required=True, ondelete="cascade",
    )
    include = fields.Boolean(string="Propose", default=True)
    case_id = fields.Many2one("complaint.case", string="Case", required=True, readonly=True)
    subject = fields.Char(related="case_id.subject")
    close_date = fields.Datetime(related="case_id.close_date", string="Closed On")
    serious_reasons = fields.Char(string="Why Serious", compute="_compute_reasons")
    cause = fields.Char(compute="_compute_reasons")
    impact = fields.Text(related="case_id.impact")
    user_id = fields.Many2one(related="case_id.user_id", string="Responsible Person")
    employee_id = fields.Many2one("hr.employee", compute="_compute_from_case", store=True, readonly=False)
    department_id = fields.Many2one(
        "hr.department", string="Responsible Department", compute="_compute_from_case",
        store=True, readonly=False,
    )
    impact_level = fields.Selection(IMPACT_LEVELS, compute="_compute_from_case", store=True, readonly=False)
    kind = fields.Selection(KINDS, string="Reward or Penalty", default="penalty", required=True)
    currency_id = fields.Many2one(related="case_id.currency_id")
    amount = fields.Monetary(currency_field="currency_id")

    @api.depends("case_id")
    def _compute_reasons(self):
        verdicts = dict(self.env["complaint.case"]._fields["verdict"]._description_selection(self.env))
        for line in self:
            case = line.case_id
            line.serious_reasons = ", ".join(case._serious_reasons()) if case else False
            line.cause = verdicts.get(case.verdict, "") if case.verdict else False

    @api.depends("case_id")
    def _compute_from_case(self):
        for line in self:
            case = line.case_id
            line.employee_id = case.user_id.employee_id
            line.department_id = case.responsible_department_id
            line.impact_level = case.impact_level or ("high" if case.urgency == "urgent" else "medium")

    def _proposed_reason(self):
        """The notice line's reason: finance reads it, so the case's number
        only, never its subject or customer."""
        self.ensure_one()
        return _(
            "Case %(case)s: %(reasons)s. Responsibility: %(cause)s.",
            case=self.case_id.name, reasons=self.serious_reasons, cause=self.cause or _("undetermined"),
        )
