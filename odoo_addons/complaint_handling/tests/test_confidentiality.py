import base64
import csv
import io
import zipfile
from datetime import date, datetime

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ComplaintCommon

DOSSIER_REPORT = "complaint_handling.action_report_complaint_case_dossier"
SHEET_REPORT = "complaint_handling.action_report_complaint_contact_sheet"
MONTHLY_REPORT = "complaint_handling.action_report_complaint_monthly"
MINUTES_REPORT = "complaint_handling.action_report_complaint_review_minutes"


@tagged("post_install", "-at_install")
class TestConfidentiality(ComplaintCommon):
    """A case's customer, order and subject show only to who may read the
    case, whatever the way to them. The agent (Production) may not read
    the Logistics case `hidden`; QA and the officer may, and the agent
    reads `visible`, a case of Production."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order = cls.env["sale.order"].create({"partner_id": cls.customer.id})
        cls.hidden = cls.create_case(
            subject="Kettle burnt Wang Fang's kitchen", customer_name="Wang Fang",
            sale_order_id=cls.order.id, responsible_department_id=cls.dept_logistics.id,
            received_date=datetime(2024, 10, 7, 9),
        )
        cls.visible_customer = cls.env["res.partner"].create({"name": "Zhao Lei"})
        cls.visible = cls.create_case(
            subject="Zhao Lei's lid cracked", partner_id=cls.visible_customer.id, customer_name="Zhao Lei",
            responsible_department_id=cls.dept_production.id, received_date=datetime(2024, 10, 8, 9),
        )
        cls.Sheet = cls.env["complaint.contact.sheet"]

    def assert_not_readable(self, case, user):
        with self.assertRaises(AccessError):
            case.with_user(user).read(["partner_id"])

    def html(self, report, records, user):
        return self.env["ir.actions.report"].with_user(user)._render_qweb_html(report, records.ids)[0].decode()

    # ------------------------------------------------------------------
    # Contact sheets: every complaint user reads them, not every case
    # ------------------------------------------------------------------
    def test_contact_sheet_shows_customer_and_order_only_with_the_case(self):
        self.assert_not_readable(self.hidden, self.agent)
        hidden_sheet = self.Sheet.create({"case_id": self.hidden.id, "lot_number": "L-1"})
        visible_sheet = self.Sheet.create({"case_id": self.visible.id, "lot_number": "L-2"})
        fields = ["partner_id", "customer_name", "sale_order_id", "case_state"]

        as_agent = hidden_sheet.with_user(self.agent).read(fields)[0]
        self.assertEqual(
            (as_agent["partner_id"], as_agent["customer_name"], as_agent["sale_order_id"], as_agent["case_state"]),
            (False, False, False, False), "the agent may not read the case: nothing of it shows",
        )
        as_quality = hidden_sheet.with_user(self.quality)
        self.assertEqual(as_quality.partner_id, self.customer, "QA reads quality cases: the customer shows")
        self.assertEqual(as_quality.customer_name, "Wang Fang")
        self.assertEqual(as_quality.sale_order_id, self.order)
        self.assertEqual(as_quality.case_state, "new")
        own = visible_sheet.with_user(self.agent)
        self.assertEqual((own.partner_id, own.customer_name), (self.visible_customer, "Zhao Lei"))

        # Searching by customer finds only the sheets whose case one may read.
        Sheet = self.Sheet.with_user(self.agent)
        self.assertFalse(Sheet.search([("partner_id", "=", self.customer.id)]))
        self.assertEqual(Sheet.search([("partner_id", "=", self.visible_customer.id)]), visible_sheet)
        self.assertEqual(
            self.Sheet.with_user(self.quality).search([("partner_id", "=", self.customer.id)]), hidden_sheet,
        )

        # The printed sheet, rendered as the reader: the case's number, not its customer or order.
        html = self.html(SHEET_REPORT, hidden_sheet, self.agent)
        self.assertIn(self.hidden.name, html)
        self.assertNotIn("Wang Fang", html)
        self.assertNotIn(self.order.name, html)
        html = self.html(SHEET_REPORT, hidden_sheet, self.quality)
        self.assertIn("Wang Fang", html)
        self.assertIn(self.order.name, html)

    # ------------------------------------------------------------------
    # Approval steps
    # ------------------------------------------------------------------
    def test_approval_step_names_only_readable_documents(self):
        Review = self.env["complaint.approval.review"]
        hidden_step, visible_step = Review.create([
            {"name": "Department head", "res_model": "complaint.case", "res_id": case.id,
             "company_id": self.company.id}
            for case in (self.hidden, self.visible)
        ])
        self.assertEqual(hidden_step.with_user(self.agent).document_name, "Complaint Case (restricted)")
        self.assertEqual(hidden_step.with_user(self.officer).document_name, self.hidden.name)
        self.assertEqual(visible_step.with_user(self.agent).document_name, self.visible.name)
        notice = self.env["complaint.penalty.notice"].create({"period": "2024-11"})
        notice_step = Review.create({"name": "General manager", "res_model": notice._name, "res_id": notice.id,
                                     "company_id": self.company.id})
        self.assertEqual(notice_step.with_user(self.finance).document_name, notice.name)
        self.assertEqual(notice_step.with_user(self.agent).document_name, "Reward/Penalty Notice (restricted)")

    # ------------------------------------------------------------------
    # Reward/penalty notices: finance sees case numbers only
    # ------------------------------------------------------------------
    def test_penalty_notice_from_the_review_names_cases_by_number_only(self):
        serious = self.create_case(subject="Kettle burnt Wang Fang's kitchen", urgency="urgent",
                                   customer_name="Wang Fang")
        self.advance(serious, "closed")
        serious._workflow_write({"close_date": datetime(2024, 3, 15, 10)})
        wizard = self.env["complaint.penalty.review.wizard"].with_user(self.gm).create({"year": 2024, "month": "3"})
        self.assertIn(serious, wizard.line_ids.case_id)
        wizard.line_ids.write({"amount": 100.0})
        notice = self.env["complaint.penalty.notice"].browse(wizard.action_create_notice()["res_id"])
        line = notice.line_ids.filtered(lambda l: serious in l.case_ids)
        self.assertIn(serious.name, line.reason)
        notice._set_state("sent_to_finance")

        as_finance = line.with_user(self.finance).read(["reason", "case_refs"])[0]
        self.assertIn(serious.name, as_finance["case_refs"])
        for text in (as_finance["reason"], self.html("complaint_handling.action_report_complaint_penalty_notice",
                                                     notice, self.finance)):
            self.assertIn(serious.name, text)
            self.assertNotIn("Wang Fang", text)
            self.assertNotIn("kitchen", text)
        export = self.env["complaint.penalty.export.wizard"].with_user(self.finance).create(
            {"period": notice.period, "file_format": "csv"})
        export.action_export()
        content = base64.b64decode(export.data).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        self.assertIn(serious.name, content)
        self.assertEqual(len(rows), len(notice.line_ids) + 1)
        self.assertNotIn("Wang Fang", content)
        self.assertNotIn("kitchen", content)

    # ------------------------------------------------------------------
    # The dossier reads the case with elevated rights
    # ------------------------------------------------------------------
    def test_dossier_is_printed_only_for_who_may_read_the_case(self):
        with self.assertRaises(AccessError):
            self.html(DOSSIER_REPORT, self.hidden, self.agent)
        self.assertIn("Zhao Lei", self.html(DOSSIER_REPORT, self.visible, self.agent))
        self.assertIn("Wang Fang", self.html(DOSSIER_REPORT, self.hidden, self.officer))

    # ------------------------------------------------------------------
    # Monthly report and minutes: one reader's cases; mailed, no subjects
    # ------------------------------------------------------------------
    def test_monthly_report_lists_readable_cases_and_mails_no_subject(self):
        wizard = self.env["complaint.monthly.report.wizard"].with_user(self.agent).create({"month": date(2024, 10, 1)})
        overdue = [case["name"] for part in wizard._figures()["parts"] for case in part["overdue"]]
        self.assertIn(self.visible.name, overdue)
        self.assertNotIn(self.hidden.name, overdue, "the agent's report lists the cases the agent may read")
        html = self.html(MONTHLY_REPORT, wizard, self.agent)
        self.assertIn(self.visible.name, html)
        self.assertIn("Zhao Lei&#39;s lid cracked", html, "the reader's own cases with their subject")
        self.assertNotIn(self.hidden.name, html)
        self.assertNotIn("Wang Fang", html)
        officer_html = self.html(
            MONTHLY_REPORT,
            self.env["complaint.monthly.report.wizard"].with_user(self.officer).create({"month": date(2024, 10, 1)}),
            self.officer,
        )
        self.assertIn("Kettle burnt Wang Fang&#39;s kitchen", officer_html)

        # Sent by the scheduled action to several recipients: numbers and categories only.
        Wizard = self.env["complaint.monthly.report.wizard"]
        Wizard._send_monthly_report(self.company, date(2024, 10, 1))
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "res.company"), ("name", "=", "Complaint report 2024-10.pdf")])
        mailed = attachment.raw.decode()
        self.assertIn(self.hidden.name, mailed)
        self.assertIn(self.visible.name, mailed)
        self.assertIn(self.category_quality.name, mailed)
        self.assertNotIn("Wang Fang", mailed)
        self.assertNotIn("Zhao Lei", mailed)

    def test_meeting_minutes_list_readable_cases_and_mail_no_subject(self):
        meeting = self.env["complaint.review.meeting"].create({
            "name": "Review October 2024", "chair_id": self.gm.id,
            "attendee_ids": [Command.set((self.agent | self.quality).ids)],
            "period_start": date(2024, 10, 1), "period_end": date(2024, 10, 31),
            "case_ids": [Command.set((self.hidden | self.visible).ids)],
        })
        self.env.invalidate_all()  # as in a new request: the agent reads the cases the agent may read
        printed = self.html(MINUTES_REPORT, meeting, self.agent)
        self.assertIn("Zhao Lei&#39;s lid cracked", printed)
        self.assertNotIn(self.hidden.name, printed)
        self.assertNotIn("Wang Fang", printed)
        self.env.invalidate_all()
        self.assertIn("Wang Fang", self.html(MINUTES_REPORT, meeting, self.officer))

        self.env.invalidate_all()
        meeting.with_user(self.officer).action_hold()
        meeting.with_user(self.officer).action_send_minutes()
        mailed = meeting.message_ids[0].attachment_ids.raw.decode()
        self.assertIn(self.hidden.name, mailed)
        self.assertIn(self.visible.name, mailed)
        self.assertNotIn("Wang Fang", mailed)
        self.assertNotIn("Zhao Lei", mailed)

    # ------------------------------------------------------------------
    # Dashboard and audit export: the user's own rights
    # ------------------------------------------------------------------
    def test_dashboard_counts_only_readable_cases(self):
        logistics = self.dept_logistics
        self.assertEqual(logistics.with_user(self.agent).complaint_open_count, 0)
        self.assertEqual(logistics.with_user(self.agent_logistics).complaint_open_count, 1)
        self.assertEqual(logistics.with_user(self.officer).complaint_open_count, 1)

    def test_audit_export_in_the_background_reads_with_the_requester_rights(self):
        not_quality = self.create_case(
            subject="Driver shouted at Li Na", customer_name="Li Na", category_id=self.category_logistics.id,
            quality_related=False, responsible_department_id=self.dept_logistics.id,
            received_date=datetime(2024, 10, 9, 9),
        )
        self.assert_not_readable(not_quality, self.quality)
        self.company.complaint_audit_export_sync_limit = 0
        export = self.env["complaint.audit.export"].with_user(self.quality).create(
            {"date_from": date(2024, 10, 1), "date_to": date(2024, 10, 31)})
        export.action_export()
        self.assertEqual(export.state, "queued")
        self.env["complaint.audit.export"]._cron_run_queued_exports()
        self.assertEqual(export.state, "done")
        archive = zipfile.ZipFile(io.BytesIO(export.attachment_id.raw))
        folders = {name.split("/")[0] for name in archive.namelist() if "/" in name}
        self.assertIn(self.hidden.name, folders, "QA reads every quality case")
        self.assertNotIn(not_quality.name, folders)
        content = b"".join(archive.read(name) for name in archive.namelist()).decode()
        self.assertIn("Wang Fang", content)
        self.assertNotIn("Li Na", content)
        self.assertNotIn(not_quality.name, content)
