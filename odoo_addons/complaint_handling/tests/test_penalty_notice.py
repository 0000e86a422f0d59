import base64
import csv
import io
from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestPenaltyNotice(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        G = "complaint_handling.group_complaint_"
        cls.gm_clerk = new_test_user(cls.env, login="gm_clerk", name="GM Clerk", groups=f"base.group_user,{G}gm_office")
        cls.hr_officer = new_test_user(cls.env, login="hr_officer", name="HR Officer", groups="base.group_user,hr.group_hr_user")
        cls.company.complaint_approval_threshold = 5000.0
        cls.Notice = cls.env["complaint.penalty.notice"]

    def closed_case(self, close_date, **values):
        case = self.create_case(**values)
        self.advance(case, "closed")
        case._workflow_write({"close_date": close_date})
        return case

    def notice(self, period="2024-04", lines=None, department=None):
        lines = lines or [("penalty", 300.0, "Late reply")]
        return self.Notice.with_user(self.gm_clerk).create({
            "period": period,
            "line_ids": [
                Command.create({
                    "employee_id": self.agent.employee_id.id if not department else False,
                    "department_id": (department or self.dept_production).id,
                    "kind": kind, "amount": amount, "reason": reason,
                })
                for kind, amount, reason in lines
            ],
        })

    def to_finance(self, notice):
        notice.with_user(self.gm_clerk).action_submit()
        notice.with_user(self.gm)._approval_approve("Approved.")
        notice.with_user(self.gm_clerk).action_send_to_finance()
        self.assertEqual(notice.state, "sent_to_finance")
        return notice

    def test_monthly_wizard_picks_exactly_the_serious_cases(self):
        march = datetime(2024, 3, 15, 10, 0)
        urgent = self.closed_case(march, urgency="urgent", subject="Urgent")
        claim = self.closed_case(datetime(2024, 3, 1, 0, 0), kind="claim", subject="Claim")
        flagged = self.closed_case(datetime(2024, 3, 31, 23, 59), is_serious=True, subject="Flagged")
        compensated = self.closed_case(march, subject="Compensated")
        self.env["complaint.solution.line"].create(
            {"case_id": compensated.id, "solution_type": "compensation", "amount": 5000.01}
        )
        small = self.closed_case(march, subject="Small compensation")
        self.env["complaint.solution.line"].create(
            {"case_id": small.id, "solution_type": "compensation", "amount": 5000.0}
        )
        self.closed_case(march, subject="General")
        self.closed_case(datetime(2024, 2, 29, 23, 59), urgency="urgent", subject="February")
        self.closed_case(datetime(2024, 4, 1, 0, 0), urgency="urgent", subject="April")
        open_urgent = self.create_case(urgency="urgent", subject="Open")
        self.advance(open_urgent, "investigating")

        wizard = self.env["complaint.penalty.review.wizard"].with_user(self.gm).create(
            {"year": 2024, "month": "3"}
        )
        self.assertEqual(wizard.line_ids.case_id, claim | urgent | compensated | flagged)
        line = wizard.line_ids.filtered(lambda l: l.case_id == urgent)
        self.assertEqual(line.department_id, self.dept_production)
        self.assertEqual(line.serious_reasons, "urgent")
        self.assertEqual(line.cause, "Company")
        wizard.line_ids.filtered(lambda l: l.case_id == flagged).include = False
        wizard.line_ids.write({"amount": 100.0})
        action = wizard.action_create_notice()
        notice = self.Notice.browse(action["res_id"])
        self.assertEqual(notice.state, "draft")
        self.assertEqual(notice.period, "2024-04")
        self.assertEqual(notice.line_ids.case_ids, claim | urgent | compensated)
        self.assertEqual(notice.amount_penalty, 300.0)
        with self.assertRaises(AccessError):
            self.env["complaint.penalty.review.wizard"].with_user(self.officer).create({"year": 2024, "month": "3"})

    def test_flow_self_approval_and_hr_notification(self):
        notice = self.notice(lines=[("penalty", 500.0, "Repeated defect")])
        notice.line_ids.write({"admin_sanction": True, "sanction_detail": "Warning"})
        with self.assertRaises(AccessError):
            notice.with_user(self.finance).action_submit()
        notice.with_user(self.gm_clerk).action_submit()
        self.assertEqual(notice.state, "submitted")
        self.assertIn(self.gm, notice.approval_review_ids.reviewer_ids)
        with self.assertRaisesRegex(AccessError, "your own"):
            notice.with_user(self.gm_clerk)._approval_approve()
        with self.assertRaisesRegex(UserError, "Submitted"):
            notice.with_user(self.gm_clerk).action_send_to_finance()
        notice.with_user(self.gm)._approval_approve("Agreed.")
        self.assertEqual(notice.state, "approved")
        hr_messages = notice.message_ids.filtered(lambda m: self.hr_officer.partner_id in m.partner_ids)
        self.assertTrue(hr_messages, "administrative sanctions are sent to HR")
        self.assertIn("Warning", hr_messages[0].body)
        notice.with_user(self.gm_clerk).action_send_to_finance()
        self.assertEqual(notice.state, "sent_to_finance")
        html = self.env["ir.actions.report"]._render_qweb_html(
            "complaint_handling.action_report_complaint_penalty_notice", notice.ids
        )[0].decode()
        self.assertIn(notice.name, html)
        self.assertIn("Agreed.", html, "the PDF carries the approval block")

    def test_rejected_and_edit_after_approval_back_to_draft(self):
        notice = self.notice()
        notice.with_user(self.gm_clerk).action_submit()
        notice.with_user(self.gm)._approval_reject("Amount too high.")
        self.assertEqual(notice.state, "draft")
        notice.with_user(self.gm_clerk).action_submit()
        notice.with_user(self.gm)._approval_approve()
        self.assertEqual(notice.state, "approved")
        notice.line_ids.with_user(self.gm_clerk).amount = 200.0
        self.assertEqual(notice.state, "draft")
        self.assertEqual(notice.approval_state, "draft")

    def test_applied_once_and_immutable(self):
        notice = self.to_finance(self.notice())
        with self.assertRaises(AccessError):
            notice.with_user(self.gm_clerk).action_apply("2024-04", "PAY-1", "2024-04-30")
        with self.assertRaisesRegex(UserError, "with finance"):
            notice.line_ids.with_user(self.gm_clerk).amount = 1.0
        wizard = self.env["complaint.penalty.apply.wizard"].with_user(self.finance).create(
            {"notice_ids": [Command.set(notice.ids)], "period": "2024-04", "reference": "PAY-2024-04",
             "date": "2024-04-30"}
        )
        wizard.action_apply()
        self.assertEqual(notice.state, "applied")
        self.assertEqual(notice.applied_reference, "PAY-2024-04")
        self.assertEqual(notice.applied_by_id, self.finance)
        with self.assertRaisesRegex(UserError, "cannot be applied twice"):
            notice.with_user(self.finance).action_apply("2024-05", "PAY-2024-05", "2024-05-31")
        with self.assertRaisesRegex(UserError, "reversing notice"):
            notice.line_ids.amount = 1.0
        with self.assertRaisesRegex(UserError, "reversing notice"):
            notice.write({"line_ids": [Command.create({"department_id": self.dept_cs.id, "amount": 5.0, "reason": "x"})]})
        with self.assertRaisesRegex(UserError, "reversing notice"):
            notice.line_ids.unlink()
        with self.assertRaisesRegex(UserError, "reversing notice"):
            notice.write({"note": "changed"})
        with self.assertRaisesRegex(UserError, "'applied_reference'"):
            notice.write({"applied_reference": "changed"})
        with self.assertRaisesRegex(UserError, "'state'"):
            notice.with_user(self.gm_clerk).with_context(complaint_notice_transition=True).write({"state": "draft"})
        with self.assertRaises(UserError):
            notice.with_user(self.gm_clerk).action_cancel()
        self.assertEqual(notice.line_ids.amount, 300.0)

    def test_reversal(self):
        notice = self.to_finance(self.notice(lines=[("penalty", 300.0, "Late"), ("reward", 50.0, "Good follow-up")]))
        notice.with_user(self.finance).action_apply("2024-04", "PAY-1", "2024-04-30")
        action = notice.with_user(self.gm_clerk).action_create_reversal()
        reversal = self.Notice.browse(action["res_id"])
        self.assertEqual(reversal.reversed_notice_id, notice)
        self.assertEqual(notice.reversal_ids, reversal)
        self.assertEqual(sorted(reversal.line_ids.mapped("amount")), [-300.0, -50.0])
        self.assertEqual(reversal.state, "draft")
        with self.assertRaisesRegex(UserError, "already has a reversal"):
            notice.with_user(self.gm_clerk).action_create_reversal()
        self.to_finance(reversal)
        reversal.with_user(self.finance).action_apply("2024-05", "PAY-2", "2024-05-31")
        self.assertEqual(reversal.state, "applied")
        self.assertEqual(notice.state, "applied", "the original stays as it was")
        with self.assertRaises(Exception):
            self.notice(lines=[("penalty", -5.0, "Negative outside a reversal")])

    def export_rows(self, user, **values):
        wizard = self.env["complaint.penalty.export.wizard"].with_user(user).create(
            dict({"period": "2024-04", "file_format": "csv"}, **values)
        )
        wizard.action_export()
        content = base64.b64decode(wizard.data).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(content)))

    def test_export_contains_exactly_the_expected_rows(self):
        applied = self.to_finance(self.notice(lines=[("penalty", 300.0, "Late reply")]))
        applied.with_user(self.finance).action_apply("2024-04", "PAY-04", "2024-04-30")
        pending = self.to_finance(self.notice(lines=[("penalty", 120.5, "Wrong delivery")], department=self.dept_logistics))
        self.notice(lines=[("penalty", 999.0, "Draft only")])
        other_period = self.to_finance(self.notice(period="2024-05", lines=[("penalty", 77.0, "May")]))
        self.assertEqual(other_period.state, "sent_to_finance")

        rows = self.export_rows(self.finance)
        self.assertEqual(rows[0][:7], ["Payroll Period", "Notice", "Status", "Department", "Employee",
                                       "Reward or Penalty", "Amount"])
        self.assertEqual(
            [row[:11] for row in rows[1:]],
            [
                ["2024-04", applied.name, "Applied", "Production (test)", "Agent", "Penalty", "300.0", "CNY"
                 if self.company.currency_id.name == "CNY" else self.company.currency_id.name,
                 "Late reply", "", "PAY-04"],
                ["2024-04", pending.name, "Sent to Finance", "Logistics (test)", "", "Penalty", "120.5",
                 self.company.currency_id.name, "Wrong delivery", "", ""],
            ],
        )
        self.assertEqual(len(self.export_rows(self.finance, scope="pending")), 2)
        self.assertEqual(len(self.export_rows(self.finance, scope="applied")), 2)
        logistics = self.export_rows(self.finance, department_id=self.dept_logistics.id)
        self.assertEqual([row[1] for row in logistics[1:]], [pending.name])
        wizard = self.env["complaint.penalty.export.wizard"].with_user(self.finance).create(
            {"period": "2024-04", "file_format": "xlsx"}
        )
        wizard.action_export()
        self.assertTrue(base64.b64decode(wizard.data).startswith(b"PK"), "an XLSX file is a zip")
        self.assertTrue(wizard.filename.endswith(".xlsx"))
        with self.assertRaises(AccessError):
            self.export_rows(self.agent)

    def test_finance_reads_amounts_and_reasons_not_customers(self):
        case = self.closed_case(datetime(2024, 3, 10), urgency="urgent", customer_phone="13900139000")
        notice = self.notice()
        notice.line_ids.case_ids = case
        self.to_finance(notice)
        line = notice.line_ids.with_user(self.finance)
        data = line.read(["amount", "reason", "case_refs", "department_id", "period"])[0]
        self.assertEqual(data["amount"], 300.0)
        self.assertEqual(data["reason"], "Late reply")
        self.assertEqual(data["case_refs"], case.name)
        with self.assertRaises(AccessError):
            line.read(["case_ids"])
        with self.assertRaises(AccessError):
            case.with_user(self.finance).read(["customer_phone"])
        with self.assertRaises(AccessError):
            case.with_user(self.finance).read(["partner_id"])
        with self.assertRaises(AccessError):
            line.write({"amount": 1.0})
        to_apply = self.Notice.with_user(self.finance).search([("state", "=", "sent_to_finance")])
        self.assertIn(notice, to_apply)
        html = self.env["ir.actions.report"].with_user(self.finance)._render_qweb_html(
            "complaint_handling.action_report_complaint_penalty_notice", notice.ids
        )[0].decode()
        self.assertIn("Late reply", html)
        self.assertNotIn("13900139000", html)
