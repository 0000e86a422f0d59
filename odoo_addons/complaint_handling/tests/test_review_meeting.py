from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestReviewMeeting(ComplaintCommon):
    def test_prefill_actions_reminders_and_minutes(self):
        urgent = self.create_case(urgency="urgent", received_date=datetime(2024, 3, 4, 9))
        serious = self.create_case(received_date=datetime(2024, 3, 5, 9))
        serious.is_serious = True
        ordinary = self.create_case(received_date=datetime(2024, 3, 6, 9))
        self.create_case(urgency="urgent", received_date=datetime(2024, 4, 2, 9))  # next month
        Meeting = self.env["complaint.review.meeting"]
        march = Meeting.create({
            "name": "Review March 2024", "date": datetime(2024, 4, 8, 9), "chair_id": self.gm.id,
            "attendee_ids": [Command.set((self.quality | self.head_production).ids)],
            "period_start": date(2024, 3, 1), "period_end": date(2024, 3, 31),
        })
        march.action_prefill_cases()
        self.assertEqual(march.case_ids, urgent | serious, "serious and urgent cases of the period only")
        self.assertNotIn(ordinary, march.case_ids)
        self.assertEqual((march.case_count, march.quality_case_count), (3, 3))

        due = date.today() + timedelta(days=10)
        march.action_ids = [Command.create({"name": "Train the packers", "user_id": self.head_production.id,
                                            "date_deadline": due})]
        action = march.action_ids
        self.assertEqual(action.activity_ids.user_id, self.head_production)
        Action = self.env["complaint.review.action"]
        with freeze_time(due - timedelta(days=5)):
            Action._cron_remind_due_actions()
        self.assertFalse(action.reminder_sent)
        with freeze_time(due - timedelta(days=2)):
            Action._cron_remind_due_actions()
        self.assertTrue(action.reminder_sent)
        with freeze_time(due + timedelta(days=1)):
            action.invalidate_recordset(["is_overdue"])
            self.assertTrue(action.is_overdue)
        action.user_id = self.quality
        self.assertEqual(action.activity_ids.user_id, self.quality, "a new owner gets the activity")
        self.assertFalse(action.reminder_sent, "and is reminded again")
        with self.assertRaisesRegex(UserError, "'state'.*cannot be written directly"):
            action.with_user(self.gm).write({"state": "done"})

        with self.assertRaises(UserError):
            march.action_send_minutes()  # not held yet
        march.action_hold()
        march.action_send_minutes()
        self.assertEqual(march.state, "minutes_sent")
        minutes = march.message_ids[0]
        self.assertIn(self.quality.partner_id, minutes.partner_ids)
        self.assertIn(self.gm.partner_id, minutes.partner_ids)
        self.assertTrue(minutes.attachment_ids, "the minutes are attached")

        april = Meeting.create({"name": "Review April 2024", "date": datetime(2024, 5, 6, 9),
                                "period_start": date(2024, 4, 1), "period_end": date(2024, 4, 30)})
        self.assertIn(action, april.earlier_open_action_ids, "open actions show at the next meeting")
        action.result_note = "Trained 12 packers."
        action.action_done()
        april.invalidate_recordset(["earlier_open_action_ids"])
        self.assertNotIn(action, april.earlier_open_action_ids)
