from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import ComplaintCommon

FRIDAY = datetime(2026, 10, 2, 16, 0)


class ContactSheetCommon(ComplaintCommon):
    """Sales is customer service (officer), QA the quality user, the
    countermeasure unit is Production (agent, head_production)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({"name": "Kettle KT-200 (test)", "type": "consu"})

    def new_sheet(self, **values):
        case = values.pop("case", None) or self.advance(
            self.create_case(user=self.officer, product_id=self.product.id), "investigating"
        )
        vals = {
            "case_id": case.id,
            "product_id": self.product.id,
            "lot_number": "L2609-17",
            "quantity_affected": 12,
            "defect_description": "The lid does not close; the customer sent photos.",
        }
        vals.update(values)
        return self.env["complaint.contact.sheet"].with_user(self.officer).create(vals)

    def to_countermeasure(self, sheet):
        if sheet.state == "draft":
            sheet.with_user(self.officer).action_submit()
        sheet.with_user(self.quality).write({
            "inspection_result": "Hinge pin 0.3 mm short in lot L2609-17.",
            "responsibility": "ours",
            "countermeasure_department_id": self.dept_production.id,
        })
        sheet.with_user(self.quality).action_analyse()
        self.assertEqual(sheet.state, "countermeasure")

    def propose(self, sheet, root_cause="Worn press die."):
        unit = sheet.with_user(self.agent)
        unit.write({
            "immediate_action": "Sort lot L2609-17; hold shipments.",
            "root_cause": root_cause,
            "cause_category": "machine",
        })
        if not sheet.action_ids:
            unit.write({"action_ids": [Command.create({
                "name": "Replace the press die", "action_type": "corrective", "user_id": self.agent.id,
                "date_deadline": fields.Date.today() + timedelta(days=10),
            })]})
        unit.action_propose_countermeasure()
        self.assertEqual(sheet.state, "acceptance")

    def accept(self, sheet):
        sheet.with_user(self.officer).write({"handling_plan": "<p>Replace the kettle and apologise.</p>"})
        sheet.with_user(self.officer).action_accept_countermeasure()
        self.assertEqual(sheet.state, "verification")

    def finish_actions(self, sheet):
        for action in sheet.action_ids.filtered(lambda a: a.state == "todo"):
            action.with_user(self.agent).write({"result_note": "Done and measured."})
            action.with_user(self.agent).action_done()

    def has_activity(self, sheet, user):
        return bool(sheet.activity_ids.filtered(lambda a: a.user_id == user))


@tagged("post_install", "-at_install")
class TestContactSheet(ContactSheetCommon):
    def test_full_loop(self):
        sheet = self.new_sheet()
        case = sheet.case_id
        self.assertRegex(sheet.name, r"^QC\d{4}-\d{5}$")
        self.assertEqual(sheet.sales_user_id, self.officer)
        self.assertEqual(case.contact_sheet_count, 1)

        sheet.with_user(self.officer).action_submit()
        self.assertEqual(sheet.state, "qa_analysis")
        self.assertTrue(sheet.date_submitted and sheet.qa_deadline)
        self.assertTrue(self.has_activity(sheet, self.quality), "QA is told")
        self.assertIn(sheet, self.env["complaint.contact.sheet"].with_user(self.quality).search(
            [("is_my_turn", "=", True)]))
        self.assertNotIn(sheet, self.env["complaint.contact.sheet"].with_user(self.agent).search(
            [("is_my_turn", "=", True)]))

        self.to_countermeasure(sheet)
        self.assertEqual(sheet.analysis_user_id, self.quality)
        self.assertTrue(self.has_activity(sheet, self.head_production), "the unit's head is told")
        self.assertFalse(self.has_activity(sheet, self.quality), "QA's activity is done")
        self.assertIn(sheet, self.env["complaint.contact.sheet"].with_user(self.agent).search(
            [("is_my_turn", "=", True)]))

        self.propose(sheet)
        self.assertEqual(sheet.proposal_count, 1)
        self.assertEqual(sheet.unit_user_id, self.agent)
        self.assertTrue(self.has_activity(sheet, self.officer))
        action = sheet.action_ids
        self.assertEqual(action.activity_ids.user_id, self.agent, "the owner has an activity")

        self.accept(sheet)
        self.assertEqual(case.state, "solution_proposed", "the plan becomes the case's proposed solution")
        self.assertIn("Replace the kettle", case.solution_description)
        self.assertEqual(case.verdict, "company")

        sheet.with_user(self.quality).verification_evidence = "Three batches since: no short pins."
        with self.assertRaisesRegex(UserError, "all its actions are done"):
            sheet.with_user(self.quality).action_confirm_effective()
        self.finish_actions(sheet)
        self.assertEqual(action.state, "done")
        self.assertFalse(action.activity_ids)
        sheet.with_user(self.quality).action_confirm_effective()
        self.assertEqual(sheet.state, "done")
        self.assertEqual(sheet.verification_round, 1)
        self.assertEqual(sheet.verification_user_id, self.quality)
        messages = sheet.message_ids.mapped("body")
        self.assertGreaterEqual(len(messages), 5, "every hand-over is logged")

        self.advance(case, "closed")

    def test_rejected_countermeasure_is_proposed_again(self):
        sheet = self.new_sheet()
        self.to_countermeasure(sheet)
        self.propose(sheet)
        with self.assertRaisesRegex(UserError, "Reason for Rejecting"):
            sheet.with_user(self.officer).action_reject_countermeasure()
        sheet.with_user(self.officer).rejection_reason = "Sorting alone does not reassure the customer."
        sheet.with_user(self.officer).action_reject_countermeasure()
        self.assertEqual(sheet.state, "countermeasure")
        self.assertTrue(self.has_activity(sheet, self.head_production))
        self.assertIn("Sorting alone", sheet.message_ids[0].body)
        self.propose(sheet, root_cause="Worn press die and no die-life counter.")
        self.assertEqual(sheet.proposal_count, 2)
        self.assertFalse(sheet.rejection_reason, "a new proposal starts a new review")
        self.accept(sheet)

    def test_gm_office_arbitrates(self):
        sheet = self.new_sheet()
        self.to_countermeasure(sheet)
        self.propose(sheet)
        sheet.with_user(self.officer).dispute_reason = "The unit refuses to replace the die before next year."
        sheet.with_user(self.officer).action_escalate_dispute()
        self.assertEqual(sheet.state, "arbitration")
        self.assertTrue(self.has_activity(sheet, self.gm))
        with self.assertRaises(AccessError):
            sheet.with_user(self.officer).write({"arbitration_decision": "I decide myself."})
        sheet.with_user(self.gm).write({
            "arbitration_decision": "Replace the die now; the cost goes to production.",
            "arbitration_outcome": "countermeasure_stands",
        })
        with self.assertRaises(AccessError):
            sheet.with_user(self.officer).action_arbitrate()
        sheet.with_user(self.gm).action_arbitrate()
        self.assertEqual(sheet.state, "acceptance")
        self.assertEqual(sheet.arbitration_user_id, self.gm)
        sheet.with_user(self.officer).rejection_reason = "Still not convinced."
        with self.assertRaisesRegex(UserError, "GM office decided"):
            sheet.with_user(self.officer).action_reject_countermeasure()
        self.accept(sheet)

    def test_gm_office_asks_the_unit_to_propose_again(self):
        sheet = self.new_sheet()
        self.to_countermeasure(sheet)
        self.propose(sheet)
        sheet.with_user(self.officer).rejection_reason = "Too slow."
        sheet.with_user(self.officer).action_reject_countermeasure()
        # The unit disagrees and takes it to the GM office itself.
        sheet.with_user(self.agent).dispute_reason = "A faster fix is not possible."
        sheet.with_user(self.agent).action_escalate_dispute()
        sheet.with_user(self.gm).write({"arbitration_decision": "Find a faster fix.",
                                        "arbitration_outcome": "new_proposal"})
        sheet.with_user(self.gm).action_arbitrate()
        self.assertEqual(sheet.state, "countermeasure")
        self.propose(sheet)
        self.assertEqual(sheet.proposal_count, 2)
        self.assertFalse(sheet.arbitration_outcome)

    def test_ineffective_check_loops_back_and_is_counted(self):
        sheet = self.new_sheet()
        self.to_countermeasure(sheet)
        self.propose(sheet)
        self.accept(sheet)
        with self.assertRaisesRegex(UserError, "Verification Evidence"):
            sheet.with_user(self.quality).action_mark_ineffective()
        sheet.with_user(self.quality).verification_evidence = "Lot L2610-02 has short pins again."
        sheet.with_user(self.quality).action_mark_ineffective()
        self.assertEqual(sheet.state, "countermeasure", "back to root cause analysis")
        self.assertEqual(sheet.verification_round, 2)
        self.assertFalse(sheet.acceptance_date)
        self.assertTrue(self.has_activity(sheet, self.head_production))
        # The unit adds a preventive action and proposes again.
        sheet.with_user(self.agent).write({"action_ids": [Command.create({
            "name": "Die-life counter on press 4", "action_type": "preventive", "user_id": self.agent.id,
            "date_deadline": fields.Date.today() + timedelta(days=20),
        })]})
        self.propose(sheet, root_cause="Die wear is not monitored.")
        self.accept(sheet)
        self.finish_actions(sheet)
        sheet.with_user(self.quality).verification_evidence = "Five lots without short pins."
        sheet.with_user(self.quality).action_confirm_effective()
        self.assertEqual(sheet.state, "done")
        self.assertEqual(sheet.verification_round, 2, "the sheet shows it needed two rounds")

    def test_not_ours_goes_back_to_customer_service(self):
        sheet = self.new_sheet()
        case = sheet.case_id
        sheet.with_user(self.officer).action_submit()
        sheet.with_user(self.quality).write({
            "inspection_result": "The kettle was used on a gas stove, against the manual.",
            "responsibility": "not_ours",
        })
        with self.assertRaisesRegex(UserError, "Explanation for the Customer"):
            sheet.with_user(self.quality).action_analyse()
        sheet.with_user(self.quality).not_ours_explanation = "The manual (page 3) forbids use on a gas stove."
        sheet.with_user(self.quality).action_analyse()
        self.assertEqual(sheet.state, "not_ours")
        self.assertTrue(self.has_activity(sheet, self.officer), "customer service is told")
        self.assertEqual(case.verdict, "customer")
        self.assertIn("page 3", case.rejection_explanation)
        case.with_user(self.officer).action_reject()
        self.assertEqual(case.state, "rejected")

    def test_routing_to_department_head(self):
        sheet = self.new_sheet(routing="contract")
        with self.assertRaisesRegex(UserError, "Department Head / Process Owner"):
            sheet.with_user(self.officer).action_submit()
        sheet.with_user(self.officer).reviewer_id = self.head_cs
        with self.assertRaisesRegex(UserError, "handling opinion"):
            sheet.with_user(self.officer).action_submit()
        sheet.with_user(self.officer).handling_opinion = "The contract says delivery ex works; offer a discount."
        sheet.with_user(self.officer).action_submit()
        self.assertTrue(self.has_activity(sheet, self.head_cs))
        with self.assertRaises(AccessError):
            sheet.with_user(self.quality).write({"inspection_result": "QA has nothing to inspect here."})
        sheet.with_user(self.head_cs).write({
            "inspection_result": "Contract clause 4 reviewed.", "responsibility": "ours",
            "countermeasure_department_id": self.dept_cs.id,
        })
        sheet.with_user(self.head_cs).action_analyse()
        self.assertEqual(sheet.state, "countermeasure")

    def test_each_party_only_fills_its_own_section(self):
        sheet = self.new_sheet()
        with self.assertRaises(AccessError):
            sheet.with_user(self.quality).write({"defect_description": "QA rewrites the complaint."})
        with self.assertRaises(AccessError):
            sheet.with_user(self.quality).action_submit()
        with self.assertRaises(UserError):
            sheet.with_user(self.officer).action_accept_countermeasure()  # skips QA and the unit
        with self.assertRaisesRegex(UserError, "buttons"):
            sheet.with_user(self.officer).write({"state": "done"})
        sheet.with_user(self.officer).action_submit()
        with self.assertRaisesRegex(UserError, "section 1"):
            sheet.with_user(self.officer).write({"lot_number": "changed after submission"})
        with self.assertRaises(AccessError):
            sheet.with_user(self.agent).write({"inspection_result": "The unit judges itself."})
        with self.assertRaises(AccessError):
            sheet.with_user(self.officer).write({"responsibility": "not_ours"})
        with self.assertRaises(UserError):
            sheet.with_user(self.quality).action_confirm_effective()  # skips the countermeasure
        with self.assertRaises(UserError):
            sheet.with_user(self.agent).write({"action_ids": [Command.create({
                "name": "Too early", "user_id": self.agent.id, "date_deadline": fields.Date.today(),
            })]})
        self.to_countermeasure(sheet)
        with self.assertRaises(AccessError):
            sheet.with_user(self.officer).write({"root_cause": "Sales guesses the root cause."})
        with self.assertRaises(AccessError):
            sheet.with_user(self.agent_logistics).write({"root_cause": "Another unit meddles."})
        with self.assertRaises(AccessError):
            sheet.with_user(self.agent_logistics).action_propose_countermeasure()
        sheet.with_user(self.agent).write({
            "immediate_action": "Sort.", "root_cause": "Die.", "cause_category": "machine",
        })
        with self.assertRaisesRegex(UserError, "at least one"):
            sheet.with_user(self.agent).action_propose_countermeasure()
        self.propose(sheet)
        with self.assertRaises(AccessError):
            sheet.with_user(self.agent).write({"handling_plan": "<p>The unit promises the customer a refund.</p>"})
        with self.assertRaises(AccessError):
            sheet.with_user(self.quality).action_accept_countermeasure()
        self.accept(sheet)
        with self.assertRaises(AccessError):
            sheet.with_user(self.agent).write({"verification_evidence": "We checked ourselves: fine."})
        with self.assertRaises(AccessError):
            sheet.with_user(self.agent).action_confirm_effective()
        with self.assertRaises(AccessError):
            sheet.action_ids.with_user(self.agent_logistics).action_done()

    def test_only_quality_cases_and_open_cases_get_sheets(self):
        case = self.create_case(user=self.officer, category_id=self.category_logistics.id)
        self.assertFalse(case.quality_related)
        with self.assertRaises(ValidationError):
            self.new_sheet(case=case)
        with self.assertRaises(UserError):
            case.action_new_contact_sheet()

    def test_open_sheet_blocks_closing_the_case(self):
        sheet = self.new_sheet()
        case = sheet.case_id
        self.advance(case, "follow_up")
        case.action_record_follow_up("satisfied", "Happy.")
        case.resolution_note = "Replaced."
        with self.assertRaisesRegex(UserError, sheet.name):
            case.with_user(self.officer).action_close()
        self.assertEqual(case.state, "follow_up")
        sheet.with_user(self.officer).cancel_reason = "Opened by mistake."
        sheet.with_user(self.officer).action_cancel()
        case.with_user(self.officer).action_close()
        self.assertEqual(case.state, "closed")

    def test_action_reminder_before_due_date(self):
        sheet = self.new_sheet()
        self.to_countermeasure(sheet)
        self.propose(sheet)
        action = sheet.action_ids
        Action = self.env["complaint.contact.sheet.action"]
        with freeze_time(action.date_deadline - timedelta(days=5)):
            Action._cron_remind_due_actions()
        self.assertFalse(action.reminder_sent, "too early for a reminder")
        with freeze_time(action.date_deadline - timedelta(days=2)):
            Action._cron_remind_due_actions()
            Action._cron_remind_due_actions()
        self.assertTrue(action.reminder_sent)
        reminders = action.message_ids.filtered(lambda m: "Reminder" in (m.body or ""))
        self.assertEqual(len(reminders), 1)
        self.assertEqual(reminders.partner_ids, self.agent.partner_id)
        with freeze_time(action.date_deadline + timedelta(days=1)):
            self.assertTrue(Action.search([("id", "=", action.id), ("is_overdue", "=", True)]))


@tagged("post_install", "-at_install")
class TestContactSheetDeadlines(ContactSheetCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_public_holiday(date(2026, 10, 5))

    def test_two_working_hours_and_seven_working_days(self):
        with freeze_time(FRIDAY):
            sheet = self.new_sheet()
            sheet.with_user(self.officer).action_submit()
        # Friday 16:00-17:00, then Monday is a holiday: Tuesday 08:00-09:00.
        self.assertEqual(sheet.qa_deadline, datetime(2026, 10, 6, 9, 0))
        # 7 working days after Friday: Tue 6, Wed 7, Thu 8, Fri 9, Mon 12, Tue 13, Wed 14.
        self.assertEqual(sheet.reply_deadline, datetime(2026, 10, 14, 17, 0))
        with freeze_time("2026-10-06 08:59:00"):
            sheet.invalidate_recordset(["qa_late", "reply_late"])
            self.assertFalse(sheet.qa_late)
        with freeze_time("2026-10-06 09:01:00"):
            sheet.invalidate_recordset(["qa_late"])
            self.assertTrue(sheet.qa_late)
        with freeze_time("2026-10-14 17:01:00"):
            sheet.invalidate_recordset(["reply_late"])
            self.assertTrue(sheet.reply_late, "the reply deadline keeps running through the loop")
        self.company.complaint_sheet_qa_hours = 4
        self.assertEqual(sheet.qa_deadline, datetime(2026, 10, 6, 11, 0), "the limit is a setting")


@tagged("post_install", "-at_install")
class TestContactSheetReport(ContactSheetCommon):
    def test_pdf_in_english_and_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["complaint_handling"], ["zh_CN"], overwrite=True)
        sheet = self.new_sheet()
        self.to_countermeasure(sheet)
        self.propose(sheet)
        Report = self.env["ir.actions.report"]
        report = "complaint_handling.action_report_complaint_contact_sheet"
        english = Report._render_qweb_html(report, sheet.ids)[0].decode()
        self.assertIn("Customer Complaint Contact Sheet", english)
        self.assertIn("Worn press die.", english)
        self.assertIn("Replace the press die", english)
        chinese = Report.with_context(lang="zh_CN")._render_qweb_html(report, sheet.ids)[0].decode()
        self.assertIn("客户抱怨联络单", chinese)
        self.assertIn("对策单位", chinese)
        self.assertNotIn("Customer Complaint Contact Sheet", chinese)
        for lang in ("en_US", "zh_CN"):
            # Under the test runner Odoo hands back the HTML it would give
            # wkhtmltopdf (whose asset requests would wait on this very
            # transaction); the end-to-end suite prints the real PDF.
            content, kind = Report.with_context(lang=lang)._render_qweb_pdf(report, sheet.ids)
            self.assertIn(kind, ("pdf", "html"))
            self.assertIn(sheet.name.encode(), content)


@tagged("post_install", "-at_install")
class TestRootCauseRecurrence(ContactSheetCommon):
    """The same product and root-cause category on contact sheets makes a
    recurring problem even when the cases were filed under other categories."""

    def sheet_with_cause(self, category, cause):
        case = self.advance(self.create_case(
            user=self.officer, product_id=self.product.id, category_id=category.id, quality_related=True,
        ), "investigating")
        sheet = self.new_sheet(case=case)
        self.to_countermeasure(sheet)
        sheet.with_user(self.agent).write({"cause_category": cause})
        return case

    def test_third_sheet_with_the_same_cause_makes_a_series(self):
        self.company.write({"complaint_recurrence_count": 3, "complaint_recurrence_days": 30})
        first = self.sheet_with_cause(self.category_quality, "machine")
        second = self.sheet_with_cause(self.category_quality, "machine")
        other_cause = self.sheet_with_cause(self.category_logistics, "material")
        self.assertFalse((first | second | other_cause).filtered("is_recurring"), "N-1 sheets: not yet")
        third = self.sheet_with_cause(self.category_logistics, "machine")
        self.assertEqual((first | second | third).mapped("is_recurring"), [True] * 3)
        self.assertEqual((first | second | third).recurrence_root_id, first)
        self.assertFalse(other_cause.is_recurring, "another root cause is another problem")
        activity = first.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("complaint_handling.mail_activity_type_complaint_recurrence"))
        self.assertIn(self.quality, activity.user_id)
        self.assertIn("Machine", str(activity[:1].note))
        # The unit correcting its cause category makes the other case join.
        other_cause.contact_sheet_ids.with_user(self.agent).write({"cause_category": "machine"})
        self.assertEqual(other_cause.recurrence_root_id, first)
