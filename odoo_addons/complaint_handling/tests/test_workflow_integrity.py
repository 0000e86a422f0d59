"""The rules behind the workflow guard, as the server's own methods see
them: every solution passes the same gate, lines are executed only once
approved, the customer's decisions are final, roles are as documented."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .test_approval import ApprovalCommon


@tagged("post_install", "-at_install")
class TestWorkflowIntegrity(ApprovalCommon):
    def investigating_case(self, **values):
        case = self.create_case(**values)
        self.advance(case, "investigating")
        case.write({"verdict": "company", "solution_description": "<p>We repair it at our cost.</p>"})
        return case

    # Every solution passes the same gate ---------------------------------
    def test_text_only_solution_needs_approval_and_agreement(self):
        case = self.investigating_case()
        self.assertFalse(case.solution_line_ids)
        case.with_user(self.agent).action_propose_solution()
        self.assertEqual(case.approval_state, "pending", "a solution written as text is approved too")
        self.assertEqual(case.approval_review_ids.reviewer_ids, self.head_production)
        with self.assertRaisesRegex(UserError, "not approved"):
            case.with_user(self.agent).action_start_execution()
        with self.assertRaisesRegex(UserError, "not approved"):
            case.with_user(self.agent).action_customer_agreed()
        self.approve_all(case)
        with self.assertRaisesRegex(UserError, "not agreed"):
            case.with_user(self.agent).action_start_execution()
        case.with_user(self.agent).action_customer_agreed()
        case.with_user(self.agent).action_start_execution()
        self.assertEqual(case.state, "in_execution")

    def test_solution_no_rule_applies_to_is_approved_at_once(self):
        self.env["complaint.approval.rule"].search([("model", "=", "complaint.case")]).active = False
        case = self.investigating_case()
        case.action_propose_solution()
        self.assertEqual(case.approval_state, "approved")
        self.assertTrue(any("No approval needed" in body for body in case.message_ids.mapped("body")))
        self.assertEqual(case.approval_requested_by_id, self.env.user)
        with self.assertRaisesRegex(UserError, "not agreed"):
            case.action_start_execution()

    def test_line_executed_only_once_approved(self):
        case = self.proposed_case([("compensation", 100.0)])
        line = case.solution_line_ids
        with self.assertRaisesRegex(UserError, "not approved"):
            line.with_user(self.officer).action_mark_executed()
        self.assertEqual(line.execution_state, "to_do")
        with self.assertRaisesRegex(AccessError, "Officer"):
            line.with_user(self.agent).action_mark_executed()
        self.approve_all(case)
        with self.assertRaisesRegex(UserError, "not being carried out"):
            line.with_user(self.officer).action_mark_executed()
        case.action_customer_agreed()
        case.action_start_execution()
        line.with_user(self.officer).action_mark_executed()
        self.assertEqual((line.execution_state, line.executed_by_id), ("done", self.officer))
        with self.assertRaises(UserError):
            line.with_user(self.officer).action_mark_executed()

    # The customer's decisions are final ----------------------------------
    def test_agreement_and_rating_are_final(self):
        case = self.investigating_case()
        case.action_propose_solution()
        self.approve_all(case)
        case._record_customer_decision("agreed")
        with self.assertRaisesRegex(UserError, "final"):
            case._record_customer_decision("declined", "changed my mind")
        with self.assertRaisesRegex(UserError, "final"):
            case._record_customer_decision("agreed")
        self.assertEqual(case.customer_decision, "agreed")
        self.advance(case, "replied")
        case._record_satisfaction(5, "Great")
        with self.assertRaisesRegex(UserError, "final"):
            case._record_satisfaction(1, "Actually no")
        self.assertEqual(case.satisfaction_rating, "5")

    def test_follow_up_outcome_only_from_a_real_call(self):
        case = self.create_case()
        self.advance(case, "replied")
        with self.assertRaisesRegex(UserError, "not 'unreachable'"):
            case.with_user(self.agent).action_record_follow_up("unreachable")
        self.assertFalse(case.follow_up_outcome)

    # Approvals cannot be forged -------------------------------------------
    def test_requester_cannot_be_rewritten_to_approve_oneself(self):
        case = self.proposed_case([("compensation", 100.0)], user=self.agent)
        head = self.head_production
        with self.assertRaisesRegex(AccessError, "approval_requested_by_id"):
            case.with_user(head).write({"approval_requested_by_id": head.id})
        with self.assertRaisesRegex(AccessError, "approval_state"):
            case.with_user(head).with_context(complaint_approval_no_reset=True).write(
                {"approval_state": "approved"})
        self.assertEqual((case.approval_state, case.approval_requested_by_id), ("pending", self.agent))
        # Proposed by the head himself: he cannot approve his own request.
        own = self.proposed_case([("compensation", 100.0)], user=head)
        with self.assertRaisesRegex(AccessError, "your own request"):
            own.with_user(head)._approval_approve("mine")

    def test_approved_content_edit_restarts_the_approval(self):
        case = self.investigating_case()
        case.action_propose_solution()
        self.approve_all(case)
        case.with_user(self.agent).with_context(complaint_approval_no_reset=True).write(
            {"solution_description": "<p>A full refund instead.</p>"})
        self.assertEqual(case.approval_state, "draft", "no context key skips the restart")

    # Roles as documented ---------------------------------------------------
    def test_marketing_director_approves_without_officer_rights(self):
        Case = self.env["complaint.case"]
        other = self.create_case(subject="Unrelated case")
        self.assertFalse(self.director.has_group("complaint_handling.group_complaint_officer"))
        self.assertNotIn(other, Case.with_user(self.director).search([]))
        with self.assertRaises(AccessError):
            Case.with_user(self.director).intake([])
        case = self.proposed_case([("refund", 6000.0)])
        self.assertIn(case, Case.with_user(self.director).search([]), "a case routed for approval is visible")
        step = case.approval_review_ids.filtered(lambda r: r.status == "pending")
        case.with_user(step.reviewer_ids[0])._approval_approve("OK")
        case.with_user(self.director)._approval_approve("Within budget")
        self.assertEqual(case.approval_state, "approved")
        with self.assertRaisesRegex(AccessError, "Officer"):
            case.with_user(self.director).action_cancel()

    def test_refusal_names_the_roles_that_may(self):
        case = self.create_case()
        self.advance(case, "follow_up")
        with self.assertRaises(AccessError) as refused:
            case.with_user(self.agent).action_close()
        self.assertIn("Officer", str(refused.exception))
        self.assertIn("Department Head", str(refused.exception))

    def test_solution_lines_keep_their_case_facts(self):
        case = self.proposed_case([("refund", 100.0)])
        line = case.solution_line_ids
        with self.assertRaisesRegex(AccessError, "execution_state"):
            line.with_user(self.agent).write({"execution_state": "done"})
        with self.assertRaisesRegex(AccessError, "approval_state"):
            line.with_user(self.agent).write({"approval_state": "approved"})
        with self.assertRaisesRegex(AccessError, "execution_state"):
            case.with_user(self.agent).write({"solution_line_ids": [
                Command.create({"solution_type": "refund", "amount": 5, "execution_state": "done"})]})
        self.assertEqual(case.approval_state, "pending")

    def test_credit_notes_link_to_cases_only_through_a_refund(self):
        case = self.create_case()
        with self.assertRaisesRegex(AccessError, "complaint_case_id"):
            self.env["account.move"].create({"move_type": "out_refund", "complaint_case_id": case.id})
        move = self.env["account.move"].create({"move_type": "out_refund", "partner_id": self.customer.id})
        with self.assertRaisesRegex(AccessError, "complaint_case_id"):
            move.with_context(complaint_state_transition=True).write({"complaint_case_id": case.id})
        self.assertFalse(case.credit_note_ids)

    def test_an_employee_cannot_reopen_by_posting_as_the_customer(self):
        case = self.create_case()
        self.advance(case, "closed")
        case.with_user(self.agent).message_post(
            body="It broke again (forged)", author_id=self.customer.id, message_type="comment",
            subtype_xmlid="mail.mt_comment")
        self.assertEqual((case.state, case.reopen_count), ("closed", 0), "only officers reopen")
        case.message_post(body="It broke again.", author_id=self.customer.id, message_type="email",
                          subtype_xmlid="mail.mt_comment")
        self.assertEqual(case.state, "investigating", "the customer's own e-mail still reopens")
