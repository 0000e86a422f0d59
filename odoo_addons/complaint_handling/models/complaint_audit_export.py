import csv
import io
import logging
import re
import tempfile
import zipfile
from datetime import datetime, time, timedelta

from markupsafe import Markup

from odoo import _, _lt, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..tools import Transition, attach_file, download_action, download_url


_logger = logging.getLogger(__name__)

DOSSIER_REPORT = "complaint_handling.action_report_complaint_case_dossier"
# Cases rendered by one wkhtmltopdf run; Odoo splits the PDF per case.
RENDER_BATCH = 25
GROUP_OFFICER = "complaint_handling.group_complaint_officer"
GROUP_QUALITY = "complaint_handling.group_complaint_quality"
# What an export keeps from its request on.
PERIOD_FIELDS = {"date_from", "date_to", "company_id"}


def _safe_filename(name):
    """A file name that stays one entry of the ZIP on every system."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name or "").strip(" .")
    return cleaned[:120] or "file"


EXPORT_STATES = [
    ("draft", "Draft"),
    ("queued", "Being Prepared"),
    ("done", "Ready"),
    ("failed", "Failed"),
]


class ComplaintAuditExport(models.Model):
    """Audit export: every case received in a period, archived ones too,
    each with its dossier (the case, its contact sheets and its full
    history) as a PDF and its attached files, in one ZIP with an index.

    Kept as a record, so the company knows who exported which customers'
    complaints and when. Small periods are exported at once; larger ones
    by a scheduled action, which tells the requester when the ZIP is ready.
    The export reads the cases with the requester's rights."""

    _name = "complaint.audit.export"
    _description = "Complaint Audit Export"
    _inherit = ["mail.thread", "complaint.workflow.mixin"]
    _order = "id desc"
    _transitions = {
        "action_export": Transition(_lt("export"), ("draft", "failed"), (GROUP_OFFICER, GROUP_QUALITY)),
    }

    name = fields.Char(compute="_compute_name", store=True)
    state = fields.Selection(EXPORT_STATES, default="draft", required=True, readonly=True, tracking=True)
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
    exported_count = fields.Integer(string="Cases Exported", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", string="ZIP", readonly=True, copy=False)
    done_date = fields.Datetime(string="Ready On", readonly=True, copy=False)
    error_message = fields.Text(string="Error", readonly=True, copy=False)

    @api.depends("date_from", "date_to")
    def _compute_name(self):
        for export in self:
            export.name = _("Audit %(start)s to %(end)s", start=export.date_from, end=export.date_to)

    def write(self, vals):
        if PERIOD_FIELDS & set(vals) and any(export.state != "draft" for export in self):
            raise UserError(_("An export keeps the period it was requested for; create a new one."))
        return super().write(vals)

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for export in self:
            if export.date_from > export.date_to:
                raise ValidationError(_("From: the period starts on %(start)s, after its end %(end)s.",
                                        start=export.date_from, end=export.date_to))

    @api.depends("date_from", "date_to", "company_id")
    def _compute_case_count(self):
        Case = self.env["complaint.case"].with_context(active_test=False)
        for export in self:
            valid = export.date_from and export.date_to and export.date_from <= export.date_to
            export.case_count = Case.search_count(export._cases_domain()) if valid else 0

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

    def _zip_content(self, cases):
        """The ZIP: index.csv (UTF-8, opens in Excel), then per case
        <number>/<number>.pdf and <number>/attachments/<files>."""
        self.ensure_one()
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

    # ------------------------------------------------------------------
    # Export, at once or in the background
    # ------------------------------------------------------------------
    def action_export(self):
        """Export now when the period is small; else queue it for the
        scheduled action, which tells the requester when it is ready."""
        self.ensure_one()
        self._check_transition("action_export")
        count = self.case_count
        if not count:
            raise UserError(_("No complaint was received between %(start)s and %(end)s: nothing to export.",
                              start=self.date_from, end=self.date_to))
        limit = self.company_id.complaint_audit_export_sync_limit
        if count > limit:
            self._workflow_write({"state": "queued", "error_message": False})
            self.env.ref("complaint_handling.ir_cron_complaint_audit_export")._trigger()
            self.message_post(
                body=_("%(count)s complaints: the ZIP is being prepared in the background; you will be "
                       "notified here when it is ready.", count=count),
                subtype_xmlid="mail.mt_note",
            )
            return True
        self._run()
        return self.action_download()

    def action_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(_("Export %s is not ready yet.", self.name))
        return download_action(self.attachment_id)

    def _run(self):
        """Build the ZIP with the requester's rights and attach it."""
        self.ensure_one()
        cases = self._cases()
        content = self._zip_content(cases)
        filename = _("Complaint audit %(start)s to %(end)s.zip", start=self.date_from, end=self.date_to)
        attachment = attach_file(self, filename, content, "application/zip")
        self._workflow_write({"state": "done", "attachment_id": attachment.id, "exported_count": len(cases),
                            "done_date": fields.Datetime.now(), "error_message": False})

    @api.model
    def _cron_run_queued_exports(self):
        """The queued exports, oldest first, each with its requester's
        rights; a failure is recorded on the export and told to the
        requester, and the others go on."""
        for export in self.search([("state", "=", "queued")], order="id"):
            requester = export.create_uid
            try:
                with self.env.cr.savepoint():
                    export.with_user(requester).with_company(export.company_id)._run()
            except Exception as error:  # noqa: BLE001 - recorded on the export
                _logger.exception("Audit export %s failed", export.id)
                export._workflow_write({"state": "failed", "error_message": str(error)})
                export.message_post(
                    body=_("The export failed: %s", error), partner_ids=requester.partner_id.ids,
                    subtype_xmlid="mail.mt_comment",
                )
                continue
            export.message_post(
                body=_("The ZIP of %(count)s complaints is ready: %(link)s", count=export.exported_count,
                       link=Markup('<a href="%s">%s</a>') % (
                           download_url(export.attachment_id), export.attachment_id.name)),
                partner_ids=requester.partner_id.ids, subtype_xmlid="mail.mt_comment",
            )
