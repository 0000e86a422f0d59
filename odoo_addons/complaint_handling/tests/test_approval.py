from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import ComplaintCommon


class ApprovalCommon(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        G = "complaint_handling.group_complaint_"
        cls.director = new_test_user(
            cls.env, login="marketing_director", name="Marketing Director",
            groups=f"base.group_user,{G}marketing_director",
        )
        cls.company.complaint_approval_threshold = 5000.0
        cls.director_group = cls.env.ref("complaint_handling.group_complaint_marketing_director")
        cls.gm_group = cls.env.ref("complaint_handling.group_complaint_gm_office")

    def proposed_case(self, lines, user=None, **values):
        """A case of the production department with `lines` [(type, amount)],
        proposed (which requests its approval)."""
        case = self.create_case(**values)
        self.advance(case, "investigating")
        case.write({
            "solution_line_ids": [
                Command.create({"solution_type": kind, "amount": amount, "basis": "policy"})
                for kind, amount in lines
            ],
            "verdict": "company",
            "solution_description": "<p>As agreed with the customer.</p>",
        })
        (case.with_user(user) if user else case).action_propose_solution()
        return case

    def approve_all(self, case):
        for _step in range(len(case.approval_review_ids)):
            step = case.approval_review_ids.filtered(lambda r: r.status == "pending")
            approver = (step.reviewer_ids - case.approval_requested_by_id)[:1]
            case.with_user(approver)._approval_approve("OK")
        self.assertEqual(case.approval_state, "approved")


@tagged("post_install", "-at_install")
class TestApprovalRules(ApprovalCommon):
    def test_threshold_just_below_needs_department_head_only(self):
        case = self.proposed_case([("refund", 3000.0), ("compensation", 2000.0)])
        self.assertEqual(case.solution_amount, 5000.0)
        self.assertEqual(case.approval_state, "pending")
        self.assertEqual(len(case.approval_review_ids), 1)
        self.assertEqual(case.approval_review_ids.reviewer_ids, self.head_production)
        self.assertEqual(case.approval_review_ids.status, "pending")

    def test_threshold_just_above_adds_marketing_director(self):
        case = self.proposed_case([("refund", 3000.0), ("compensation", 2000.01)])
        steps = case.approval_review_ids.sorted("sequence")
        self.assertEqual(len(steps), 2)
        self.assertEqual(steps[0].reviewer_ids, self.head_production)
        self.assertIn(self.director, steps[1].reviewer_ids)
        self.assertEqual(steps[1].reviewer_ids, self.director_group.users)
        self.assertEqual(steps.mapped("status"), ["pending", "waiting"])

    def test_non_monetary_types_do_not_count_towards_threshold(self):
        case = self.proposed_case([("apology", 0.0), ("voucher", 9000.0)])
        self.assertEqual(len(case.approval_review_ids), 1, "vouchers are not in the director's rule")

    def test_configurable_threshold(self):
        self.company.complaint_approval_threshold = 10000.0
        case = self.proposed_case([("refund", 6000.0)])
        self.assertEqual(len(case.approval_review_ids), 1)

    def test_case_without_solution_lines_needs_no_approval(self):
        case = self.create_case()
        self.advance(case, "in_execution")
        self.assertEqual(case.state, "in_execution")

    def test_sequential_steps_activity_and_chatter(self):
        case = self.proposed_case([("refund", 8000.0)])
        activity_type = self.env.ref("complaint_handling.mail_activity_type_complaint_approval")
        activities = case.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        self.assertEqual(activities.user_id, self.head_production, "only the first step's approver is asked")
        with self.assertRaises(AccessError):
            case.with_user(self.director)._approval_approve()
        case.with_user(self.head_production)._approval_approve("Within my authority.")
        steps = case.approval_review_ids.sorted("sequence")
        self.assertEqual(steps.mapped("status"), ["approved", "pending"])
        self.assertEqual(steps[0].done_by_id, self.head_production)
        activities = case.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        self.assertIn(self.director, activities.user_id)
        self.assertNotIn(self.head_production, activities.user_id)
        case.with_user(self.director)._approval_approve()
        self.assertEqual(case.approval_state, "approved")
        self.assertTrue(any("Within my authority." in (m.body or "") for m in case.message_ids))

    def test_rule_by_named_user_requester_manager_urgency_and_kind(self):
        Rule = self.env["complaint.approval.rule"]
        model = self.env["ir.model"]._get("complaint.case")
        Rule.create({"name": "Named QA", "model_id": model.id, "sequence": 30, "approver_type": "user",
                     "user_id": self.quality.id, "urgency": "urgent"})
        Rule.create({"name": "Agent's manager", "model_id": model.id, "sequence": 40,
                     "approver_type": "requester_manager", "kind": "claim"})
        general = self.proposed_case([("repair", 10.0)], user=self.agent)
        self.assertEqual(len(general.approval_review_ids), 1)
        urgent_claim = self.proposed_case([("repair", 10.0)], user=self.agent, urgency="urgent", kind="claim")
        steps = urgent_claim.approval_review_ids.sorted("sequence")
        self.assertEqual(steps.mapped("name"), ["Responsible department head", "Named QA", "Agent's manager"])
        self.assertEqual(steps[1].reviewer_ids, self.quality)
        self.assertEqual(steps[2].reviewer_ids, self.head_production, "the agent's department manager")


@tagged("post_install", "-at_install")
class TestApprovalRefusals(ApprovalCommon):
    def test_self_approval_refused(self):
        case = self.proposed_case([("refund", 100.0)], user=self.head_production)
        self.assertEqual(case.approval_requested_by_id, self.head_production)
        with self.assertRaisesRegex(AccessError, "your own"):
            case.with_user(self.head_production)._approval_approve()
        self.assertFalse(case.with_user(self.head_production).approval_can_review)
        with self.assertRaises(AccessError):
            case.with_user(self.agent)._approval_approve()
        self.assertEqual(case.approval_state, "pending")

    def test_edit_after_approval_resets(self):
        case = self.proposed_case([("refund", 100.0)])
        self.approve_all(case)
        case.solution_line_ids.amount = 150.0
        self.assertEqual(case.approval_state, "draft")
        self.assertFalse(case.approval_review_ids)
        case.action_approval_request()
        self.approve_all(case)
        case.solution_description = "<p>Something else.</p>"
        self.assertEqual(case.approval_state, "draft")
        case.action_approval_request()
        self.approve_all(case)
        case.write({"solution_line_ids": [Command.create({"solution_type": "voucher", "amount": 10.0})]})
        self.assertEqual(case.approval_state, "draft", "a new line restarts the approval")
        case.action_approval_request()
        self.approve_all(case)
        case.solution_line_ids.filtered(lambda l: l.solution_type == "voucher").unlink()
        self.assertEqual(case.approval_state, "draft", "a removed line restarts the approval")

    def test_no_execute_or_reply_before_approval(self):
        case = self.proposed_case([("refund", 100.0)])
        with self.assertRaisesRegex(UserError, "not approved"):
            case.action_start_execution()
        with self.assertRaisesRegex(UserError, "not approved"):
            case._record_customer_decision("agreed")
        self.approve_all(case)
        with self.assertRaisesRegex(UserError, "not agreed"):
            case.action_start_execution()
        case.action_customer_agreed()
        case.action_start_execution()
        self.assertEqual(case.state, "in_execution")
        case.solution_line_ids.basis_detail = "Clause 7"
        case.reply_summary = "<p>Refunded.</p>"
        with self.assertRaisesRegex(UserError, "not approved"):
            case.action_mark_replied()
        self.assertEqual(case.state, "in_execution")

    def test_rejected_step_logged_and_blocks(self):
        case = self.proposed_case([("refund", 100.0)])
        with self.assertRaisesRegex(UserError, "why"):
            case.with_user(self.head_production)._approval_reject(False)
        case.with_user(self.head_production)._approval_reject("Too generous.")
        self.assertEqual(case.approval_state, "rejected")
        self.assertTrue(any("Too generous." in (m.body or "") for m in case.message_ids))
        with self.assertRaisesRegex(UserError, "not approved"):
            case.action_start_execution()
        with self.assertRaisesRegex(UserError, "not waiting"):
            case.with_user(self.head_production)._approval_approve()

    def test_declined_solution_returns_to_proposal(self):
        case = self.proposed_case([("exchange", 300.0)])
        self.approve_all(case)
        case.customer_decline_reason = "I want a refund instead."
        case.action_customer_declined()
        self.assertEqual(case.state, "investigating")
        self.assertEqual(case.approval_state, "draft", "a new proposal needs a new approval")
        self.assertEqual(case.customer_decision, "declined")
        case.solution_line_ids.solution_type = "refund"
        case.action_propose_solution()
        self.assertEqual(case.state, "solution_proposed")
        self.assertEqual(case.approval_state, "pending")
        self.assertFalse(case.customer_decision)


@tagged("post_install", "-at_install")
class TestMajorIncident(ApprovalCommon):
    def test_gm_route_blocks_execution_and_prints(self):
        case = self.proposed_case([("compensation", 800.0)], user=self.agent)
        application = self.env["complaint.major.incident"].with_user(self.agent).create({
            "case_id": case.id,
            "facts": "<p>The kettle burnt the customer's hand.</p>",
            "losses": "Medical costs.",
            "remedy": "injury_compensation",
            "amount": 800.0,
        })
        self.assertTrue(application.name.startswith("MQI"))
        application.with_user(self.agent).action_submit()
        self.assertEqual(application.approval_review_ids.reviewer_ids, self.gm_group.users)
        self.assertIn(self.gm, application.approval_review_ids.reviewer_ids)
        self.approve_all(case)
        case.action_customer_agreed()
        with self.assertRaisesRegex(UserError, "general manager"):
            case.action_start_execution()
        with self.assertRaises(AccessError):
            application.with_user(self.head_production)._approval_approve()
        application.with_user(self.gm)._approval_approve("Approved by the GM.")
        self.assertEqual(application.approval_state, "approved")
        case.action_start_execution()
        self.assertEqual(case.state, "in_execution")
        application.amount = 900.0
        self.assertEqual(application.approval_state, "draft", "a changed amount needs a new approval")
        html = self.env["ir.actions.report"]._render_qweb_html(
            "complaint_handling.action_report_complaint_major_incident", application.ids
        )[0].decode()
        self.assertIn(application.name, html)
        self.assertIn("Medical costs.", html)


@tagged("post_install", "-at_install")
class TestSolutionExecution(ApprovalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({
            "name": "Kettle (test)", "type": "consu", "list_price": 200.0, "invoice_policy": "order",
        })
        cls.order = cls.env["sale.order"].create({
            "partner_id": cls.customer.id,
            "order_line": [Command.create({"product_id": cls.product.id, "product_uom_qty": 2, "price_unit": 200.0})],
        })
        cls.order.action_confirm()
        cls.invoice = cls.order._create_invoices()
        cls.invoice.action_post()

    def executing_case(self, lines):
        case = self.proposed_case(lines, sale_order_id=self.order.id)
        self.approve_all(case)
        case.action_customer_agreed()
        case.action_start_execution()
        return case

    def test_refund_creates_draft_credit_note(self):
        case = self.executing_case([("refund", self.invoice.amount_total)])
        line = case.solution_line_ids
        with self.assertRaisesRegex(UserError, "credit note"):
            line.with_user(self.officer).action_mark_executed()
        with self.assertRaises(AccessError):
            line.with_user(self.agent).action_create_credit_note()
        line.with_user(self.officer).action_create_credit_note()
        credit_note = line.credit_note_id
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.state, "draft")
        self.assertEqual(credit_note.reversed_entry_id, self.invoice)
        self.assertEqual(credit_note.partner_id, self.invoice.partner_id)
        self.assertEqual(credit_note.complaint_case_id, case)
        self.assertEqual(case.credit_note_count, 1)
        self.assertEqual(credit_note.amount_total, self.invoice.amount_total)
        with self.assertRaisesRegex(UserError, "already has"):
            line.with_user(self.officer).action_create_credit_note()
        line.with_user(self.finance).action_mark_executed()
        self.assertEqual(line.execution_state, "done")
        self.assertEqual(line.execution_date, fields.Date.context_today(line))
        self.assertEqual(case.solution_executed_date, line.execution_date)
        with self.assertRaisesRegex(UserError, "executed"):
            line.amount = 10.0

    def test_partial_refund_scales_the_credit_note(self):
        case = self.executing_case([("refund", 100.0)])
        line = case.solution_line_ids
        line.with_user(self.officer).action_create_credit_note()
        credit_note = line.credit_note_id
        self.assertAlmostEqual(credit_note.amount_total, 100.0, delta=0.02, msg="the refund, not the invoice")
        self.assertEqual(credit_note.invoice_line_ids.filtered(lambda l: l.display_type == "product").mapped(
            "quantity"), [2.0], "the same products and quantities, at reduced prices")
        self.assertEqual(credit_note.state, "draft")

    def test_refund_above_the_invoice_keeps_the_full_reversal(self):
        case = self.executing_case([("refund", self.invoice.amount_total + 50.0)])
        line = case.solution_line_ids
        line.with_user(self.officer).action_create_credit_note()
        self.assertEqual(line.credit_note_id.amount_total, self.invoice.amount_total)
        self.assertIn("more than invoice", case.message_ids[0].body)

    def test_no_credit_note_before_approval(self):
        case = self.proposed_case([("refund", 400.0)], sale_order_id=self.order.id)
        with self.assertRaisesRegex(UserError, "not approved"):
            case.solution_line_ids.with_user(self.officer).action_create_credit_note()

    def test_exchange_records_deliveries(self):
        case = self.executing_case([("exchange", 200.0)])
        line = case.solution_line_ids
        with self.assertRaisesRegex(UserError, "deliveries"):
            line.with_user(self.officer).action_mark_executed()
        line.write({"return_reference": "RET/001", "return_date": fields.Date.today(),
                    "replacement_reference": "OUT/002", "replacement_date": fields.Date.today()})
        self.assertEqual(case.approval_state, "approved", "delivery records are not approved content")
        line.with_user(self.officer).action_mark_executed()
        self.assertEqual(line.execution_state, "done")
        if "stock.picking" not in self.env:
            self.assertFalse(line._selection_picking_model())
            with self.assertRaisesRegex(UserError, "Inventory"):
                self.executing_case([("exchange", 10.0)]).solution_line_ids.with_user(self.officer).action_link_transfers()

    def test_finance_sees_refunds_not_cases(self):
        case = self.executing_case([("refund", 400.0), ("repair", 50.0)])
        lines = self.env["complaint.solution.line"].with_user(self.finance).search([("case_id", "=", case.id)])
        self.assertEqual(lines.mapped("solution_type"), ["refund"])
        data = lines.read(["case_number", "amount", "sale_order_ref", "approval_state"])[0]
        self.assertEqual(data["case_number"], case.name)
        self.assertEqual(data["approval_state"], "approved")
        with self.assertRaises(AccessError):
            case.with_user(self.finance).read(["customer_phone"])
        lines.action_create_credit_note()
        self.assertTrue(lines.credit_note_id)
