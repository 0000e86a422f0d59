import base64
import csv
import io
import re
import zipfile
from datetime import date, datetime
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestAuditExport(ComplaintCommon):
    """The audit export: every case of the period, archived ones too, each
    with its dossier (history included) and its files, plus an index."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False, mail_notrack=False))
        cls.quality_case = cls.create_case(received_date=datetime(2026, 3, 2, 9, 0), subject="Lid cracks")
        cls.other_case = cls.create_case(
            received_date=datetime(2026, 3, 20, 9, 0), subject="Rude driver",
            category_id=cls.category_logistics.id, quality_related=False,
        )
        cls.outside = cls.create_case(received_date=datetime(2026, 4, 1, 9, 0), subject="Next month")
        # As if committed: later changes of these cases are tracked.
        cls.env.cr.precommit.run()

    def export(self, user=None, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)):
        Export = self.env["complaint.audit.export"].with_user(user or self.officer)
        export = Export.create({"date_from": date_from, "date_to": date_to})
        action = export.action_export()
        attachment = self.env["ir.attachment"].browse(int(re.search(r"/web/content/(\d+)", action["url"])[1]))
        self.assertEqual(attachment, export.attachment_id)
        return export, zipfile.ZipFile(io.BytesIO(base64.b64decode(attachment.datas)))

    def test_zip_holds_each_case_with_history_files_and_index(self):
        case = self.quality_case
        photo = self.env["ir.attachment"].create({
            "name": "lid/photo 1.jpg", "raw": b"\xff\xd8 photo bytes", "res_model": case._name, "res_id": case.id,
        })
        case.message_post(body="Customer sent the cracked lid by courier.", message_type="comment",
                          subtype_xmlid="mail.mt_note",
                          attachments=[("courier-slip.txt", b"slip 4711")])
        self.advance(case, "acknowledged")
        self.env.flush_all()
        self.env.cr.precommit.run()  # records the tracked changes, as a commit would
        self.env.invalidate_all()
        self.other_case.action_archive()

        export, archive = self.export()
        self.assertEqual((export.state, export.exported_count), ("done", 2))
        names = set(archive.namelist())
        q, o = self.quality_case.name, self.other_case.name
        self.assertIn("index.csv", names)
        self.assertIn(f"{q}/{q}.html", names, "the dossier (HTML under the test runner, PDF in production)")
        self.assertIn(f"{o}/{o}.html", names, "archived cases are part of the audit")
        self.assertFalse([n for n in names if n.startswith(self.outside.name + "/")], "outside the period")
        self.assertEqual(archive.read(f"{q}/attachments/{photo.id}-lid_photo 1.jpg"), b"\xff\xd8 photo bytes")
        slip = [n for n in names if n.startswith(f"{q}/attachments/") and n.endswith("-courier-slip.txt")]
        self.assertEqual(len(slip), 1, "chatter attachments are exported too")
        self.assertEqual(archive.read(slip[0]), b"slip 4711")

        dossier = archive.read(f"{q}/{q}.html").decode()
        self.assertIn(f"Complaint <span>{q}</span>", dossier)
        self.assertIn("Customer sent the cracked lid by courier.", dossier, "the chatter is in the history")
        self.assertRegex(dossier, r"State</span>: <span>New</span> → <span>Acknowledged",
                         "recorded changes are in the history")
        self.assertIn(f"{photo.id}-lid/photo 1.jpg", dossier, "the dossier lists the files")

        rows = list(csv.reader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
        header, body = rows[0], rows[1:]
        self.assertEqual([row[0] for row in body], [q, o], "in order of receipt")
        by_number = {row[0]: dict(zip(header, row)) for row in body}
        self.assertEqual(by_number[q]["Attachments"], "2")
        self.assertEqual(by_number[q]["Status"], "Acknowledged")
        self.assertEqual(by_number[q]["Archived"], "")
        self.assertEqual(by_number[o]["Archived"], "Yes")
        self.assertEqual(by_number[o]["Dossier"], f"{o}/{o}.html")

    def test_quality_exports_only_the_cases_it_may_read(self):
        _export, archive = self.export(user=self.quality)
        folders = {name.split("/")[0] for name in archive.namelist() if "/" in name}
        self.assertEqual(folders, {self.quality_case.name})

    def test_empty_period_is_refused(self):
        with self.assertRaisesRegex(UserError, "nothing to export"):
            self.export(date_from=date(2025, 1, 1), date_to=date(2025, 1, 31))

    def test_large_period_is_prepared_in_the_background(self):
        self.company.complaint_audit_export_sync_limit = 1
        export = self.env["complaint.audit.export"].with_user(self.officer).create(
            {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)})
        self.assertTrue(export.action_export())
        self.assertEqual(export.state, "queued")
        self.assertFalse(export.attachment_id)
        with self.assertRaisesRegex(UserError, "'state'.*cannot be written directly"):
            export.write({"state": "done"})
        with self.assertRaisesRegex(UserError, "keeps the period"):
            export.date_to = date(2026, 4, 30)
        self.env["complaint.audit.export"]._cron_run_queued_exports()
        self.assertEqual((export.state, export.exported_count), ("done", 2))
        self.assertEqual(export.attachment_id.mimetype, "application/zip")
        ready = export.message_ids[0]
        self.assertIn("is ready", ready.body)
        self.assertEqual(ready.partner_ids, self.officer.partner_id, "the requester is told")
        archive = zipfile.ZipFile(io.BytesIO(export.attachment_id.raw))
        self.assertIn(f"{self.quality_case.name}/{self.quality_case.name}.html", archive.namelist())
        # Who exported what stays on record: the requester and the GM office see it, others not.
        Export = self.env["complaint.audit.export"]
        self.assertEqual(Export.with_user(self.gm).search([("id", "=", export.id)]), export)
        self.assertFalse(Export.with_user(self.quality).search([("id", "=", export.id)]))

    def test_failed_background_export_is_recorded_and_others_go_on(self):
        self.company.complaint_audit_export_sync_limit = 0
        Export = self.env["complaint.audit.export"].with_user(self.officer)
        failing = Export.create({"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)})
        fine = Export.create({"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 15)})
        failing.action_export()
        fine.action_export()
        original = type(Export)._zip_content

        def zip_content(export, cases):
            if export == failing:
                raise UserError("wkhtmltopdf is not installed")
            return original(export, cases)

        with patch.object(type(Export), "_zip_content", zip_content), \
                mute_logger("odoo.addons.complaint_handling.models.complaint_audit_export"):
            self.env["complaint.audit.export"]._cron_run_queued_exports()
        self.assertEqual((failing.state, failing.error_message), ("failed", "wkhtmltopdf is not installed"))
        self.assertEqual((fine.state, fine.exported_count), ("done", 1))
