import base64

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestIntake(ComplaintCommon):
    def intake(self, payloads, user=None):
        return self.env["complaint.case"].with_user(user or self.intake_bot).intake(payloads)

    def payload(self, ref="F-1", **values):
        item = {
            "channel": "web_form",
            "source_system": "typeform",
            "external_ref": ref,
            "customer": {"name": "Wang Fang", "email": "Wang.Fang.Test@Example.cn"},
            "subject": "Lid cracked after two days",
            "description": "The lid cracked.\nPhotos attached.",
            "category": "product_quality",
            "urgency": "important",
            "expectation": "exchange",
        }
        item.update(values)
        return item

    def call_payload(self, call_id, status="completed", **call):
        call_data = {"call_id": call_id, "direction": "inbound", "status": status,
                     "caller_number": "+86 138 0099 7766", "start": "2026-05-04T09:00:00Z",
                     "duration": 120, "agent": "Agent Zhou"}
        call_data.update(call)
        return {"channel": "phone", "source_system": "twilio", "external_ref": call_id,
                "customer": {}, "call": call_data}

    def test_create_then_duplicate(self):
        first = self.intake([self.payload()])[0]
        self.assertEqual(first["status"], "created")
        self.assertFalse(first["error"])
        case = self.env["complaint.case"].browse(first["id"])
        self.assertEqual(case.name, first["number"])
        self.assertEqual(case.partner_id, self.customer, "matched by email, case-insensitively")
        self.assertEqual(case.category_id, self.category_quality)
        self.assertEqual((case.urgency, case.expectation, case.channel), ("important", "exchange", "web_form"))
        again = self.intake([self.payload(), self.payload()])
        self.assertEqual([r["status"] for r in again], ["duplicate", "duplicate"])
        self.assertEqual({r["id"] for r in again}, {case.id})
        self.assertEqual(
            self.env["complaint.case"].search_count([("source_system", "=", "typeform"), ("external_ref", "=", "F-1")]), 1
        )

    def test_invalid_items_get_their_own_error(self):
        results = self.intake(
            [
                self.payload("ok-1"),
                self.payload("bad-channel", channel="pigeon"),
                self.payload(None),
                self.payload("bad-attachment", attachments=[{"name": "photo.jpg", "data": "%%%"}]),
                "not an object",
                self.payload("bad-amount", amount_claimed="lots"),
                self.payload("ok-2", attachments=[{"name": "photo.jpg", "mimetype": "image/jpeg",
                                                   "data": base64.b64encode(b"jpeg").decode()}]),
            ]
        )
        statuses = [r["status"] for r in results]
        self.assertEqual(statuses, ["created", "error", "error", "error", "error", "error", "created"])
        self.assertIn("'channel'", results[1]["error"])
        self.assertIn("pigeon", results[1]["error"])
        self.assertIn("'external_ref'", results[2]["error"])
        self.assertIn("'attachments[0].data'", results[3]["error"])
        self.assertIn("item 4", results[4]["error"])
        self.assertIn("'amount_claimed'", results[5]["error"])
        saved = self.env["complaint.case"].browse([results[0]["id"], results[6]["id"]])
        self.assertEqual(len(saved.exists()), 2)
        attachment = self.env["ir.attachment"].search([("res_model", "=", "complaint.case"), ("res_id", "=", results[6]["id"])])
        self.assertEqual(attachment.name, "photo.jpg")
        self.assertEqual(base64.b64decode(attachment.datas), b"jpeg")

    def test_call_attached_to_callers_open_case(self):
        first = self.intake([self.call_payload("CA-1")])[0]
        self.assertEqual(first["status"], "created")
        case = self.env["complaint.case"].browse(first["id"])
        self.assertEqual(case.partner_id, self.customer, "caller matched by E.164 phone")
        second = self.intake([self.call_payload("CA-2", start="2026-05-04T10:00:00Z")])[0]
        self.assertEqual((second["status"], second["id"]), ("updated", case.id))
        calls = self.env["complaint.call"].search([("case_id", "=", case.id)])
        self.assertEqual(sorted(calls.mapped("call_id")), ["CA-1", "CA-2"])
        self.assertEqual(case.call_count, 2)

    def test_call_of_unknown_caller_attached_by_phone(self):
        unknown = {"caller_number": "+86 139 0000 1111"}
        first = self.intake([self.call_payload("CA-10", **unknown)])[0]
        case = self.env["complaint.case"].browse(first["id"])
        self.assertFalse(case.partner_id)
        self.assertIn("no contact", case.partner_match_note)
        second = self.intake([self.call_payload("CA-11", **unknown)])[0]
        self.assertEqual((second["status"], second["id"]), ("updated", case.id))

    def test_closed_case_gets_a_new_case_for_a_new_call(self):
        case = self.env["complaint.case"].browse(self.intake([self.call_payload("CA-20")])[0]["id"])
        self.assertEqual(case.partner_id, self.customer)
        case.write({"category_id": self.category_quality.id, "kind": "appeal"})
        self.advance(case, "closed")
        result = self.intake([self.call_payload("CA-21")])[0]
        self.assertEqual(result["status"], "created")
        self.assertNotEqual(result["id"], case.id)

    def test_out_of_order_call_events_never_downgrade(self):
        completed = self.call_payload("CA-30", status="completed", duration=300, recording_url="https://rec/1")
        ringing = self.call_payload("CA-30", status="ringing", duration=0, agent="Someone Else")
        self.assertEqual(self.intake([completed])[0]["status"], "created")
        self.assertEqual(self.intake([ringing])[0]["status"], "duplicate")
        call = self.env["complaint.call"].search([("call_id", "=", "CA-30")])
        self.assertEqual((call.status, call.duration, call.agent), ("completed", 300, "Agent Zhou"))
        # A newer event fills in what arrives later.
        answered_first = self.call_payload("CA-31", status="in_progress", duration=0, recording_url=None)
        self.intake([answered_first])
        done = self.call_payload("CA-31", status="completed", duration=95, recording_url="https://rec/2")
        self.assertEqual(self.intake([done])[0]["status"], "updated")
        call = self.env["complaint.call"].search([("call_id", "=", "CA-31")])
        self.assertEqual((call.status, call.duration, call.recording_url), ("completed", 95, "https://rec/2"))

    def test_only_intake_or_officers_may_call(self):
        with self.assertRaises(AccessError):
            self.intake([self.payload()], user=self.plain_user)
        with self.assertRaises(AccessError):
            self.intake([self.payload()], user=self.agent)
        self.assertEqual(self.intake([self.payload("by-officer")], user=self.officer)[0]["status"], "created")

    def test_intake_bot_reads_nothing(self):
        case_id = self.intake([self.payload()])[0]["id"]
        Case = self.env["complaint.case"].with_user(self.intake_bot)
        with self.assertRaises(AccessError):
            Case.search([])
        with self.assertRaises(AccessError):
            Case.browse(case_id).read(["name"])
        with self.assertRaises(AccessError):
            self.env["complaint.call"].with_user(self.intake_bot).search([])
        with self.assertRaises(AccessError):
            self.env["complaint.category"].with_user(self.intake_bot).search([])
        with self.assertRaises(AccessError):
            self.env["hr.employee"].with_user(self.intake_bot).search([])

    def test_possible_duplicate_flagged(self):
        order = self.env["sale.order"].create({"partner_id": self.customer.id})
        first = self.intake([self.payload("D-1", order_ref=order.name)])[0]
        second = self.intake([self.payload("D-2", order_ref=order.name)])[0]
        case = self.env["complaint.case"].browse(second["id"])
        self.assertEqual(case.possible_duplicate_of_id.id, first["id"])
        self.assertEqual(case.sale_order_id, order)

    def test_email_to_alias_registers_case(self):
        """An e-mail to complaints@<alias domain>, routed by the alias the
        addon ships (no model given), becomes a numbered e-mail case whose
        acknowledgement is queued, then sent."""
        domain = self.env["mail.alias.domain"].create({"name": "complaints-test.example.com"})
        alias = self.env.ref("complaint_handling.mail_alias_complaints")
        alias.alias_domain_id = domain
        self.assertEqual(alias.alias_full_name, "complaints@complaints-test.example.com")
        message = (
            "From: Wang Fang <wang.fang.test@example.cn>\r\n"
            "To: complaints@complaints-test.example.com\r\n"
            "Subject: Kettle lid broken again\r\n"
            "Message-ID: <complaint-1@example.cn>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "The lid broke after three days.\r\n"
        )
        case_id = self.env["mail.thread"].message_process(False, message)
        case = self.env["complaint.case"].browse(case_id)
        self.assertEqual((case.channel, case.subject, case.partner_id), ("email", "Kettle lid broken again", self.customer))
        self.assertRegex(case.name, r"^CP\d{4}-\d+$", "numbered from the sequence, not by the subject")
        self.assertIn("three days", case.description)
        self.assertEqual(case.sla_response_policy_id, self.env.ref("complaint_handling.sla_policy_email"))
        self.assertEqual(case.acknowledgement_state, "queued", "acknowledged as a web form is")
        self.assertFalse(case.first_response_date)
        self.send_acknowledgements()
        self.assertEqual(case.acknowledgement_state, "sent")
        self.assertTrue(case.first_response_date)
        # Without a subject, the number still comes from the sequence.
        bare = message.replace("Subject: Kettle lid broken again\r\n", "").replace("complaint-1@", "complaint-2@")
        other = self.env["complaint.case"].browse(self.env["mail.thread"].message_process(False, bare))
        self.assertRegex(other.name, r"^CP\d{4}-\d+$")
        self.assertNotEqual(other, case)

    def test_alias_in_settings(self):
        alias = self.env.ref("complaint_handling.mail_alias_complaints")
        domain = self.env["mail.alias.domain"].create({"name": "settings-test.example.com"})
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.complaint_alias_prefix, "complaints")
        settings.write({"complaint_alias_prefix": "klachten", "complaint_alias_domain_id": domain.id})
        settings.execute()
        self.assertEqual(alias.alias_full_name, "klachten@settings-test.example.com")
        self.assertEqual(self.env["res.config.settings"].create({}).complaint_alias_domain_id, domain)

    def test_items_of_one_call_that_share_a_key(self):
        """Within one call: the same reference twice is one case; two calls of
        a new caller are one case; two events of one call are one call."""
        unknown = {"caller_number": "+86 139 0000 5555"}
        results = self.intake([
            self.payload("K-1"),
            self.call_payload("CK-1", **unknown),
            self.payload("K-1"),
            self.call_payload("CK-2", **unknown),
            self.call_payload("CK-1", status="ringing", **unknown),
            self.payload("K-2", channel="pigeon"),
            self.payload("K-3", customer={"name": "Wang Fang", "email": "wang.fang.test@example.cn"}),
        ])
        self.assertEqual([r["status"] for r in results],
                         ["created", "created", "duplicate", "updated", "duplicate", "error", "created"])
        self.assertEqual(results[0]["id"], results[2]["id"])
        self.assertEqual(results[1]["id"], results[3]["id"])
        self.assertEqual(results[1]["id"], results[4]["id"])
        case = self.env["complaint.case"].browse(results[1]["id"])
        self.assertEqual(sorted(case.call_ids.mapped("call_id")), ["CK-1", "CK-2"])
        self.assertEqual(case.call_ids.filtered(lambda c: c.call_id == "CK-1").status, "completed")
        numbers = self.env["complaint.case"].browse([r["id"] for r in results if r["id"]]).mapped("name")
        self.assertTrue(all(n.startswith("CP") for n in numbers))

    def test_call_of_a_customer_who_wrote_in_the_same_batch(self):
        results = self.intake([self.payload("W-1"), self.call_payload("CW-1")])
        self.assertEqual([r["status"] for r in results], ["created", "updated"])
        self.assertEqual(results[0]["id"], results[1]["id"], "the caller's open case, created just before")

    def test_values_out_of_range_are_the_items_own_errors(self):
        """Whatever a JSON or XML-RPC client sends in a field, the item gets
        its own error naming the field, and the valid items beside it are saved."""
        bad = [
            ("received_at", {"received_at": "0001-01-01T00:00:00Z"}),
            ("received_at", {"received_at": "9999-12-31T23:59:59Z"}),
            ("received_at", {"received_at": "yesterday"}),
            ("amount_claimed", {"amount_claimed": float("nan")}),
            ("amount_claimed", {"amount_claimed": float("inf")}),
            ("amount_claimed", {"amount_claimed": "1e300"}),
            ("amount_claimed", {"amount_claimed": True}),
            ("subject", {"subject": "Lid\x00cracked"}),
            ("customer.name", {"customer": {"name": "Wang\x1bFang", "email": "a@example.cn"}}),
        ]
        payloads = [self.payload("range-ok-1")]
        payloads += [self.payload(f"range-bad-{i}", **values) for i, (_field, values) in enumerate(bad)]
        payloads.append(self.call_payload("range-call-1", duration=99999999999))
        payloads.append(self.payload("range-ok-2"))
        results = self.intake(payloads)
        self.assertEqual(results[0]["status"], "created")
        self.assertEqual(results[-1]["status"], "created")
        for result, (field, _values) in zip(results[1:], bad + [("call.duration", None)]):
            self.assertEqual(result["status"], "error", result)
            self.assertIn(f"'{field}'", result["error"])

    def test_received_at_offset_is_honoured(self):
        results = self.intake([
            self.payload("tz-1", received_at="2026-05-04T09:00:00+08:00"),
            self.payload("tz-2", received_at="2026-05-04T09:00:00Z"),
            self.payload("tz-3", received_at="2026-05-04 09:00:00"),
        ])
        cases = self.env["complaint.case"].browse([r["id"] for r in results])
        self.assertEqual(
            [fields.Datetime.to_string(c.received_date) for c in cases],
            ["2026-05-04 01:00:00", "2026-05-04 09:00:00", "2026-05-04 09:00:00"],
            "an offset is converted to UTC; a naive value is UTC",
        )
