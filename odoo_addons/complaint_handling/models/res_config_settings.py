from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    complaint_retention_days = fields.Integer(
        related="company_id.complaint_retention_days", readonly=False
    )
    complaint_overdue_working_days = fields.Integer(
        related="company_id.complaint_overdue_working_days", readonly=False
    )
    complaint_at_risk_ratio = fields.Float(related="company_id.complaint_at_risk_ratio", readonly=False)
    complaint_cs_department_id = fields.Many2one(
        related="company_id.complaint_cs_department_id", readonly=False
    )
    complaint_calendar_id = fields.Many2one(
        related="company_id.resource_calendar_id", readonly=False, string="Complaint Working Calendar"
    )
    complaint_follow_up_days = fields.Integer(related="company_id.complaint_follow_up_days", readonly=False)
    complaint_follow_up_attempts = fields.Integer(
        related="company_id.complaint_follow_up_attempts", readonly=False
    )
    complaint_reopen_days = fields.Integer(related="company_id.complaint_reopen_days", readonly=False)
