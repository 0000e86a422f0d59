from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .complaint_case_solution import IMPACT_LEVELS

KINDS = [("penalty", "Penalty"), ("reward", "Reward")]


class ComplaintPenaltyNoticeLine(models.Model):
    """One reward or penalty of a notice, for an employee or a department.
    Finance reads the amount and the reason; the cases themselves (and the
    customer's data on them) stay with complaint users: finance sees only
    their numbers."""

    _name = "complaint.penalty.notice.line"
    _inherit = ["complaint.workflow.mixin"]
    _description = "Reward/Penalty Notice Line"
    _order = "notice_id, sequence, id"
    _check_company_auto = True

    notice_id = fields.Many2one(
        "complaint.penalty.notice", required=True, ondelete="cascade", index=True, check_company=True,
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="notice_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="notice_id.currency_id")
    state = fields.Selection(related="notice_id.state", store=True, string="Notice Status")
    period = fields.Char(related="notice_id.period", store=True, string="Payroll Period")
    employee_id = fields.Many2one("hr.employee", string="Employee", index="btree_not_null", check_company=True)
    department_id = fields.Many2one(
        "hr.department", compute="_compute_department_id", store=True, readonly=False, index=True,
        check_company=True,
    )
    kind = fields.Selection(KINDS, string="Reward or Penalty", required=True, default="penalty")
    amount = fields.Monetary(currency_field="currency_id", required=True)
    reason = fields.Text(required=True)
    case_ids = fields.Many2many(
        "complaint.case", "complaint_penalty_notice_line_case_rel", "line_id", "case_id",
        string="Related Cases", groups="complaint_handling.group_complaint_user", check_company=True,
    )
    case_refs = fields.Char(
        string="Case Numbers", compute="_compute_case_refs", store=True, compute_sudo=True,
        help="Numbers of the related cases, without their content.",
    )
    impact_level = fields.Selection(IMPACT_LEVELS, string="Impact Level", default="medium", required=True)
    admin_sanction = fields.Boolean(
        string="Administrative Sanction", help="Also sent to HR for publication.",
    )
    sanction_detail = fields.Char(string="Sanction")

    @api.depends("employee_id")
    def _compute_department_id(self):
        for line in self:
            if line.employee_id:
                line.department_id = line.employee_id.department_id

    @api.depends("case_ids")
    def _compute_case_refs(self):
        for line in self:
            line.case_refs = ", ".join(line.case_ids.sorted("name").mapped("name"))

    @api.constrains("employee_id", "department_id", "amount")
    def _check_line(self):
        for line in self:
            if not line.employee_id and not line.department_id:
                raise ValidationError(_("A reward or penalty is for an employee or a department."))
            reversal = bool(line.notice_id.reversed_notice_id)
            if not reversal and line.notice_id.currency_id.compare_amounts(line.amount, 0) < 0:
                raise ValidationError(
                    _("Amounts are positive; only a reversing notice carries negative amounts.")
                )

    # ------------------------------------------------------------------
    # Changes go through the notice's rules: locked once with finance,
    # and they restart the general manager's approval.
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        # The notice's status, period and case numbers: refused by complaint.workflow.mixin.
        notices = self.env["complaint.penalty.notice"].browse(
            [vals["notice_id"] for vals in vals_list if vals.get("notice_id")]
        )
        notices._check_editable(["line_ids"])
        lines = super().create(vals_list)
        lines.notice_id.filtered(lambda n: n.approval_state != "draft")._approval_restart(
            _("a line was added.")
        )
        return lines

    def write(self, vals):
        self.check_access("write")
        self.notice_id._check_editable(["line_ids"])
        if "notice_id" in vals:
            raise UserError(_("A notice line cannot move to another notice."))
        result = super().write(vals)
        self.notice_id.filtered(lambda n: n.approval_state != "draft")._approval_restart(
            _("a line was changed.")
        )
        return result

    def unlink(self):
        notices = self.notice_id
        notices._check_editable(["line_ids"])
        result = super().unlink()
        notices.filtered(lambda n: n.approval_state != "draft")._approval_restart(
            _("a line was removed.")
        )
        return result
