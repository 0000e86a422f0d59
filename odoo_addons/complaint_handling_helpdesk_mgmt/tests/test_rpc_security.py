"""A helpdesk agent without any complaint group, over JSON-RPC with their
real password: they can escalate a ticket they can read and then see the
case's number and status on the ticket, never the case."""

import json

from odoo.tests import HttpCase, new_test_user, tagged

from .common import HelpdeskComplaintCommon


@tagged("post_install", "-at_install")
class TestRpcSecurity(HttpCase, HelpdeskComplaintCommon):
    def rpc(self, login, model, method, *args, **kwargs):
        payload = {
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"service": "object", "method": "execute_kw",
                       "args": [self.env.cr.dbname, self.uid_of(login), login, model, method, list(args), kwargs]},
        }
        response = self.url_open("/jsonrpc", data=json.dumps(payload),
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200)
        return response.json()

    def uid_of(self, login):
        return self.env["res.users"].search([("login", "=", login)]).id

    def assertRefused(self, answer, what):
        self.assertIn("error", answer, f"{what} should be refused, got {answer.get('result')!r}")
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError", answer["error"])

    def test_agent_escalates_and_sees_only_number_and_status(self):
        answer = self.rpc("hd_agent", "helpdesk.ticket", "action_escalate_complaint", [self.ticket.id],
                          "Customer wants compensation")
        self.assertNotIn("error", answer, answer)
        case = self.ticket.sudo().complaint_case_id
        self.assertTrue(case)
        self.assertEqual(self.ticket.complaint_escalated_by_id, self.helpdesk_agent)

        answer = self.rpc("hd_agent", "helpdesk.ticket", "read", [self.ticket.id],
                          fields=["complaint_case_number", "complaint_case_state", "complaint_escalation_reason"])
        self.assertEqual(answer["result"][0]["complaint_case_number"], case.name)
        self.assertEqual(answer["result"][0]["complaint_case_state"], "new")

        self.assertRefused(self.rpc("hd_agent", "complaint.case", "read", [case.id], fields=["description"]),
                           "reading the case")
        self.assertRefused(self.rpc("hd_agent", "complaint.case", "search_read", [["id", "=", case.id]],
                                    fields=["subject"]), "searching the case")
        self.assertRefused(self.rpc("hd_agent", "helpdesk.ticket", "read", [self.ticket.id],
                                    fields=["complaint_case_id"]), "reading the link to the case")
        self.assertRefused(self.rpc("hd_agent", "helpdesk.ticket", "write", [self.ticket.id],
                                    {"complaint_case_id": False}), "unlinking the case")
        self.assertEqual(self.ticket.sudo().complaint_case_id, case)

    def test_agent_cannot_escalate_a_ticket_they_cannot_read(self):
        self.assertRefused(self.rpc("hd_own_tickets", "helpdesk.ticket", "action_escalate_complaint", [self.ticket.id],
                                    "not my ticket"), "escalating another agent's ticket")
        self.assertFalse(self.ticket.sudo().complaint_case_id)

    def test_rules_are_for_helpdesk_managers(self):
        self.assertRefused(self.rpc("hd_agent", "helpdesk.complaint.rule", "create", {"name": "x", "keywords": "a"}),
                           "creating an escalation rule")

    def test_a_context_key_does_not_turn_automatic_escalation_off(self):
        self.env["helpdesk.complaint.rule"].create({"name": "Keywords", "keywords": "complaint"})
        answer = self.rpc("hd_agent", "helpdesk.ticket", "create",
                          {"name": "Formal complaint about the delivery", "description": "late",
                           "partner_id": self.ticket.partner_id.id},
                          context={"complaint_no_auto_escalation": True})
        self.assertNotIn("error", answer, answer)
        ticket = self.env["helpdesk.ticket"].browse(answer["result"])
        self.assertTrue(ticket.sudo().complaint_case_id, "the rule escalates whatever the context says")

    def test_an_agent_posting_as_the_customer_is_not_the_customers_reply(self):
        case = self.escalate()
        answer = self.rpc("hd_agent", "helpdesk.ticket", "message_post", [self.ticket.id],
                          body="I withdraw my complaint.", author_id=self.hd_customer.id,
                          message_type="comment", subtype_xmlid="mail.mt_comment")
        self.assertNotIn("error", answer, answer)
        self.assertTrue(self.ticket.message_ids.filtered(lambda m: "withdraw" in (m.body or "")))
        self.assertFalse(case.message_ids.filtered(lambda m: "withdraw" in (m.body or "")),
                         "an employee's post in the customer's name is not logged as their reply")

    def test_the_customers_own_portal_post_reaches_the_case(self):
        case = self.escalate()
        portal = new_test_user(self.env, login="hd_portal_customer", groups="base.group_portal",
                               partner_id=self.hd_customer.id)
        self.ticket.message_subscribe(partner_ids=self.hd_customer.ids)
        answer = self.rpc(portal.login, "helpdesk.ticket", "message_post", [self.ticket.id],
                          body="It leaks again this morning.", message_type="comment",
                          subtype_xmlid="mail.mt_comment")
        self.assertNotIn("error", answer, answer)
        logged = case.message_ids.filtered(lambda m: "leaks again" in (m.body or ""))
        self.assertTrue(logged, "the customer's own post is logged on the case")
        self.assertEqual(logged.author_id, self.hd_customer)
