import base64
import json
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import ComplaintCommon

AUDIO = b"ID3\x04\x00 a recorded complaint " * 64


@tagged("post_install", "-at_install")
class TestCallRecording(HttpCase, ComplaintCommon):
    """Recordings the webhook bridge fetched, archived with the call as an
    attachment of the case: readable only by who can read the case, stored
    once, deleted with the case; a recording that could not be archived says
    so on the call and in the case's chatter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.case = cls.create_case(user=cls.agent)  # the agent's own case
        cls.call = cls.env["complaint.call"].create({
            "case_id": cls.case.id, "source_system": "aircall", "call_id": "812345678",
            "caller_number": "+8613800138000",
        })

    def report(self, ref="rec-1", **values):
        report = {"source_system": "aircall", "call_id": "812345678", "recording_ref": ref,
                  "url": "https://recordings.example/812345678.mp3",
                  "name": "aircall-812345678.mp3", "mimetype": "audio/mpeg",
                  "data": base64.b64encode(AUDIO).decode()}
        report.update(values)
        return report

    def archive(self, reports, user=None):
        return self.env["complaint.call"].with_user(user or self.intake_bot).archive_recording(reports)

    def test_archived_once_as_attachment_of_the_case(self):
        self.assertEqual(self.archive([self.report()]), [{"status": "archived", "error": False}])
        self.assertEqual(self.archive([self.report()]), [{"status": "duplicate", "error": False}])
        attachment = self.call.recording_attachment_id
        self.assertEqual(self.env["ir.attachment"].search_count(
            [("res_model", "=", "complaint.case"), ("res_id", "=", self.case.id)]), 1)
        self.assertEqual((attachment.res_model, attachment.res_id, attachment.mimetype),
                         ("complaint.case", self.case.id, "audio/mpeg"))
        self.assertEqual(base64.b64decode(attachment.datas), AUDIO)
        self.assertEqual(self.call.recording_status, "archived")
        self.assertIn(f'src="/web/content/{attachment.id}"', self.call.recording_player)
        note = self.case.message_ids.filtered(lambda m: attachment in m.attachment_ids)
        self.assertTrue(note, "the chatter shows the recording")
        # a failure reported later for the same call does not undo the archive
        self.assertEqual(self.archive([self.report(error="HTTP 404")])[0]["status"], "duplicate")
        self.assertEqual(self.call.recording_status, "archived")

    def test_readable_only_by_who_can_read_the_case(self):
        self.archive([self.report()])
        attachment = self.call.recording_attachment_id
        self.assertEqual(attachment.with_user(self.agent).datas, attachment.datas)
        self.assertEqual(attachment.with_user(self.officer).datas, attachment.datas)
        for outsider in (self.agent_logistics, self.plain_user):
            with self.assertRaises(AccessError):
                attachment.with_user(outsider).read(["datas"])
        # through the browser, as the player fetches it
        self.authenticate("agent", "agent")
        response = self.url_open(f"/web/content/{attachment.id}")
        self.assertEqual((response.status_code, response.content), (200, AUDIO))
        self.authenticate("agent_logistics", "agent_logistics")
        response = self.url_open(f"/web/content/{attachment.id}")
        self.assertIn(response.status_code, (403, 404))
        self.assertNotEqual(response.content, AUDIO)

    def test_only_the_intake_user_archives(self):
        with self.assertRaises(AccessError):
            self.archive([self.report()], user=self.agent)
        # nor may anyone set the archive's facts by hand
        with self.assertRaises(AccessError):
            self.call.with_user(self.officer).write({"recording_status": "archived"})

    def test_failure_is_shown_on_the_call_and_case(self):
        reason = "the provider refused the download (HTTP 403): the link expired"
        self.assertEqual(self.archive([self.report(error=reason)])[0]["status"], "failed")
        self.assertEqual((self.call.recording_status, self.call.recording_error), ("failed", reason))
        self.assertTrue(self.case.message_ids.filtered(lambda m: reason in m.body))
        # a later successful fetch of the recording replaces the failure
        self.assertEqual(self.archive([self.report(ref="rec-2")])[0]["status"], "archived")
        self.assertFalse(self.call.recording_error)

    def test_unknown_call_waits_and_bad_reports_get_their_error(self):
        results = self.archive([
            self.report(call_id="not-yet"),
            self.report(mimetype="text/html"),
            self.report(data="not base64!"),
            self.report(recording_ref=None),
            "nonsense",
        ])
        self.assertEqual(results[0]["status"], "waiting")
        self.assertIn("'mimetype'", results[1]["error"])
        self.assertIn("'data': not valid base64", results[2]["error"])
        self.assertIn("'recording_ref': required", results[3]["error"])
        self.assertEqual([r["status"] for r in results[1:]], ["error"] * 4)
        self.assertFalse(self.call.recording_status)

    def test_over_json_rpc_as_the_bridge_calls_it(self):
        key = self.env["res.users.apikeys"].with_user(self.intake_bot).sudo()._generate(
            None, "bridge (test)", fields.Datetime.now() + timedelta(days=1))
        body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": [self.env.cr.dbname, self.intake_bot.id, key, "complaint.call",
                     "archive_recording", [[self.report()]]]}}
        response = self.url_open("/jsonrpc", data=json.dumps(body),
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(response.json()["result"], [{"status": "archived", "error": False}])

    def test_deleted_with_the_case(self):
        self.archive([self.report()])
        attachment = self.call.recording_attachment_id
        case = self.case.with_env(self.env)
        with freeze_time(fields.Datetime.now() - timedelta(days=400)):
            self.advance(case, "closed")
        case.unlink()
        self.assertFalse(attachment.exists())
        self.assertFalse(self.call.exists())
