import base64
import io
from datetime import datetime, time, timedelta

import pytz
import xlsxwriter
from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError

from ..models.complaint_report import MAILING_KEY
from ..tools import attach_file, download_action, working_day_ends


def _previous_month_start(today):
    return today.replace(day=1) - relativedelta(months=1)


class ComplaintMonthlyReportWizard(models.TransientModel):
    """The monthly complaint report for a chosen month: PDF, XLSX, and the
    document the scheduled e-mail sends."""

    _name = "complaint.monthly.report.wizard"
    _description = "Monthly Complaint Report"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    month = fields.Date(
        required=True, default=lambda self: _previous_month_start(fields.Date.context_today(self)),
        help="Any day of the month to report; the report covers the whole month.",
    )

    @api.constrains("month")
    def _check_month(self):
        for wizard in self:
            if wizard.month > fields.Date.context_today(wizard):
                raise ValidationError(_("Month: %s has not begun yet; choose a past or the current month.",
                                  wizard.month.strftime("%Y-%m")))

    def _figures(self):
        self.ensure_one()
        return self.env["complaint.report"]._monthly_figures(self.company_id, self.month.replace(day=1))

    def action_print_pdf(self):
        return self.env.ref("complaint_handling.action_report_complaint_monthly").report_action(self)

    def _render_pdf(self):
        self.ensure_one()
        pdf, _kind = self.env["ir.actions.report"]._render_qweb_pdf(
            "complaint_handling.action_report_complaint_monthly", self.ids
        )
        return pdf

    def _xlsx_content(self):
        """The monthly figures as a workbook: one sheet for the totals, one per part."""
        self.ensure_one()
        figures = self._figures()
        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {"in_memory": True})
        bold = book.add_format({"bold": True})
        summary = book.add_worksheet(_("Summary"))
        rows = [
            (_("Month"), figures["month_label"]),
            (_("Complaints"), figures["total"]),
            (_("Previous Month"), figures["previous"]),
            (_("Same Month Last Year"), figures["last_year"]),
            (_("Corrective Actions Open"), figures["actions"]["open"]),
            (_("Corrective Actions Done"), figures["actions"]["done"]),
            (_("Contact Sheets Not Effective"), figures["actions"]["not_effective"]),
            (_("Compensation Paid"), figures["compensation"]["total"]),
        ]
        for row, (label, value) in enumerate(rows):
            summary.write(row, 0, label, bold)
            summary.write(row, 1, value)
        row = len(rows) + 1
        summary.write(row, 0, _("Reward/Penalty Notices"), bold)
        for notice in figures["notices"]:
            row += 1
            summary.write_row(row, 0, [notice["name"], notice["period"], notice["state"],
                                       notice["penalty"], notice["reward"]])
        for index, part in enumerate(figures["parts"], start=1):
            sheet = book.add_worksheet(_("Part %s", index))
            sheet.write(0, 0, part["title"], bold)
            line = 2
            for label, value in (
                (_("Complaints"), part["count"]), (_("Previous Month"), part["previous"]),
                (_("Same Month Last Year"), part["last_year"]), (_("SLA Met"), part["sla_met"]),
                (_("SLA Breached"), part["sla_breached"]),
                (_("SLA Met Rate (%)"), part["sla_met_rate"] or 0.0),
                (_("Average Working Days to Close"), part["close_working_days"] or 0.0),
            ):
                sheet.write(line, 0, label, bold)
                sheet.write(line, 1, value)
                line += 1
            for title, key in ((_("By Category"), "by_category"), (_("By Channel"), "by_channel"),
                               (_("By Product"), "by_product"), (_("By Department"), "by_department")):
                line += 1
                sheet.write(line, 0, title, bold)
                for entry in part[key]:
                    line += 1
                    sheet.write_row(line, 0, [entry["label"], entry["count"]])
            line += 2
            sheet.write_row(line, 0, [_("Overdue"), part["overdue_count"]], bold)
            for case in part["overdue"]:
                line += 1
                sheet.write_row(line, 0, [case["name"], case["category"], case["subject"], case["department"],
                                          case["user"]])
        book.close()
        return output.getvalue()

    def action_export_xlsx(self):
        self.ensure_one()
        return download_action(attach_file(
            self, _("Complaints %s.xlsx", self.month.strftime("%Y-%m")), self._xlsx_content(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ))

    # ------------------------------------------------------------------
    # Scheduled e-mail
    # ------------------------------------------------------------------
    @api.model
    def _first_working_day(self, company, month_start):
        """The first day of the month that has working time on the company calendar."""
        calendar = company.resource_calendar_id or self.env.ref("resource.resource_calendar_std")
        tz = pytz.timezone(calendar.tz or "UTC")
        eve = tz.localize(datetime.combine(month_start - timedelta(days=1), time(12))).astimezone(pytz.utc)
        [end] = working_day_ends(calendar, eve.replace(tzinfo=None), 1)
        return pytz.utc.localize(end).astimezone(tz).date()

    @api.model
    def _cron_send_monthly_report(self):
        """On the first working day of a month (or the first run after it), send
        each company's report on the previous month, once."""
        for company in self.env["res.company"].search([]):
            today = fields.Date.context_today(self.with_company(company))
            month_start = _previous_month_start(today)
            done = company.complaint_report_last_month
            if done and done >= month_start:
                continue
            if today < self._first_working_day(company, today.replace(day=1)):
                continue
            self.with_company(company)._send_monthly_report(company, month_start)

    @api.model
    def _send_monthly_report(self, company, month_start):
        wizard = self.create({"company_id": company.id, "month": month_start})
        label = month_start.strftime("%Y-%m")
        # One PDF for all the recipients: case numbers and categories, no subjects.
        pdf = wizard.with_context(**{MAILING_KEY: True})._render_pdf()
        attachment = self.env["ir.attachment"].create({
            "name": _("Complaint report %s.pdf", label),
            "datas": base64.b64encode(pdf),
            "res_model": "res.company",
            "res_id": company.id,
            "mimetype": "application/pdf",
        })
        recipients = company._complaint_report_recipients()
        template = self.env.ref("complaint_handling.mail_template_complaint_monthly_report")
        template.with_context(month_label=label).send_mail(
            company.id,
            email_values={"recipient_ids": [Command.set(recipients.ids)],
                          "attachment_ids": [Command.link(attachment.id)]},
        )
        company.complaint_report_last_month = month_start
        return recipients
