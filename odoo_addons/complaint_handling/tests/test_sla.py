from datetime import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import ComplaintCommon

# Thursday 30 April 2026, 10:00 UTC; Friday 1 May is a public holiday.
THURSDAY = datetime(2026, 4, 30, 10, 0)


@tagged("post_install", "-at_install")
class TestSla(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["resource.calendar.leaves"].create(
            {
                "name": "Labour Day",
                "calendar_id": cls.calendar.id,
                "date_from": datetime(2026, 5, 1, 0, 0),
                "date_to": datetime(2026, 5, 1, 23, 59),
                "resource_id": False,
            }
        )

    def test_general_deadlines_skip_weekend_and_holiday(self):
        case = self.create_case(received_date=THURSDAY, urgency="general")
        # Response: 24 h around the clock.
        self.assertEqual(case.response_deadline, datetime(2026, 5, 1, 10, 0))
        # Resolve: 5 working days after Thursday: Mon 4, Tue 5, Wed 6, Thu 7, Fri 8 (Fri 1 is a holiday).
        self.assertEqual(case.resolve_deadline, datetime(2026, 5, 8, 17, 0))
        # Overdue after 7 working days: ... Mon 11, Tue 12.
        self.assertEqual(case.overdue_deadline, datetime(2026, 5, 12, 17, 0))

    def test_important_and_urgent(self):
        important = self.create_case(received_date=THURSDAY, urgency="important")
        self.assertEqual(important.resolve_deadline, datetime(2026, 5, 6, 17, 0))
        urgent = self.create_case(received_date=THURSDAY, urgency="urgent")
        self.assertEqual(urgent.response_deadline, datetime(2026, 4, 30, 11, 0))
        self.assertEqual(urgent.resolve_deadline, datetime(2026, 5, 1, 10, 0))

    def test_email_acknowledgement_in_working_hours_over_holiday_weekend(self):
        received = datetime(2026, 4, 30, 16, 30)
        case = self.create_case(received_date=received, channel="email")
        # Half an hour on Thursday, then Friday (holiday) and the weekend are skipped.
        self.assertEqual(case.response_deadline, datetime(2026, 5, 4, 8, 30))
        self.assertEqual(case.sla_response_policy_id, self.env.ref("complaint_handling.sla_policy_email"))
        # The resolution target still comes from the urgency.
        self.assertEqual(case.sla_resolve_policy_id, self.env.ref("complaint_handling.sla_policy_general"))

    def test_online_chat_fifteen_minutes(self):
        case = self.create_case(received_date=THURSDAY, channel="online_chat")
        self.assertEqual(case.response_deadline, datetime(2026, 4, 30, 10, 15))

    def test_category_policy_is_more_specific_than_urgency(self):
        self.env["complaint.sla.policy"].create(
            {"name": "Quality: 2 days", "urgency": "general", "category_id": self.category_quality.id,
             "resolve_days": 2}
        )
        case = self.create_case(received_date=THURSDAY)
        self.assertEqual(case.resolve_deadline, datetime(2026, 5, 5, 17, 0))

    def test_status_on_track_at_risk_breached(self):
        with freeze_time(THURSDAY):
            case = self.create_case(received_date=THURSDAY)
            self.assertEqual(case.sla_status, "on_track")
            case.action_acknowledge()
            self.send_acknowledgements()
        with freeze_time("2026-05-08 09:00:00"):
            self.env["complaint.case"]._cron_check_sla()
            self.assertEqual(case.sla_status, "at_risk")
        with freeze_time("2026-05-08 17:01:00"):
            self.env["complaint.case"]._cron_check_sla()
            self.assertEqual(case.sla_status, "breached")
            self.assertFalse(case.is_overdue)
        with freeze_time("2026-05-12 17:01:00"):
            self.env["complaint.case"]._cron_check_sla()
            self.assertTrue(case.is_overdue)

    def test_missed_first_response_breaches(self):
        with freeze_time(THURSDAY):
            case = self.create_case(received_date=THURSDAY, urgency="urgent")
        with freeze_time("2026-04-30 11:05:00"):
            self.env["complaint.case"]._cron_check_sla()
            self.assertEqual(case.sla_status, "breached")

    def test_met_when_replied_in_time_and_durations(self):
        with freeze_time(THURSDAY):
            case = self.create_case(received_date=THURSDAY)
        with freeze_time("2026-04-30 12:00:00"):
            self.advance(case, "replied")
        self.assertEqual(case.sla_status, "met")
        self.assertAlmostEqual(case.response_time_hours, 2.0)
        with freeze_time("2026-05-05 12:00:00"):
            self.advance(case, "closed")
        self.assertEqual(case.sla_status, "met")
        # Working time from Thu 10:00 to Tue 12:00: Thu 6 h, Mon 8 h, Tue 4 h = 0.75 + 1 + 0.5 days.
        self.assertAlmostEqual(case.close_working_days, 2.25, places=2)
        self.assertAlmostEqual(case.close_hours, 122.0)

    def test_breach_escalates_once_to_manager_and_cs_head(self):
        activity_type = self.env.ref("complaint_handling.mail_activity_type_complaint_escalation")
        with freeze_time(THURSDAY):
            urgent = self.create_case(received_date=THURSDAY, urgency="urgent", user_id=self.agent.id)
            general = self.create_case(received_date=THURSDAY, user_id=self.agent.id)
        with freeze_time("2026-04-30 12:00:00"):
            self.env["complaint.case"]._cron_check_sla()
            self.env["complaint.case"]._cron_check_sla()

        def escalated(case):
            return case.activity_ids.filtered(lambda a: a.activity_type_id == activity_type).user_id

        self.assertEqual(escalated(urgent), self.head_production | self.head_cs)
        self.assertEqual(len(urgent.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)), 2)
        self.assertTrue(urgent.sla_escalated_date)
        self.assertFalse(escalated(general), "a case on track is not escalated")
        self.assertEqual(general.sla_status, "on_track")
