from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    complaint_recurrence_count = fields.Integer(related="company_id.complaint_recurrence_count", readonly=False)
    complaint_recurrence_days = fields.Integer(related="company_id.complaint_recurrence_days", readonly=False)
    complaint_recurrence_action = fields.Selection(
        related="company_id.complaint_recurrence_action", readonly=False
    )
    complaint_archive_enabled = fields.Boolean(related="company_id.complaint_archive_enabled", readonly=False)
    complaint_audit_export_sync_limit = fields.Integer(
        related="company_id.complaint_audit_export_sync_limit", readonly=False
    )
    complaint_report_group_ids = fields.Many2many(
        related="company_id.complaint_report_group_ids", readonly=False
    )
    complaint_report_partner_ids = fields.Many2many(
        related="company_id.complaint_report_partner_ids", readonly=False
    )
