from odoo.tests import tagged

from .test_company import CompanyCommon


@tagged("post_install", "-at_install")
class TestIntakeCompany(CompanyCommon):
    """Intake matches, looks up and links only records of the caller's
    current company, or shared ones."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.intake_bot.write({"company_ids": [(4, cls.company_b.id)]})
        cls.company.email = "service@example.com"

    def intake(self, payloads, company=None):
        Case = self.env["complaint.case"].with_user(self.intake_bot)
        return Case.with_company(company or self.company).intake(payloads)

    def intake_case(self, company=None, **values):
        result = self.intake([self.payload(**values)], company)[0]
        self.assertEqual(result["status"], "created", result["error"])
        return self.env["complaint.case"].browse(result["id"])

    def payload(self, ref="IC-1", **values):
        item = {"channel": "web_form", "source_system": "typeform", "external_ref": ref,
                "customer": {"name": "Someone"}, "description": "The lid cracked."}
        item.update(values)
        return item

    def call(self, call_id, number="+86 138 0099 7766"):
        return self.payload(call_id, channel="phone", customer={},
                            call={"call_id": call_id, "status": "completed", "caller_number": number})

    def test_case_belongs_to_the_callers_company(self):
        case_a = self.intake_case(ref="IC-A", customer={"email": self.customer.email})
        case_b = self.intake_case(self.company_b, ref="IC-B", customer={"email": self.customer.email})
        self.assertEqual((case_a.company_id, case_b.company_id), (self.company, self.company_b))
        self.assertEqual(case_a.partner_id, self.customer, "a shared contact serves every company")
        self.assertEqual(case_b.partner_id, self.customer)

    def test_contact_of_another_company_is_never_matched(self):
        self.env["res.partner"].create(
            {"name": "Zhao Lei (B)", "email": "zhao.lei@example.cn", "phone": "13955556666",
             "company_id": self.company_b.id}
        )
        case = self.intake_case(ref="IC-2", customer={"email": "zhao.lei@example.cn", "phone": "13955556666"})
        self.assertFalse(case.partner_id)
        self.assertIn("no contact has the email zhao.lei@example.cn", case.partner_match_note)
        case_b = self.intake_case(self.company_b, ref="IC-3", customer={"email": "zhao.lei@example.cn"})
        self.assertEqual(case_b.partner_id.name, "Zhao Lei (B)")

    def test_order_of_another_company_is_never_linked(self):
        order_b = self.env["sale.order"].create({"partner_id": self.customer.id, "company_id": self.company_b.id})
        case = self.intake_case(ref="IC-4", customer={"email": self.customer.email}, order_ref=order_b.name)
        self.assertFalse(case.sale_order_id)
        self.assertIn(f"Order {order_b.name} not found", case.partner_match_note)
        case_b = self.intake_case(self.company_b, ref="IC-5", customer={"email": self.customer.email},
                                  order_ref=order_b.name)
        self.assertEqual((case_b.sale_order_id, case_b.partner_id), (order_b, self.customer))

    def test_category_of_the_callers_company_or_shared(self):
        Category = self.env["complaint.category"]
        own = Category.create({"name": "Warranty (A)", "code": "warranty", "company_id": self.company.id})
        other = Category.create({"name": "Warranty (B)", "code": "warranty", "company_id": self.company_b.id})
        Category.create({"name": "Packaging (B)", "code": "packaging", "company_id": self.company_b.id})
        self.assertEqual(self.intake_case(ref="IC-6", category="warranty").category_id, own)
        self.assertEqual(self.intake_case(self.company_b, ref="IC-7", category="warranty").category_id, other)
        self.assertEqual(self.intake_case(self.company_b, ref="IC-8", category="product_quality").category_id,
                         self.category_quality, "a shared category serves every company")
        result = self.intake([self.payload("IC-9", category="packaging")])[0]
        self.assertEqual(result["status"], "error")
        self.assertIn("unknown category code 'packaging'", result["error"])

    def test_call_attached_only_to_an_open_case_of_the_same_company(self):
        first = self.intake([self.call("CA-A")])[0]
        self.assertEqual(self.env["complaint.case"].browse(first["id"]).partner_id, self.customer)
        second = self.intake([self.call("CA-B")], self.company_b)[0]
        self.assertEqual(second["status"], "created", "not attached to the other company's open case")
        self.assertEqual(self.env["complaint.case"].browse(second["id"]).company_id, self.company_b)
        self.assertEqual(self.intake([self.call("CA-C")])[0], dict(first, status="updated"))
        # An unknown caller, found by number only, too.
        third = self.intake([self.call("CA-D", "+86 139 0000 1111")])[0]
        fourth = self.intake([self.call("CA-E", "+86 139 0000 1111")], self.company_b)[0]
        self.assertEqual(fourth["status"], "created")
        self.assertNotEqual(fourth["id"], third["id"])

    def test_reference_of_another_companys_case_is_an_error(self):
        self.assertEqual(self.intake([self.payload("SAME-1")])[0]["status"], "created")
        result = self.intake([self.payload("SAME-1"), self.payload("OTHER-1")], self.company_b)
        self.assertEqual([r["status"] for r in result], ["error", "created"])
        self.assertIn("another company", result[0]["error"])
        self.assertFalse(result[0]["id"] or result[0]["number"], "nothing of the other company's case is told")
        self.assertEqual(self.intake([self.payload("SAME-1")])[0]["status"], "duplicate")
        self.assertEqual(self.intake([self.call("CALL-1")])[0]["status"], "created")
        result = self.intake([self.call("CALL-1")], self.company_b)[0]
        self.assertEqual(result["status"], "error")
        self.assertIn("call.call_id", result["error"])
