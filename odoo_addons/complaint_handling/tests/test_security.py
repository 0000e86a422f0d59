from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestSecurity(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.production_case = cls.create_case(
            subject="Production case", responsible_department_id=cls.dept_production.id,
        )
        cls.logistics_case = cls.create_case(
            subject="Logistics case", category_id=cls.category_logistics.id,
            responsible_department_id=cls.dept_logistics.id,
        )
        cls.all_cases = cls.production_case | cls.logistics_case

    def visible(self, user):
        return self.env["complaint.case"].with_user(user).search([("id", "in", self.all_cases.ids)])

    def test_plain_internal_user_sees_no_complaint(self):
        with self.assertRaises(AccessError):
            self.env["complaint.case"].with_user(self.plain_user).search([])
        with self.assertRaises(AccessError):
            self.production_case.with_user(self.plain_user).read(["subject"])
        with self.assertRaises(AccessError):
            self.env["complaint.call"].with_user(self.plain_user).search([])

    def test_user_sees_own_and_department_cases(self):
        self.assertEqual(self.visible(self.agent), self.production_case)
        self.assertEqual(self.visible(self.agent_logistics), self.logistics_case)
        own = self.create_case(user=self.agent_logistics, subject="Own case")
        self.assertIn(own, self.env["complaint.case"].with_user(self.agent_logistics).search([]))
        with self.assertRaises(AccessError):
            self.logistics_case.with_user(self.agent).read(["subject"])

    def test_co_handling_department_sees_case(self):
        self.production_case.co_department_ids = self.dept_logistics
        self.assertEqual(self.visible(self.agent_logistics), self.all_cases)

    def test_quality_sees_quality_related_cases(self):
        self.assertEqual(self.visible(self.quality), self.production_case)

    def test_department_head_and_officer(self):
        self.assertEqual(self.visible(self.head_production), self.production_case)
        self.assertEqual(self.visible(self.officer), self.all_cases)
        self.assertEqual(self.visible(self.gm), self.all_cases)

    def test_finance_reads_no_case_details(self):
        with self.assertRaises(AccessError):
            self.production_case.with_user(self.finance).read(["customer_phone"])

    def test_multi_company(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.create_case(company_id=other_company.id, subject="Foreign")
        self.assertNotIn(foreign, self.env["complaint.case"].with_user(self.officer).search([]))
        self.officer.write({"company_ids": [(4, other_company.id)]})
        cases = self.env["complaint.case"].with_user(self.officer).with_context(
            allowed_company_ids=[self.company.id, other_company.id]
        ).search([])
        self.assertIn(foreign, cases)

    def test_only_administrator_configures(self):
        with self.assertRaises(AccessError):
            self.env["complaint.sla.policy"].with_user(self.officer).create({"name": "Mine", "response_hours": 1})
        with self.assertRaises(AccessError):
            self.category_quality.with_user(self.officer).write({"name": "Renamed"})
