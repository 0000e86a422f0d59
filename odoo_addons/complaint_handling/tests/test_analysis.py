from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestComplaintReport(ComplaintCommon):
    """The statistics of a small hand-built month, asserted exactly."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_public_holiday(date(2026, 10, 5))

    def ended_case(self, received, responded, closed, sheet_rounds=0, **values):
        case = self.create_case(received_date=received, **values)
        case._workflow_write({"first_response_date": responded})
        if sheet_rounds:
            sheet = self.env["complaint.contact.sheet"].create({"case_id": case.id, "defect_description": "Lid."})
            sheet.sudo()._workflow_write({"verification_round": sheet_rounds})
        case._set_state("closed", close_date=closed, resolved_date=closed)
        return case

    def test_month_figures(self):
        with freeze_time("2026-10-12 09:00:00"):
            # Thursday 10:00 → Tuesday 10:00, over a weekend and Monday's holiday:
            # 6 h + 8 h + 0 + 2 h = 2 working days. Answered in 30 minutes.
            a = self.ended_case(datetime(2026, 10, 1, 10, 0), datetime(2026, 10, 1, 10, 30),
                                datetime(2026, 10, 6, 10, 0), sheet_rounds=2)
            a._workflow_write({"satisfaction_rating": "4"})
            # Friday 16:00 → next Friday 16:00: 1 h + 0 (holiday) + 8 + 8 + 8 + 7 h = 4 working
            # days. First answer 73 hours later: the 24-hour response limit is breached.
            b = self.ended_case(datetime(2026, 10, 2, 16, 0), datetime(2026, 10, 5, 17, 0),
                                datetime(2026, 10, 9, 16, 0), category_id=self.category_logistics.id)
            b._workflow_write({"satisfaction_rating": "2", "reopen_count": 1})
            # Still open, within its limits, not answered yet.
            c = self.create_case(received_date=datetime(2026, 10, 12, 8, 30))
            self.env.flush_all()
        self.assertEqual((a.sla_status, b.sla_status, c.sla_status), ("met", "breached", "on_track"))

        Report = self.env["complaint.report"]
        domain = [("case_id", "in", (a | b | c).ids)]
        [[count, sla, first, hours, days, reopen, satisfaction, sheets, rounds]] = Report._read_group(
            domain, [], ["case_count:sum", "sla_met_rate:avg", "first_response_met_rate:avg",
                         "response_time_hours:avg", "close_working_days:avg", "reopen_rate:avg",
                         "satisfaction_score:avg", "with_contact_sheet:sum", "contact_sheet_rounds:sum"],
        )
        self.assertEqual(count, 3)
        self.assertAlmostEqual(sla, 50.0, msg="met and breached count; the open case is not known yet")
        # A on time, B late, C past its limit today without an answer.
        self.assertAlmostEqual(first, 100.0 / 3, places=4)
        self.assertAlmostEqual(hours, (0.5 + 73.0) / 2)
        self.assertAlmostEqual(days, (2.0 + 4.0) / 2)
        self.assertAlmostEqual(reopen, 50.0)
        self.assertAlmostEqual(satisfaction, 3.0)
        self.assertEqual((sheets, rounds), (1, 2))

        by_category = dict(Report._read_group(domain, ["category_id"], ["case_count:sum"]))
        self.assertEqual(by_category, {self.category_quality: 2, self.category_logistics: 1})
        by_month = Report._read_group(domain, ["received_date:month"], ["case_count:sum"])
        self.assertEqual([n for _month, n in by_month], [3])

    def test_users_see_the_statistics_of_their_cases_only(self):
        mine = self.create_case(user=self.agent_logistics, category_id=self.category_logistics.id)
        other = self.create_case(user=self.officer)
        self.env.flush_all()
        seen = self.env["complaint.report"].with_user(self.agent_logistics).search([]).case_id
        self.assertIn(mine, seen)
        self.assertNotIn(other, seen)


@tagged("post_install", "-at_install")
class TestRecurrence(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({"name": "Kettle KT-300 (test)", "type": "consu"})
        cls.company.write({"complaint_recurrence_count": 3, "complaint_recurrence_days": 30})

    def case_on(self, day):
        return self.create_case(product_id=self.product.id, received_date=day)

    def test_third_case_within_window_makes_a_series(self):
        first = self.case_on(datetime(2026, 9, 1, 9, 0))
        second = self.case_on(datetime(2026, 9, 10, 9, 0))
        other_category = self.create_case(product_id=self.product.id, received_date=datetime(2026, 9, 12),
                                          category_id=self.category_logistics.id)
        self.assertFalse((first | second | other_category).filtered("is_recurring"), "N-1 cases: not yet")
        third = self.case_on(datetime(2026, 9, 25, 9, 0))
        series = first | second | third
        self.assertEqual(series.mapped("is_recurring"), [True] * 3)
        self.assertEqual(series.recurrence_root_id, first)
        self.assertEqual(third.recurrence_count, 3)
        self.assertEqual(set(third.recurrence_case_ids.ids), {first.id, second.id})
        self.assertFalse(other_category.is_recurring)
        activities = first.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("complaint_handling.mail_activity_type_complaint_recurrence"))
        self.assertIn(self.quality, activities.user_id, "QA traces the root cause once")
        self.assertFalse(third.activity_ids.filtered(lambda a: a.activity_type_id == activities.activity_type_id))
        # A fourth case joins the series; one 31 days after the last does not start a new one alone.
        fourth = self.case_on(datetime(2026, 9, 28, 9, 0))
        self.assertEqual(fourth.recurrence_root_id, first)
        late = self.case_on(datetime(2026, 10, 30, 9, 0))
        self.assertFalse(late.is_recurring)

    def test_contact_sheet_opened_when_configured(self):
        self.company.complaint_recurrence_action = "contact_sheet"
        first = self.case_on(datetime(2026, 9, 1, 9, 0))
        first.user_id = self.officer
        self.case_on(datetime(2026, 9, 2, 9, 0))
        self.case_on(datetime(2026, 9, 3, 9, 0))
        sheet = first.contact_sheet_ids
        self.assertEqual(len(sheet), 1)
        self.assertEqual((sheet.state, sheet.sales_user_id, sheet.product_id), ("draft", self.officer, self.product))
        self.assertEqual(sheet.quantity_affected, 3)


@tagged("post_install", "-at_install")
class TestArchiving(ComplaintCommon):
    def ended_on(self, day):
        case = self.create_case()
        case._set_state("closed", close_date=day)
        return case

    def test_archiving_respects_retention_and_the_setting(self):
        now = fields.Datetime.now()
        old = self.ended_on(now - timedelta(days=400))
        recent = self.ended_on(now - timedelta(days=100))
        still_open = self.create_case(received_date=now - timedelta(days=500))
        Case = self.env["complaint.case"]
        self.company.complaint_archive_enabled = False
        Case._cron_archive_after_retention()
        self.assertTrue(old.active, "off by default: nothing is archived")
        self.company.complaint_archive_enabled = True
        Case._cron_archive_after_retention()
        self.assertFalse(old.active)
        self.assertTrue(recent.active, "within retention")
        self.assertTrue(still_open.active, "open cases are never archived")
        self.assertTrue(old.exists(), "archived, not deleted")
