import base64
import csv
import io

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.complaint_penalty_notice import GROUP_FINANCE, GROUP_GM_OFFICE, check_period

SCOPES = [
    ("pending", "Pending (Sent to Finance)"),
    ("applied", "Applied"),
    ("all", "Pending and Applied"),
]
SCOPE_STATES = {
    "pending": ("sent_to_finance",),
    "applied": ("applied",),
    "all": ("sent_to_finance", "applied"),
}


class ComplaintPenaltyExportWizard(models.TransientModel):
    """Export the deductions (and rewards) of a payroll period to XLSX or
    CSV, for payroll, optionally for one department."""

    _name = "complaint.penalty.export.wizard"
    _description = "Export Reward/Penalty Deductions"
    _check_company_auto = True

    period = fields.Char(
        string="Payroll Period", required=True,
        default=lambda self: fields.Date.context_today(self).strftime("%Y-%m"),
        help="Month (YYYY-MM) of the payroll.",
    )
    department_id = fields.Many2one(
        "hr.department", string="Department", check_company=True, help="Empty: every department.",
    )
    scope = fields.Selection(SCOPES, required=True, default="all")
    file_format = fields.Selection([("xlsx", "Excel (XLSX)"), ("csv", "CSV")], required=True, default="xlsx")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    data = fields.Binary(string="File", readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    def _check_rights(self):
        user = self.env.user
        if not self.env.su and not (user.has_group(GROUP_FINANCE) or user.has_group(GROUP_GM_OFFICE)):
            raise AccessError(_("Only finance and the general manager's office export deductions."))

    def _lines(self):
        self.ensure_one()
        check_period(self.period)
        domain = [
            ("period", "=", self.period),
            ("state", "in", SCOPE_STATES[self.scope]),
            ("company_id", "=", self.company_id.id),
        ]
        if self.department_id:
            domain.append(("department_id", "=", self.department_id.id))
        lines = self.env["complaint.penalty.notice.line"].search(domain)
        return lines.sorted(lambda l: (l.notice_id.name, l.sequence, l.id))

    def _header(self):
        return [
            _("Payroll Period"), _("Notice"), _("Status"), _("Department"), _("Employee"),
            _("Reward or Penalty"), _("Amount"), _("Currency"), _("Reason"), _("Case Numbers"),
            _("Payroll Reference"), _("Applied On"),
        ]

    def _rows(self):
        """One row per line: what payroll needs, nothing about the customers."""
        self._check_rights()
        states = dict(self.env["complaint.penalty.notice"]._fields["state"]._description_selection(self.env))
        kinds = dict(self.env["complaint.penalty.notice.line"]._fields["kind"]._description_selection(self.env))
        rows = []
        for line in self._lines():
            notice = line.notice_id
            rows.append([
                line.period,
                notice.name,
                states[notice.state],
                line.department_id.name or "",
                line.employee_id.name or "",
                kinds[line.kind],
                line.amount,
                line.currency_id.name,
                line.reason,
                line.case_refs or "",
                notice.applied_reference or "",
                fields.Date.to_string(notice.applied_date) if notice.applied_date else "",
            ])
        return rows

    def _csv(self, rows):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self._header())
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")

    def _xlsx(self, rows):
        import xlsxwriter  # noqa: PLC0415 - part of Odoo's requirements

        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = workbook.add_worksheet(self.period)
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        sheet.write_row(0, 0, self._header(), bold)
        for index, row in enumerate(rows, start=1):
            sheet.write_row(index, 0, row)
            sheet.write_number(index, 6, row[6], money)
        sheet.set_column(0, 11, 16)
        sheet.set_column(8, 8, 50)
        workbook.close()
        return buffer.getvalue()

    def action_export(self):
        self.ensure_one()
        rows = self._rows()
        if not rows:
            raise UserError(_("No deduction matches this period, department and status."))
        content = self._xlsx(rows) if self.file_format == "xlsx" else self._csv(rows)
        suffix = f"-{self.department_id.name}" if self.department_id else ""
        self.write({
            "data": base64.b64encode(content),
            "filename": f"deductions-{self.period}{suffix}.{self.file_format}",
        })
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/data/{self.filename}?download=true",
            "target": "self",
        }
