from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    complaint_sheet_qa_hours = fields.Float(related="company_id.complaint_sheet_qa_hours", readonly=False)
    complaint_sheet_reply_days = fields.Integer(related="company_id.complaint_sheet_reply_days", readonly=False)
    complaint_action_reminder_days = fields.Integer(
        related="company_id.complaint_action_reminder_days", readonly=False
    )
