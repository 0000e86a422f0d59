import base64
import io
import zipfile
from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestMonthlyReport(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for day, category in ((datetime(2024, 10, 5, 9), cls.category_quality),
                              (datetime(2024, 10, 6, 9), cls.category_quality),
                              (datetime(2024, 10, 7, 9), cls.category_logistics),
                              (datetime(2024, 9, 7, 9), cls.category_quality),
                              (datetime(2023, 10, 7, 9), cls.category_logistics),
                              (datetime(2023, 10, 8, 9), cls.category_logistics)):
            cls.create_case(received_date=day, category_id=category.id)
        cls.wizard = cls.env["complaint.monthly.report.wizard"].create({"month": date(2024, 10, 17)})

    def test_figures_trend_and_parts(self):
        figures = self.wizard._figures()
        self.assertEqual(figures["month_label"], "2024-10")
        self.assertEqual((figures["total"], figures["previous"], figures["last_year"]), (3, 1, 2))
        self.assertEqual((figures["trend_previous"], figures["trend_last_year"]), (200.0, 50.0))
        quality, other = figures["parts"]
        self.assertEqual((quality["count"], quality["previous"], quality["last_year"]), (2, 1, 0))
        self.assertIsNone(quality["trend_last_year"], "nothing to compare with")
        self.assertEqual((other["count"], other["last_year"]), (1, 2))
        self.assertEqual(quality["by_category"], [{"label": self.category_quality.name, "count": 2}])
        self.assertEqual(other["by_channel"], [{"label": "Phone", "count": 1}])

    def test_overdue_list_counts_all_and_lists_the_oldest(self):
        with patch("odoo.addons.complaint_handling.models.complaint_report.OVERDUE_LISTED", 2):
            quality, other = self.wizard._figures()["parts"]
            html = self.env["ir.actions.report"]._render_qweb_html(
                "complaint_handling.action_report_complaint_monthly", self.wizard.ids)[0].decode()
        # Still open and past their limit: everything received up to October.
        self.assertEqual((quality["overdue_count"], other["overdue_count"]), (3, 3))
        self.assertEqual([c["received"] for c in quality["overdue"]],
                         [datetime(2024, 9, 7, 9), datetime(2024, 10, 5, 9)], "the oldest first")
        self.assertIn("Listed, those received longest ago: 2", html)

    def test_pdf_and_xlsx(self):
        html = self.env["ir.actions.report"]._render_qweb_html(
            "complaint_handling.action_report_complaint_monthly", self.wizard.ids)[0].decode()
        self.assertIn("2024-10", html)
        self.assertIn("Quality Complaints (Quality Assurance)", html)
        self.assertIn("Other Complaints (Other Units)", html)
        action = self.wizard.action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        book = zipfile.ZipFile(io.BytesIO(base64.b64decode(attachment.datas)))
        self.assertEqual(len([n for n in book.namelist() if n.startswith("xl/worksheets/")]), 3)
        self.assertIn(b"Quality Complaints", book.read("xl/sharedStrings.xml"))

    def test_scheduled_email_on_first_working_day(self):
        self.add_public_holiday(date(2026, 11, 2))
        Wizard = self.env["complaint.monthly.report.wizard"]
        Mail = self.env["mail.mail"]
        subject = [("subject", "like", "Complaint report 2026-10")]
        # 1 November is a Sunday and the 2nd a holiday: the first working day is Tuesday the 3rd.
        self.assertEqual(Wizard._first_working_day(self.company, date(2026, 11, 1)), date(2026, 11, 3))
        with freeze_time("2026-11-02 10:00:00"):
            Wizard._cron_send_monthly_report()
        self.assertFalse(Mail.search(subject))
        with freeze_time("2026-11-03 10:00:00"):
            Wizard._cron_send_monthly_report()
            Wizard._cron_send_monthly_report()
        mails = Mail.search(subject)
        self.assertEqual(len(mails), 1, "once per month")
        self.assertIn(self.gm.partner_id, mails.recipient_ids)
        self.assertIn(self.quality.partner_id, mails.recipient_ids)
        self.assertNotIn(self.agent.partner_id, mails.recipient_ids)
        self.assertEqual(mails.attachment_ids.mimetype, "application/pdf")
        self.assertEqual(self.company.complaint_report_last_month, date(2026, 10, 1))
        # Configured recipients replace the default groups.
        self.company.complaint_report_group_ids = self.env.ref("complaint_handling.group_complaint_finance")
        recipients = self.company._complaint_report_recipients()
        self.assertIn(self.finance.partner_id, recipients)
        self.assertNotIn(self.gm.partner_id, recipients)
