import csv
import io
import logging
import re
import tempfile
import zipfile
from datetime import datetime, time, timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..tools import download_action

_logger = logging.getLogger(__name__)

DOSSIER_REPORT = "complaint_handling.action_report_complaint_case_dossier"
# Cases rendered by one wkhtmltopdf run; Odoo splits the PDF per case.
RENDER_BATCH = 25


def _safe_filename(name):
    """A file name that stays one entry of the ZIP on every system."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name or "").strip(" .")
    return cleaned[:120] or "file"


class ComplaintAuditExportWizard(models.TransientModel):
    """Audit export: every case received in a period, archived ones too,
    each with its dossier (the case, its contact sheets and its full
    history) as a PDF and its attached files, in one ZIP with an index."""

    _name = "complaint.audit.export.wizard"
    _description = "Complaint Audit Export"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date_from = fields.Date(
        string="From", required=True,
        default=lambda self: fields.Date.context_today(self).replace(month=1, day=1),
        help="First day of the period; cases received on or after it are exported.",
    )
    date_to = fields.Date(
        string="To", required=True, default=fields.Date.context_today,
        help="Last day of the period; cases received on or before it are exported.",
    )
    case_count = fields.Integer(string="Cases", compute="_compute_case_count")

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(_("From: the period starts on %(start)s, after its end %(end)s.",
                                        start=wizard.date_from, end=wizard.date_to))

    @api.depends("date_from", "date_to", "company_id")
    def _compute_case_count(self):
        Case = self.env["complaint.case"].with_context(active_test=False)
        for wizard in self:
            valid = wizard.date_from and wizard.date_to and wizard.date_from <= wizard.date_to
            wizard.case_count = Case.search_count(wizard._cases_domain()) if valid else 0

    def _cases_domain(self):
        """Cases received within the period, days counted like the monthly
        report and the review meetings."""
        self.ensure_one()
        return [
            ("company_id", "=", self.company_id.id),
            ("received_date", ">=", datetime.combine(self.date_from, time.min)),
            ("received_date", "<", datetime.combine(self.date_to + timedelta(days=1), time.min)),
        ]

    def _cases(self):
        """The cases the user may read, archived ones included."""
        return self.env["complaint.case"].with_context(active_test=False).search(
            self._cases_domain(), order="received_date, id"
        )

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------
    def _renders_html_only(self):
        # Like ir.actions.report._render_qweb_pdf: under the test runner
        # wkhtmltopdf would wait on the test's own transaction, so Odoo's
        # reports give their HTML there.
        return (tools.config["test_enable"] or tools.config["test_file"]) and not self.env.context.get(
            "force_report_rendering")

    def _render_dossiers(self, cases):
        """{case id: (content, extension)}: one PDF per case, rendered in
        batches where wkhtmltopdf allows; the HTML of the same dossier under
        the test runner."""
        Report = self.env["ir.actions.report"]
        if self._renders_html_only():
            return {
                case.id: (Report._render_qweb_html(DOSSIER_REPORT, case.ids)[0], "html") for case in cases
            }
        dossiers = {}
        one_by_one = False
        for start in range(0, len(cases), RENDER_BATCH):
            batch = cases[start:start + RENDER_BATCH]
            streams = None if one_by_one or len(batch) == 1 else self._render_batch(batch)
            one_by_one = streams is None
            streams = streams or {}
            for case in batch:
                if case.id in streams:
                    dossiers[case.id] = (streams[case.id]["stream"].getvalue(), "pdf")
                else:
                    dossiers[case.id] = (Report._render_qweb_pdf(DOSSIER_REPORT, case.ids)[0], "pdf")
        return dossiers

    def _render_batch(self, batch):
        """One wkhtmltopdf run for many cases, split per case by Odoo. Only
        an optimisation: a wkhtmltopdf built without Odoo's patched Qt
        cannot print several documents at once: None then, and the cases
        are printed one by one. When Odoo cannot split the PDF, the result
        lacks those cases, which are printed alone."""
        try:
            streams = self.env["ir.actions.report"]._render_qweb_pdf_prepare_streams(
                DOSSIER_REPORT, {}, res_ids=batch.ids
            )
        except Exception as error:  # noqa: BLE001 - any failure: print one by one
            _logger.warning("Audit export: printing %s dossiers at once failed (%s); printing them one by one.",
                            len(batch), error)
            return None
        return {case_id: stream for case_id, stream in streams.items() if case_id and stream.get("stream")}

    def _index_header(self):
        return [
            _("Number"), _("Received"), _("Customer"), _("Channel"), _("Category"), _("Kind"), _("Urgency"),
            _("Status"), _("Responsible Department"), _("Closed"), _("Archived"), _("Dossier"),
            _("Attachments"), _("Attachment Files"),
        ]

    def _index_row(self, case, dossier_path, attachment_paths):
        def label(field_name):
            field = case._fields[field_name]
            return dict(field._description_selection(self.env)).get(case[field_name], "") if case[field_name] else ""

        return [
            case.name,
            fields.Datetime.to_string(fields.Datetime.context_timestamp(case, case.received_date)),
            case.partner_id.display_name or case.customer_name or "",
            label("channel"),
            case.category_id.display_name or "",
            label("kind"),
            label("urgency"),
            label("state"),
            case.responsible_department_id.display_name or "",
            fields.Datetime.to_string(fields.Datetime.context_timestamp(case, case.close_date))
            if case.close_date else "",
            _("Yes") if not case.active else "",
            dossier_path,
            len(attachment_paths),
            "; ".join(attachment_paths),
        ]

    def _zip_content(self):
        """The ZIP: index.csv (UTF-8, opens in Excel), then per case
        <number>/<number>.pdf and <number>/attachments/<files>."""
        self.ensure_one()
        cases = self._cases()
        if not cases:
            raise UserError(_("No complaint was received between %(start)s and %(end)s: nothing to export.",
                              start=self.date_from, end=self.date_to))
        index = io.StringIO()
        writer = csv.writer(index)
        writer.writerow(self._index_header())
        with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spool:
            with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
                for start in range(0, len(cases), RENDER_BATCH * 4):
                    batch = cases[start:start + RENDER_BATCH * 4]
                    dossiers = self._render_dossiers(batch)
                    for case in batch:
                        folder = _safe_filename(case.name)
                        content, extension = dossiers[case.id]
                        dossier_path = f"{folder}/{folder}.{extension}"
                        archive.writestr(dossier_path, content)
                        attachment_paths = []
                        for attachment in case._audit_attachments():
                            path = f"{folder}/attachments/{attachment.id}-{_safe_filename(attachment.name)}"
                            archive.writestr(path, attachment.raw or b"")
                            attachment_paths.append(path)
                        writer.writerow(self._index_row(case, dossier_path, attachment_paths))
                    batch.invalidate_recordset()
                archive.writestr("index.csv", "\ufeff" + index.getvalue())
            spool.seek(0)
            return spool.read()

    def action_export(self):
        self.ensure_one()
        return download_action(
            self, _("Complaint audit %(start)s to %(end)s.zip", start=self.date_from, end=self.date_to),
            self._zip_content(), "application/zip",
        )
