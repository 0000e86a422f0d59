from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import HelpdeskComplaintCommon


@tagged("post_install", "-at_install")
class TestEscalation(HelpdeskComplaintCommon):
    def test_escalate_creates_case_through_intake(self):
        case = self.escalate()
        self.assertTrue(case)
        self.assertEqual(case.source_system, "helpdesk_mgmt")
        self.assertEqual(case.external_ref, str(self.ticket.id))
        self.assertEqual(case.thread_ref, f"helpdesk.ticket:{self.ticket.id}")
        self.assertEqual(case.channel, "phone", "the ticket's channel is mapped to ours")
        self.assertEqual(case.partner_id, self.hd_customer, "the ticket's customer, matched by the intake")
        self.assertEqual(case.customer_email, "li.na@example.cn")
        self.assertIn("The kettle *leaks* from the base.", case.description)  # html2plaintext
        self.assertIn(self.ticket.number, case.subject)
        files = self.env["ir.attachment"].search([("res_model", "=", "complaint.case"), ("res_id", "=", case.id)])
        self.assertEqual(files.mapped("name"), ["leak.jpg"])
        self.assertEqual(files.raw, b"\xff\xd8 photo")
        # Who escalated and why, on the ticket (fields and chatter).
        self.assertEqual(self.ticket.complaint_escalated_by_id, self.helpdesk_agent)
        self.assertTrue(self.ticket.complaint_escalated_on)
        self.assertIn("refund", self.ticket.complaint_escalation_reason)
        note = self.ticket.message_ids.filtered(lambda m: case.name in (m.body or ""))
        self.assertTrue(note, "the escalation is posted in the ticket's chatter")
        self.assertEqual(note[0].author_id, self.helpdesk_agent.partner_id)
        self.assertIn("refund", note[0].body)
        # Linked both ways.
        self.assertEqual(case.helpdesk_ticket_ids, self.ticket)
        self.assertEqual(case.helpdesk_ticket_count, 1)
        self.assertEqual(self.ticket.action_view_complaint_case()["res_id"], case.id)
        self.assertEqual(case.action_view_helpdesk_tickets()["res_id"], self.ticket.id)

    def test_escalating_twice_gives_the_existing_case(self):
        case = self.escalate()
        again = self.ticket.with_user(self.helpdesk_agent).action_escalate_complaint("Again")
        self.assertEqual(again, case)
        self.assertEqual(self.env["complaint.case"].search_count(
            [("source_system", "=", "helpdesk_mgmt"), ("external_ref", "=", str(self.ticket.id))]), 1)
        # Even when the link was lost, the intake's idempotency answers the same case.
        self.ticket.sudo().complaint_case_id = False
        self.assertEqual(self.escalate(reason="Third time"), case)

    def test_reason_required_and_read_access_checked(self):
        with self.assertRaises(UserError):
            self.ticket.with_user(self.helpdesk_agent).action_escalate_complaint("   ")
        # A helpdesk user who sees only their own tickets cannot escalate another's.
        with self.assertRaises(AccessError):
            self.ticket.with_user(self.helpdesk_own).action_escalate_complaint("Not mine")
        self.assertFalse(self.ticket.sudo().complaint_case_id)

    def test_helpdesk_user_sees_number_and_status_only(self):
        case = self.escalate()
        ticket = self.ticket.with_user(self.helpdesk_agent)
        self.assertEqual(ticket.complaint_case_number, case.name)
        self.assertEqual(ticket.complaint_case_state, "new")
        with self.assertRaises(AccessError):
            ticket.read(["complaint_case_id"])
        with self.assertRaises(AccessError):
            case.with_user(self.helpdesk_agent).read(["description"])

    def test_milestones_in_ticket_chatter_and_stage_on_close(self):
        case = self.escalate()
        self.make_ready(case)
        self.advance(case, "acknowledged")
        self.assertTrue(self.ticket.message_ids.filtered(
            lambda m: case.name in (m.body or "") and "Acknowledged" in m.body))
        self.advance(case, "closed")
        bodies = "\n".join(self.ticket.message_ids.mapped("body"))
        for label in ("Solution Proposed", "Replied", "Closed"):
            self.assertIn(f"{case.name}: {label}", bodies)
        self.assertEqual(self.ticket.stage_id, self.stage_done, "moved to the team's stage for closed complaints")
        self.assertEqual(self.ticket.complaint_case_state, "closed")
        case.with_user(self.officer).write({"reopen_reason": "The customer called back."})
        case.with_user(self.officer).action_reopen()
        self.assertIn(f"Complaint case {case.name} was reopened.",
                      "\n".join(self.ticket.message_ids.mapped("body")))

    def test_no_stage_configured_leaves_the_ticket(self):
        self.team.complaint_closed_stage_id = False
        stage = self.ticket.stage_id
        case = self.escalate()
        self.make_ready(case)
        self.advance(case, "closed")
        self.assertEqual(self.ticket.stage_id, stage)

    def test_a_rejected_case_is_told_to_the_ticket_which_stays_open(self):
        """Rejection ends the complaint, not the ticket: the agent reads why in a note and
        goes on with the customer; the ticket is not moved to the closed-complaint stage."""
        stage = self.ticket.stage_id
        case = self.escalate()
        self.make_ready(case)
        self.advance(case, "investigating")
        case.write({"verdict": "carrier", "rejection_explanation": "<p>Damaged in transit.</p>"})
        case.with_user(self.officer).action_reject()
        note = self.ticket.message_ids.filtered(
            lambda m: case.name in (m.body or "") and "Rejected" in (m.body or ""))
        self.assertTrue(note, "\n".join(self.ticket.message_ids.mapped("body")))
        self.assertTrue(note.subtype_id.internal)
        self.assertEqual(self.ticket.stage_id, stage)

    def test_customer_reply_reaches_the_case(self):
        case = self.escalate()
        self.ticket.message_post(
            body="The base is wet again this morning.", author_id=self.hd_customer.id,
            message_type="comment", subtype_xmlid="mail.mt_comment",
        )
        self.assertTrue(case.message_ids.filtered(
            lambda m: "wet again" in (m.body or "") and m.author_id == self.hd_customer))
        # An agent's internal note is not the customer's reply.
        self.ticket.with_user(self.helpdesk_agent).message_post(
            body="Internal: call her back", message_type="comment", subtype_xmlid="mail.mt_note",
        )
        self.assertFalse(case.message_ids.filtered(lambda m: "call her back" in (m.body or "")))

    def test_customer_email_on_the_ticket_reaches_the_case(self):
        case = self.escalate()
        self.ticket.message_post(
            body="<p>Attached the receipt.</p>", author_id=self.hd_customer.id, message_type="email",
            subtype_xmlid="mail.mt_comment", attachments=[("receipt.txt", b"receipt 42")],
        )
        message = case.message_ids.filtered(lambda m: "receipt" in (m.body or ""))
        self.assertTrue(message)
        self.assertEqual(message.attachment_ids.mapped("name"), ["receipt.txt"])

    def test_incoming_mail_reply_reaches_the_case(self):
        case = self.escalate()
        thread_message = self.ticket.message_post(
            body="We are looking into it.", message_type="comment", subtype_xmlid="mail.mt_comment",
            author_id=self.helpdesk_agent.partner_id.id,
        )
        raw = (
            "From: Li Na <li.na@example.cn>\r\n"
            "To: helpdesk@example.com\r\n"
            "Subject: Re: Kettle leaks after two days\r\n"
            "Message-Id: <reply-1@mail.example.cn>\r\n"
            f"In-Reply-To: {thread_message.message_id}\r\n"
            f"References: {thread_message.message_id}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "It leaked again, I want my money back.\r\n"
        )
        self.env["mail.thread"].message_process("helpdesk.ticket", raw)
        self.assertTrue(self.ticket.message_ids.filtered(lambda m: "money back" in (m.body or "")))
        logged = case.message_ids.filtered(lambda m: "money back" in (m.body or ""))
        self.assertTrue(logged, "the customer's e-mail into the ticket is logged on the case")
        self.assertEqual(logged.author_id, self.hd_customer)


@tagged("post_install", "-at_install")
class TestEscalationRules(HelpdeskComplaintCommon):
    def test_off_by_default(self):
        self.assertFalse(self.env["helpdesk.complaint.rule"].search([]))
        ticket = self.create_ticket(name="投诉：水壶漏水")
        self.assertFalse(ticket.sudo().complaint_case_id)

    def test_keywords_on_create(self):
        rule = self.env["helpdesk.complaint.rule"].create({"name": "Keywords", "keywords": "投诉，Complaint"})
        ticket = self.create_ticket(name="投诉：水壶漏水")
        self.assertTrue(ticket.complaint_case_id)
        self.assertEqual(ticket.complaint_rule_id, rule)
        self.assertIn("Keywords", ticket.complaint_escalation_reason)
        english = self.create_ticket(name="Formal COMPLAINT about delivery")
        self.assertTrue(english.complaint_case_id)
        other = self.create_ticket(name="Where is my invoice?")
        self.assertFalse(other.complaint_case_id)

    def test_tag_team_category_on_update(self):
        tag = self.env["helpdesk.ticket.tag"].create({"name": "complaint-tag"})
        category = self.env["helpdesk.ticket.category"].create({"name": "Quality (test)"})
        self.env["helpdesk.complaint.rule"].create({
            "name": "Quality team tagged", "team_ids": [(4, self.team.id)], "tag_ids": [(4, tag.id)],
            "category_ids": [(4, category.id)],
        })
        ticket = self.create_ticket(name="Question")
        self.assertFalse(ticket.complaint_case_id)
        ticket.tag_ids = [(4, tag.id)]
        self.assertFalse(ticket.complaint_case_id, "every criterion must hold: the category is missing")
        ticket.category_id = category
        self.assertTrue(ticket.complaint_case_id)
        self.assertEqual(ticket.complaint_case_id.external_ref, str(ticket.id))

    def test_rule_needs_a_criterion(self):
        with self.assertRaises(ValidationError):
            self.env["helpdesk.complaint.rule"].create({"name": "Everything", "keywords": " , "})


@tagged("post_install", "-at_install")
class TestEscalationFacts(HelpdeskComplaintCommon):
    def test_escalation_facts_cannot_be_forged(self):
        case = self.create_case(subject="Another customer's case")
        for vals in ({"complaint_escalation_reason": "forged"},
                     {"complaint_escalated_by_id": self.officer.id},
                     {"complaint_case_id": case.id}):
            with self.assertRaises(AccessError):
                self.ticket.with_user(self.helpdesk_agent).write(vals)
            with self.assertRaises(AccessError):
                self.env["helpdesk.ticket"].with_user(self.helpdesk_agent).create(
                    dict(vals, name="x", description="<p>x</p>")
                )
        self.assertFalse(self.ticket.complaint_escalation_reason)
