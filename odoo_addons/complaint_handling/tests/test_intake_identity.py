from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestIntakeCustomerIdentity(ComplaintCommon):
    """An order named at intake is linked, with its customer, only when the
    e-mail or phone given is that customer's (to avoid false complaints)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.email = "service@example.com"
        cls.order = cls.env["sale.order"].create({"partner_id": cls.customer.id})

    def intake_case(self, ref="ID-1", **values):
        item = {"channel": "web_form", "source_system": "typeform", "external_ref": ref,
                "description": "The lid cracked.", "order_ref": self.order.name}
        item.update(values)
        result = self.env["complaint.case"].with_user(self.intake_bot).intake([item])[0]
        self.assertEqual(result["status"], "created", result["error"])
        return self.env["complaint.case"].browse(result["id"])

    def test_email_of_the_customer_links_the_order(self):
        case = self.intake_case(customer={"email": "WANG.FANG.TEST@example.cn"})
        self.assertEqual((case.partner_id, case.sale_order_id), (self.customer, self.order))
        self.assertFalse(case.claimed_order_ref)
        self.assertIn(self.order.name, case.partner_match_note)

    def test_phone_of_a_contact_of_the_customer_links_the_order(self):
        buyer = self.env["res.partner"].create({"name": "Kettle Buyers Ltd", "is_company": True})
        self.env["res.partner"].create(
            {"name": "Li Na", "parent_id": buyer.id, "phone": "021 6555 1234", "mobile": "139 1234 5678",
             "country_id": self.env.ref("base.cn").id}
        )
        order = self.env["sale.order"].create({"partner_id": buyer.id})
        by_mobile = self.intake_case("ID-1", customer={"phone": "+86 139-1234-5678"}, order_ref=order.name)
        self.assertEqual((by_mobile.partner_id, by_mobile.sale_order_id), (buyer, order))
        # The landline counts too, though phone_sanitized holds the mobile.
        by_phone = self.intake_case("ID-2", customer={"phone": "+86 21 6555 1234"}, order_ref=order.name)
        self.assertEqual(by_phone.sale_order_id, order)

    def test_stranger_naming_an_order_is_not_its_customer(self):
        case = self.intake_case(
            customer={"name": "Stranger", "email": "stranger@example.org", "phone": "13700001111"},
        )
        self.assertFalse(case.partner_id)
        self.assertFalse(case.sale_order_id)
        self.assertEqual(case.claimed_order_ref, self.order.name)
        self.assertEqual(
            case.partner_match_note,
            f"Order {self.order.name} names another customer: the e-mail/phone given does not match it; "
            "check the customer before linking.",
        )
        # The acknowledgement goes to the address given, nothing to the order's customer.
        self.send_acknowledgements()
        mails = self.env["mail.mail"].search([("model", "=", "complaint.case"), ("res_id", "=", case.id)])
        self.assertEqual(mails.mapped("email_to"), ["stranger@example.org"])
        self.assertFalse(mails.recipient_ids)
        messages = self.env["mail.message"].search([("model", "=", "complaint.case"), ("res_id", "=", case.id)])
        self.assertTrue(messages)
        self.assertNotIn(self.customer, messages.partner_ids | messages.notification_ids.res_partner_id)
        self.assertNotIn(self.customer, case.message_partner_ids)
        self.assertFalse(self.env["mail.mail"].search(
            ["|", ("recipient_ids", "in", self.customer.ids), ("email_to", "ilike", self.customer.email)]
        ))

    def test_order_without_email_or_phone_is_not_verified(self):
        case = self.intake_case(customer={"name": "Wang Fang"})
        self.assertFalse(case.partner_id or case.sale_order_id)
        self.assertEqual(case.claimed_order_ref, self.order.name)
        self.assertIn("without an e-mail or phone", case.partner_match_note)

    def test_reference_not_found_is_kept(self):
        case = self.intake_case(customer={"email": self.customer.email}, order_ref="S99999")
        self.assertEqual((case.partner_id, case.claimed_order_ref), (self.customer, "S99999"))
        self.assertFalse(case.sale_order_id)

    def test_unverified_claim_is_not_flagged_as_duplicate(self):
        first = self.intake_case("ID-3", customer={"email": self.customer.email})
        second = self.intake_case("ID-4", customer={"email": "stranger@example.org"})
        self.assertEqual(first.sale_order_id, self.order)
        self.assertFalse(second.possible_duplicate_of_id)
