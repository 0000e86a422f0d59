from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import ComplaintCommon

INCOMPATIBLE = "Incompatible companies"


class CompanyCommon(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create(
            {"name": "Other Co (test)", "country_id": cls.env.ref("base.cn").id, "email": "b@example.com"}
        )


@tagged("post_install", "-at_install")
class TestCompanyRelations(CompanyCommon):
    """A record links only records of its own company or shared ones."""

    def test_relations_across_companies_are_refused(self):
        order_b = self.env["sale.order"].create({"partner_id": self.customer.id, "company_id": self.company_b.id})
        with self.assertRaisesRegex(UserError, INCOMPATIBLE):
            self.create_case(sale_order_id=order_b.id)
        dept_b = self.env["hr.department"].create({"name": "Production (B)", "company_id": self.company_b.id})
        case = self.create_case()
        with self.assertRaisesRegex(UserError, INCOMPATIBLE):
            case.responsible_department_id = dept_b
        with self.assertRaisesRegex(UserError, INCOMPATIBLE):
            case.co_department_ids = dept_b
        contact_b = self.env["res.partner"].create({"name": "Only B", "company_id": self.company_b.id})
        with self.assertRaisesRegex(UserError, INCOMPATIBLE):
            case.partner_id = contact_b
        with self.assertRaisesRegex(UserError, INCOMPATIBLE):
            self.env["complaint.contact.sheet"].create(
                {"case_id": case.id, "countermeasure_department_id": dept_b.id}
            )
        case_b = self.create_case(company_id=self.company_b.id, partner_id=contact_b.id)
        self.assertEqual(case_b.partner_id, contact_b)
        notice = self.env["complaint.penalty.notice"].create({"company_id": self.company_b.id})
        with self.assertRaisesRegex(UserError, INCOMPATIBLE):
            self.env["complaint.penalty.notice.line"].create(
                {"notice_id": notice.id, "employee_id": self.agent.employee_id.id, "amount": 10, "reason": "x"}
            )
        with self.assertRaisesRegex(UserError, INCOMPATIBLE):
            self.company_b.complaint_cs_department_id = self.dept_cs

    def test_shared_category_does_not_propose_another_companys_department(self):
        self.category_quality.default_department_id = self.dept_production
        self.assertFalse(self.create_case(company_id=self.company_b.id).responsible_department_id)
        self.assertEqual(self.create_case().responsible_department_id, self.dept_production)


@tagged("post_install", "-at_install")
class TestCategoryCode(CompanyCommon):
    """A code designates one category among those a company can use."""

    def test_company_category_cannot_reuse_a_shared_code(self):
        with self.assertRaises(ValidationError) as refused:
            self.env["complaint.category"].create(
                {"name": "Quality (A)", "code": "product_quality", "company_id": self.company.id}
            )
        self.assertIn("product_quality", str(refused.exception))
        self.assertIn(self.category_quality.name, str(refused.exception))

    def test_one_code_per_company_and_each_company_its_own(self):
        Category = self.env["complaint.category"]
        first = Category.create({"name": "Delivery (A)", "code": "x", "company_id": self.company.id})
        Category.create({"name": "Delivery (B)", "code": "x", "company_id": self.company_b.id})
        with self.assertRaises(ValidationError) as refused:
            Category.create({"name": "Delivery again (A)", "code": "x", "company_id": self.company.id})
        self.assertIn(first.name, str(refused.exception))
        with self.assertRaises(ValidationError):
            Category.create({"name": "Delivery (shared)", "code": "x"})
        with self.assertRaises(ValidationError):
            first.company_id = False
        other = Category.create({"name": "Other (A)", "code": "y", "company_id": self.company.id})
        with self.assertRaises(ValidationError):
            other.code = "x"
