from odoo.tests import HttpCase, tagged

from .common import HelpdeskComplaintCommon


@tagged("post_install", "-at_install")
class TestEscalationTour(HttpCase, HelpdeskComplaintCommon):
    def test_agent_escalates_a_ticket_in_the_browser(self):
        """A helpdesk agent without complaint groups opens the ticket,
        escalates it with a reason and sees the case's number and status."""
        url = f"/odoo/action-helpdesk_mgmt.helpdesk_ticket_action/{self.ticket.id}"
        self.start_tour(url, "complaint_handling_helpdesk_mgmt_escalate_tour", login="hd_agent", timeout=120)
        case = self.ticket.sudo().complaint_case_id
        self.assertTrue(case, "the tour escalated the ticket")
        self.assertEqual(self.ticket.complaint_escalation_reason, "Customer demands a refund (tour).")
        self.assertEqual(self.ticket.complaint_escalated_by_id, self.helpdesk_agent)
        self.assertEqual(case.partner_id, self.hd_customer)
