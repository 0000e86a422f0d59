import base64

from odoo.tests import Form, tagged

from .common import ComplaintCommon

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n not really an image").decode()


@tagged("post_install", "-at_install")
class TestIntakeThread(ComplaintCommon):
    """Messages of one conversation (a WeChat follower, a helpdesk ticket):
    one case while it is open, the later messages in its chatter."""

    def intake(self, payloads):
        return self.env["complaint.case"].with_user(self.intake_bot).intake(payloads)

    def message(self, ref, thread="oFollower-1", text="我的水壶盖子裂了", **values):
        item = {"channel": "social_media", "source_system": "wechat", "external_ref": ref,
                "thread_ref": thread, "customer": {"name": "WeChat follower"},
                "description": text}
        item.update(values)
        return item

    def posted(self, case, ref):
        return self.env["mail.message"].search([
            ("model", "=", "complaint.case"), ("res_id", "=", case.id), ("body", "ilike", ref),
        ])

    def test_later_messages_go_to_the_open_case(self):
        first, second, third = self.intake([
            self.message("m1"),
            self.message("m2", text="还有，底座也坏了",
                         attachments=[{"name": "photo.png", "mimetype": "image/png", "data": PNG}]),
            self.message("m3", text="请尽快处理"),
        ])
        self.assertEqual([r["status"] for r in (first, second, third)], ["created", "updated", "updated"])
        self.assertEqual({first["id"], second["id"], third["id"]}, {first["id"]})
        case = self.env["complaint.case"].browse(first["id"])
        self.assertEqual((case.thread_ref, case.external_ref, case.channel), ("oFollower-1", "m1", "social_media"))
        message = self.posted(case, "m2")
        self.assertEqual(len(message), 1)
        self.assertIn("底座也坏了", message.body)
        self.assertEqual(message.attachment_ids.mapped("name"), ["photo.png"])
        self.assertEqual(message.attachment_ids.res_id, case.id, "the image is stored with the case")
        self.assertEqual(len(self.posted(case, "m3")), 1)
        self.assertEqual(self.env["complaint.case"].search_count([("thread_ref", "=", "oFollower-1")]), 1)
        form = Form(case.with_user(self.officer))  # the officer sees whose conversation it is
        self.assertEqual(form.thread_ref, "oFollower-1")

    def test_each_message_once(self):
        created = self.intake([self.message("m1")])[0]
        updated = self.intake([self.message("m2")])[0]
        again = self.intake([self.message("m1"), self.message("m2"), self.message("m2")])
        self.assertEqual([r["status"] for r in again], ["duplicate", "duplicate", "duplicate"])
        self.assertEqual({r["id"] for r in again}, {created["id"]})
        self.assertEqual(updated["id"], created["id"])
        case = self.env["complaint.case"].browse(created["id"])
        self.assertEqual(len(self.posted(case, "m2")), 1, "a message delivered twice is posted once")

    def test_threads_are_scoped_by_source_and_follower(self):
        results = self.intake([
            self.message("m1"),
            self.message("m2", thread="oFollower-2"),
            self.message("m1", source_system="zendesk", thread="oFollower-1"),
        ])
        self.assertEqual([r["status"] for r in results], ["created"] * 3)
        self.assertEqual(len({r["id"] for r in results}), 3)

    def test_closed_case_then_a_new_case(self):
        # Acknowledging needs a way to reach the customer: this follower left a phone number.
        first = self.intake([self.message("m1", customer={"name": "Follower", "phone": "+86 138 0013 9911"})])[0]
        case = self.env["complaint.case"].browse(first["id"])
        case.write({"category_id": self.category_quality.id, "kind": "appeal"})
        self.advance(case, "closed")
        later = self.intake([self.message("m2", text="又坏了")])[0]
        self.assertEqual(later["status"], "created")
        self.assertNotEqual(later["id"], case.id)
        new_case = self.env["complaint.case"].browse(later["id"])
        self.assertEqual((new_case.thread_ref, new_case.external_ref), ("oFollower-1", "m2"))
        self.assertFalse(self.posted(case, "m2"), "nothing added to the closed case")
        self.assertEqual(self.intake([self.message("m1")])[0]["id"], case.id)
        self.assertEqual(self.intake([self.message("m1")])[0]["status"], "duplicate")
        self.assertEqual(self.intake([self.message("m3")])[0]["id"], new_case.id)

    def test_per_item_errors(self):
        results = self.intake([
            self.message("m1"),
            self.message("bad-thread", thread={"id": 1}),
            self.message("bad-image", attachments=[{"name": "photo.png", "data": "%%%"}]),
            self.message("with-call", call={"call_id": "CA1", "status": "completed"}),
            self.message("m2"),
        ])
        self.assertEqual([r["status"] for r in results], ["created", "error", "error", "error", "updated"])
        self.assertIn("item 1: field 'thread_ref': expected text", results[1]["error"])
        self.assertIn("item 2: field 'attachments[0].data': not valid base64", results[2]["error"])
        self.assertIn("item 3: field 'thread_ref'", results[3]["error"])
        self.assertEqual(results[4]["id"], results[0]["id"])
        case = self.env["complaint.case"].browse(results[0]["id"])
        self.assertFalse(self.posted(case, "bad-image"), "a bad message is not half-posted")
