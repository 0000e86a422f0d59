from datetime import timedelta

from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from odoo.addons.sms.tools.sms_api import SmsApi

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestCustomerCommunication(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"]._load_module_terms(["complaint_handling"], ["zh_CN"], overwrite=True)
        cls.chinese_customer = cls.env["res.partner"].create(
            {"name": "李雷", "email": "li.lei@example.cn", "lang": "zh_CN", "phone": "13911112222",
             "country_id": cls.env.ref("base.cn").id}
        )
        cls.company.email = "service@example.com"

    def mails_of(self, case):
        return self.env["mail.mail"].search([("model", "=", "complaint.case"), ("res_id", "=", case.id)])

    def messages_of(self, case, subject_part):
        return case.message_ids.filtered(lambda m: subject_part in (m.subject or ""))

    # Acknowledgement ---------------------------------------------------
    def test_web_form_intake_is_acknowledged_and_meets_first_response(self):
        with freeze_time("2026-04-30 10:00:00"):
            result = self.env["complaint.case"].with_user(self.intake_bot).intake([{
                "channel": "web_form", "source_system": "form", "external_ref": "ack-1",
                "customer": {"email": "wang.fang.test@example.cn"}, "description": "Lid broke",
            }])[0]
            case = self.env["complaint.case"].browse(result["id"])
            self.assertEqual(case.acknowledgement_state, "queued", "queued, not rendered in the intake call")
            self.assertFalse(self.messages_of(case, "we received your complaint"))
            self.assertFalse(case.first_response_date, "nothing reached the customer yet")
        with freeze_time("2026-04-30 10:01:00"):
            self.env["complaint.case"]._cron_send_acknowledgements()
            message = self.messages_of(case, "we received your complaint")
            self.assertEqual(len(message), 1)
            self.assertIn(case.name, message.body)
            self.assertIn(case.get_portal_url(), message.body)
            self.assertIn("access_token=", message.body)
            self.assertEqual(message.partner_ids, self.customer)
            self.assertEqual(case.acknowledgement_message_id, message)
            self.assertEqual(case.acknowledgement_state, "sending")
            self.assertFalse(case.first_response_date, "rendered and queued is not sent")
            self.env["complaint.case"]._cron_send_acknowledgements()
            self.assertEqual(len(self.messages_of(case, "we received your complaint")), 1,
                             "a later run of the cron does not render it again")
        with freeze_time("2026-04-30 10:02:00"):
            self.env["mail.mail"].process_email_queue()
            self.assertEqual(case.acknowledgement_state, "sent")
            self.assertEqual(case.first_response_date, fields.Datetime.now(), "stamped when the e-mail left")
            self.assertEqual(case.acknowledgement_sent_date, fields.Datetime.now())
            self.env["complaint.case"]._cron_check_sla()
        with freeze_time("2026-05-12 10:00:00"):
            case.write({"category_id": self.category_quality.id, "kind": "appeal"})
            case.action_acknowledge()
            self.send_acknowledgements()
        self.assertEqual(len(self.messages_of(case, "we received your complaint")), 1, "told once")
        self.assertEqual(case.first_response_date, fields.Datetime.to_datetime("2026-04-30 10:02:00"),
                         "acknowledging later does not move the first response")
        self.assertLessEqual(case.first_response_date, case.response_deadline, "first response met")

    def test_intake_queues_and_the_cron_sends_in_one_batch(self):
        payloads = [{
            "channel": "web_form", "source_system": "form", "external_ref": f"batch-{i}",
            "customer": {"name": f"Guest {i}", "email": f"guest{i}@example.org"}, "description": "Late",
        } for i in range(30)]
        results = self.env["complaint.case"].with_user(self.intake_bot).intake(payloads)
        cases = self.env["complaint.case"].browse([r["id"] for r in results])
        self.assertEqual(set(cases.mapped("acknowledgement_state")), {"queued"})
        trigger = self.env["ir.cron.trigger"].search([
            ("cron_id", "=", self.env.ref("complaint_handling.ir_cron_complaint_send_acknowledgements").id)
        ])
        self.assertTrue(trigger, "intake wakes the acknowledgement cron up")
        self.send_acknowledgements()
        self.assertEqual(set(cases.mapped("acknowledgement_state")), {"sent"})
        self.assertTrue(all(cases.mapped("first_response_date")))
        mails = self.env["mail.mail"].search([("model", "=", "complaint.case"), ("res_id", "in", cases.ids)])
        self.assertEqual(sorted(mails.mapped("email_to")), sorted(f"guest{i}@example.org" for i in range(30)))

    def test_unknown_email_customer_gets_the_acknowledgement_by_email(self):
        case = self.create_case(channel="email", partner_id=False, customer_name="Guest",
                                customer_email="guest@example.org")
        self.send_acknowledgements()
        mail = self.mails_of(case).filtered(lambda m: "we received your complaint" in (m.subject or ""))
        self.assertEqual(mail.email_to, "guest@example.org")
        self.assertEqual(mail.state, "sent")
        self.assertTrue(case.first_response_date)

    def test_failed_email_is_no_first_response(self):
        case = self.create_case(channel="email", partner_id=False, customer_name="Guest",
                                customer_email="guest@example.org")
        self.env["complaint.case"]._cron_send_acknowledgements()
        with patch.object(type(self.env["ir.mail_server"]), "send_email", side_effect=OSError("SMTP down")), \
                mute_logger("odoo.addons.mail.models.mail_mail"):
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(case.acknowledgement_state, "failed")
        self.assertFalse(case.first_response_date, "the customer heard nothing")
        self.assertTrue(case.message_ids.filtered(lambda m: "could not be sent" in (m.body or "")))
        # Acknowledge sends it again.
        case.action_acknowledge()
        self.assertEqual(case.acknowledgement_state, "queued")
        self.send_acknowledgements()
        self.assertEqual(case.acknowledgement_state, "sent")
        self.assertTrue(case.first_response_date)

    def test_acknowledgement_rendered_in_chinese(self):
        case = self.create_case(channel="web_form", partner_id=self.chinese_customer.id)
        self.send_acknowledgements()
        message = case.message_ids.filtered(lambda m: case.name in (m.subject or ""))
        self.assertIn("我们已收到您的投诉", message.subject)
        self.assertIn("查看您的投诉", message.body)

    def test_acknowledge_tells_the_customer_then_stamps(self):
        case = self.create_case(user=self.agent, channel="phone")
        self.assertFalse(case.acknowledgement_state, "phone cases are acknowledged by the agent")
        with freeze_time("2026-05-04 09:00:00"):
            case.with_user(self.agent).action_acknowledge()
            self.assertEqual((case.state, case.acknowledgement_state), ("acknowledged", "queued"))
            self.assertFalse(case.first_response_date, "Acknowledge alone tells the customer nothing")
        with freeze_time("2026-05-04 09:01:00"):
            self.send_acknowledgements()
        self.assertEqual(case.first_response_date, fields.Datetime.to_datetime("2026-05-04 09:01:00"))
        self.assertEqual(case.acknowledgement_sent_date, case.first_response_date)
        self.assertTrue(self.messages_of(case, "we received your complaint"))

    def test_acknowledgement_by_sms_without_email(self):
        partner = self.env["res.partner"].create({"name": "Zhang Wei", "phone": "+86 139 0000 2222"})
        case = self.create_case(channel="walk_in", partner_id=partner.id)
        case.action_acknowledge()
        self.assertEqual(case.acknowledgement_state, "queued")

        def provider(api, local_endpoint, params, timeout=15):
            return [{"uuid": number["uuid"], "state": "success", "credit": 1}
                    for message in params["messages"] for number in message["numbers"]]

        with patch.object(SmsApi, "_contact_iap", provider):
            self.env["complaint.case"]._cron_send_acknowledgements()
        sms = self.env["sms.sms"].search([("partner_id", "=", partner.id)])
        self.assertEqual(len(sms), 1)
        self.assertIn(case.name, sms.body)
        self.assertEqual(case.acknowledgement_state, "sent")
        self.assertTrue(case.first_response_date, "the SMS left: the customer was told")

        refused = self.create_case(channel="walk_in", partner_id=partner.id)
        refused.action_acknowledge()

        def refusing(api, local_endpoint, params, timeout=15):
            return [{"uuid": number["uuid"], "state": "wrong_number_format", "credit": 0}
                    for message in params["messages"] for number in message["numbers"]]

        with patch.object(SmsApi, "_contact_iap", refusing):
            self.env["complaint.case"]._cron_send_acknowledgements()
        self.assertEqual(refused.acknowledgement_state, "failed")
        self.assertFalse(refused.first_response_date)

        nobody = self.create_case(channel="letter", partner_id=False, customer_name="Anonymous",
                                  customer_address="Room 1, Road 2")
        nobody.action_acknowledge()
        self.assertEqual(nobody.state, "acknowledged")
        self.assertFalse(nobody.acknowledgement_state)
        self.assertTrue(nobody.message_ids.filtered(lambda m: "No acknowledgement sent" in (m.body or "")))

    # Written reply -------------------------------------------------------
    def reply_wizard(self, case, **values):
        action = case.action_open_reply_wizard()
        form = Form(self.env["complaint.reply.wizard"].with_context(action["context"]))
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def test_reply_wizard_in_english_and_chinese(self):
        for partner, expected in ((self.customer, "We apologise"), (self.chinese_customer, "我们深表歉意")):
            case = self.create_case(partner_id=partner.id)
            self.advance(case, "in_execution")
            wizard = self.reply_wizard(case, basis="inspection report QA-118")
            self.assertEqual(wizard.kind, "reply")
            self.assertEqual(wizard.send_by, "email")
            self.assertIn(expected, wizard.body)
            self.assertIn("QA-118", wizard.body)
            self.assertIn("Replace the kettle", wizard.body, "the solution is part of the reply")
            with freeze_time("2026-05-04 09:00:00"):
                wizard.action_send()
                self.assertEqual(case.state, "replied")
                self.assertEqual(case.reply_summary, wizard.body)
                follow_up = case.activity_ids.filtered(
                    lambda a: a.activity_type_id == self.env.ref("complaint_handling.mail_activity_type_complaint_follow_up")
                )
                self.assertEqual(str(follow_up.date_deadline), "2026-05-07", "follow-up 3 days after the reply")
            message = self.messages_of(case, case.name).filtered(lambda m: "QA-118" in m.body)
            self.assertEqual(message.partner_ids, partner)

    def test_reply_by_letter_for_letter_customers(self):
        case = self.create_case(channel="letter")
        self.advance(case, "in_execution")
        wizard = self.reply_wizard(case)
        self.assertEqual(wizard.send_by, "letter")
        action = wizard.action_send()
        # Odoo asks once to configure the document layout before the first printed report.
        report_action = action if action["type"] == "ir.actions.report" else action["context"]["report_action"]
        self.assertEqual(report_action["report_name"], "complaint_handling.report_complaint_reply_letter")
        self.assertEqual(case.state, "replied")
        self.assertTrue(case.message_ids.attachment_ids.filtered(lambda a: case.name in a.name))

    def test_reply_refused_before_execution(self):
        case = self.create_case()
        self.advance(case, "investigating")
        case.verdict = "company"
        wizard = self.reply_wizard(case)
        with self.assertRaises(UserError):
            wizard.action_send()
        self.assertEqual(case.state, "investigating")

    def test_not_our_responsibility_uses_the_explanation(self):
        case = self.create_case()
        self.advance(case, "investigating")
        case.verdict = "customer"
        wizard = self.reply_wizard(case, basis="care label: indoor use only").with_user(self.officer)
        self.assertEqual(wizard.kind, "explanation")
        self.assertIn("Customer Misunderstanding", wizard.body)
        wizard.action_send()
        self.assertEqual(case.state, "rejected")
        self.assertIn("indoor use only", case.rejection_explanation)
        self.assertTrue(self.messages_of(case, "about your complaint"))

    # The customer's decision -----------------------------------------------
    def test_declined_solution_goes_back_to_proposal(self):
        case = self.create_case()
        self.advance(case, "solution_proposed")
        self.approve_solution(case)
        with self.assertRaisesRegex(UserError, "why"):
            case._record_customer_decision("declined")
        case._record_customer_decision("declined", "I want a refund, not a repair.")
        self.assertEqual(case.state, "investigating")
        case.solution_description = "<p>Full refund.</p>"
        case.action_propose_solution()
        self.assertFalse(case.customer_decision, "a new proposal waits for a new answer")
        self.approve_solution(case)
        case._record_customer_decision("agreed")
        case.action_start_execution()
        self.assertEqual(case.state, "in_execution")

    # Follow-up, reopening, closing ------------------------------------------
    def test_unsatisfied_follow_up_reopens(self):
        case = self.create_case()
        self.advance(case, "replied")
        with self.assertRaisesRegex(UserError, "why"):
            case.action_record_follow_up("unsatisfied")
        case.action_record_follow_up("unsatisfied", "Still leaking.")
        self.assertEqual((case.state, case.reopen_count), ("investigating", 1))
        self.assertTrue(case.activity_ids.filtered(lambda a: a.user_id == self.agent))

    def test_unreachable_after_attempts(self):
        case = self.create_case()
        self.advance(case, "replied")
        case.action_record_follow_up("not_reached")
        case.action_record_follow_up("not_reached")
        self.assertFalse(case.follow_up_outcome)
        self.assertEqual(case.follow_up_attempts, 2)
        case.action_record_follow_up("not_reached")
        self.assertEqual(case.follow_up_outcome, "unreachable")
        case.resolution_note = "Customer unreachable after three calls."
        case.with_user(self.officer).action_close()
        self.assertEqual(case.state, "closed")

    def test_closing_needs_follow_up_or_waiver(self):
        case = self.create_case()
        self.advance(case, "follow_up")
        case.resolution_note = "done"
        with self.assertRaisesRegex(UserError, "follow-up is recorded"):
            case.with_user(self.officer).action_close()
        with self.assertRaises(AccessError):
            case.with_user(self.agent).action_waive_follow_up()
        with self.assertRaisesRegex(UserError, "(?i)reason"):
            case.with_user(self.officer).action_waive_follow_up()
        case.follow_up_waiver_reason = "Customer asked not to be called again."
        case.with_user(self.officer).action_waive_follow_up()
        case.with_user(self.officer).action_close()
        self.assertEqual(case.state, "closed")

    def test_customer_reply_after_closing_reopens_within_window(self):
        case = self.create_case()
        self.advance(case, "closed")
        case.message_post(body="Hello, it broke again.", author_id=self.customer.id, message_type="email",
                          subtype_xmlid="mail.mt_comment")
        self.assertEqual((case.state, case.reopen_count), ("investigating", 1))
        old = self.create_case()
        with freeze_time(fields.Datetime.now() - timedelta(days=40)):
            self.advance(old, "closed")
        old.message_post(body="Thanks again", author_id=self.customer.id, message_type="email",
                         subtype_xmlid="mail.mt_comment")
        self.assertEqual(old.state, "closed", "after 30 days a message does not reopen")

    def test_satisfaction_rating(self):
        case = self.create_case()
        self.advance(case, "solution_proposed")
        with self.assertRaisesRegex(UserError, "written reply"):
            case._record_satisfaction(5)
        self.advance(case, "replied")
        with self.assertRaisesRegex(UserError, "1 to 5"):
            case._record_satisfaction(9)
        case._record_satisfaction(4, "Quick and kind.")
        self.assertEqual((case.satisfaction_rating, case.satisfaction_score), ("4", 4))

    # Escalation --------------------------------------------------------------
    def test_consumer_association_told_on_closing(self):
        association = self.env["res.partner"].create({"name": "Shanghai Consumer Council", "email": "cases@council.example.cn"})
        case = self.create_case(channel="consumer_association", association_partner_id=association.id)
        self.advance(case, "closed")
        mail = self.mails_of(case).filtered(lambda m: "you transferred" in (m.subject or ""))
        self.assertEqual(mail.recipient_ids, association)
        self.assertIn("We replaced your kettle", mail.body_html)
        self.assertTrue(case.association_notified_date)

    def test_illegal_act_notifies_officers(self):
        case = self.create_case()
        case.involves_illegal_act = True
        notice = case.message_ids.filtered(lambda m: "illegal acts" in m.body)
        self.assertIn(self.officer.partner_id, notice.partner_ids)
        self.assertNotIn(self.agent.partner_id, notice.partner_ids)
        case.write({"police_report_date": "2026-05-04", "police_report_ref": "SH-PSB-2026-0042"})
        self.assertEqual(case.police_report_ref, "SH-PSB-2026-0042")
