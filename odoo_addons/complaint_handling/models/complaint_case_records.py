from datetime import timedelta

from odoo import api, fields, models

from .complaint_case import END_STATES


class ComplaintCase(models.Model):
    """Records: optional bulk archiving once the retention period is over."""

    _inherit = "complaint.case"

    @api.model
    def _retention_expired_domain(self, company, now=None):
        limit = (now or fields.Datetime.now()) - timedelta(days=company.complaint_retention_days)
        return [
            ("company_id", "=", company.id),
            ("state", "in", END_STATES),
            ("close_date", "!=", False),
            ("close_date", "<=", limit),
        ]

    @api.model
    def _cron_archive_after_retention(self, batch_size=1000):
        """Archive ended cases past their retention period, for the companies
        that enabled it; in batches. Archiving never deletes anything."""
        archived = 0
        for company in self.env["res.company"].sudo().search([("complaint_archive_enabled", "=", True)]):
            domain = self._retention_expired_domain(company)
            while True:
                cases = self.sudo().search(domain, limit=batch_size, order="id")
                if not cases:
                    break
                cases.write({"active": False})
                archived += len(cases)
                cases.flush_recordset()
        return archived
