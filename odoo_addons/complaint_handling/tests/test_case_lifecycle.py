from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestCaseLifecycle(ComplaintCommon):
    def test_number_from_sequence(self):
        first, second = self.create_case(), self.create_case()
        self.assertRegex(first.name, r"^CP\d{4}-\d{5}$")
        self.assertNotEqual(first.name, second.name)

    def test_main_path_by_agent_and_department_head(self):
        case = self.create_case(user=self.agent)
        self.advance(case, "follow_up", user=self.agent)
        self.assertTrue(case.first_response_date, "acknowledging is the first response")
        self.assertTrue(case.resolved_date, "the written reply resolves the case")
        case.with_user(self.head_production).write({"resolution_note": "Satisfied."})
        case.with_user(self.agent).action_record_follow_up("satisfied")
        case.with_user(self.head_production).action_close()
        self.assertEqual(case.state, "closed")
        self.assertTrue(case.close_date)

    def test_state_cannot_be_written_directly(self):
        case = self.create_case()
        with self.assertRaisesRegex(AccessError, "'state'.*cannot be written directly"):
            case.write({"state": "closed"})
        with self.assertRaisesRegex(AccessError, "'state'"):
            case.with_context(complaint_state_transition=True).write({"state": "closed"})
        with self.assertRaisesRegex(AccessError, "'state'"):
            self.create_case(state="investigating")
        with self.assertRaisesRegex(AccessError, "'close_date'"):
            case.write({"close_date": "2020-01-01 00:00:00"})
        # A forged default is ignored: the case starts as New.
        forged = self.env["complaint.case"].with_context(default_state="closed").create(
            {"subject": "Forged default", "channel": "phone", "customer_name": "X"}
        )
        self.assertEqual(forged.state, "new")
        self.assertEqual(case.state, "new")

    def test_required_fields_named_in_refusal(self):
        case = self.create_case(category_id=False)
        with self.assertRaisesRegex(UserError, "Category"):
            case.action_acknowledge()
        case.category_id = self.category_quality
        case.action_acknowledge()
        with self.assertRaisesRegex(UserError, "Responsible Department.*Responsible Person|Responsible Person"):
            case.action_start_investigation()
        self.assertEqual(case.state, "acknowledged")

    def test_customer_must_be_identified_and_reachable(self):
        case = self.create_case(partner_id=False)
        with self.assertRaisesRegex(UserError, "identify the customer"):
            case.action_acknowledge()
        case.customer_name = "Li Lei"
        with self.assertRaisesRegex(UserError, "how to reach the customer"):
            case.action_acknowledge()
        case.customer_phone = "13900139000"
        case.action_acknowledge()
        self.assertEqual(case.state, "acknowledged")

    def test_transition_from_wrong_state_refused(self):
        case = self.create_case()
        with self.assertRaisesRegex(UserError, "New"):
            case.action_propose_solution()
        with self.assertRaises(UserError):
            case.with_user(self.officer).action_close()
        with self.assertRaises(UserError):
            case.with_user(self.officer).action_reopen()

    def test_agent_may_not_close_reject_cancel_or_reopen(self):
        case = self.create_case(user=self.agent)
        self.advance(case, "follow_up", user=self.agent)
        case.resolution_note = "done"
        with self.assertRaises(AccessError):
            case.with_user(self.agent).action_close()
        other = self.create_case(user=self.agent, cancel_reason="spam")
        with self.assertRaises(AccessError):
            other.with_user(self.agent).action_cancel()
        self.advance(other, "acknowledged", user=self.agent)
        other.write({"verdict": "customer", "rejection_explanation": "<p>Misuse.</p>"})
        with self.assertRaises(AccessError):
            other.with_user(self.agent).action_reject()
        self.assertEqual(other.state, "acknowledged")

    def test_reject_only_when_not_our_responsibility(self):
        case = self.create_case()
        self.advance(case, "investigating")
        case.write({"verdict": "company", "rejection_explanation": "<p>Not us.</p>"})
        with self.assertRaisesRegex(UserError, "misunderstanding"):
            case.with_user(self.officer).action_reject()
        case.verdict = "carrier"
        case.with_user(self.officer).action_reject()
        self.assertEqual(case.state, "rejected")
        self.assertTrue(case.resolved_date and case.close_date)

    def test_cancel_needs_reason_and_duplicate_link(self):
        original = self.create_case()
        case = self.create_case()
        with self.assertRaisesRegex(UserError, "Cancel Reason"):
            case.with_user(self.officer).action_cancel()
        case.cancel_reason = "duplicate"
        with self.assertRaisesRegex(UserError, "no original case"):
            case.with_user(self.officer).action_cancel()
        case._workflow_write({"possible_duplicate_of_id": original.id})
        case.with_user(self.officer).action_cancel()
        self.assertEqual(case.state, "cancelled")
        self.assertFalse(case.sla_status, "a cancelled case has no SLA status")

    def test_reopen_counts_and_needs_reason(self):
        case = self.create_case()
        self.advance(case, "closed")
        with self.assertRaisesRegex(UserError, "Reopen Reason"):
            case.with_user(self.officer).action_reopen()
        case.reopen_reason = "The lid broke again."
        case.with_user(self.officer).action_reopen()
        self.assertEqual(case.state, "investigating")
        self.assertEqual(case.reopen_count, 1)
        self.assertFalse(case.close_date)

    def test_back_to_investigation(self):
        case = self.create_case()
        self.advance(case, "solution_proposed")
        case.action_back_to_investigation()
        self.assertEqual(case.state, "investigating")

    def test_approval_hook_blocks_execution_and_reply(self):
        """The approval step plugs into _check_solution_approved."""
        case = self.create_case()
        self.advance(case, "solution_proposed")
        cls = type(case)

        def refuse(records):
            raise UserError("solution not approved")

        original = cls._check_solution_approved
        cls._check_solution_approved = refuse
        try:
            with self.assertRaisesRegex(UserError, "not approved"):
                case.action_start_execution()
        finally:
            cls._check_solution_approved = original
        self.assertEqual(case.state, "solution_proposed")

    def test_customer_type_tip(self):
        case = self.create_case(customer_type="driver")
        self.assertIn("brief", case.customer_type_tip)
        case.customer_type = False
        self.assertFalse(case.customer_type_tip)

    def test_category_routes_quality_and_department(self):
        self.category_logistics.default_department_id = self.dept_logistics
        case = self.create_case(category_id=self.category_logistics.id)
        self.assertFalse(case.quality_related)
        self.assertEqual(case.responsible_department_id, self.dept_logistics)
        self.assertTrue(self.create_case().quality_related, "product quality goes to QA")
