from odoo import fields, models


class ComplaintPenaltyApplyWizard(models.TransientModel):
    """Finance applies approved reward/penalty notices in a payroll period."""

    _name = "complaint.penalty.apply.wizard"
    _description = "Apply Reward/Penalty Notices in Payroll"

    notice_ids = fields.Many2many("complaint.penalty.notice", string="Notices", required=True)
    period = fields.Char(
        string="Payroll Period", required=True,
        default=lambda self: fields.Date.context_today(self).strftime("%Y-%m"),
        help="Month (YYYY-MM) of the payroll.",
    )
    reference = fields.Char(string="Payroll Reference", required=True)
    date = fields.Date(string="Applied On", required=True, default=fields.Date.context_today)

    def action_apply(self):
        self.ensure_one()
        self.notice_ids.action_apply(self.period, self.reference, self.date)
        return {"type": "ir.actions.act_window_close"}
