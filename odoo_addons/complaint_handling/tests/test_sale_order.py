from datetime import datetime

from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestSaleOrderLink(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.officer.groups_id += cls.env.ref("sales_team.group_sale_salesman_all_leads")
        cls.product = cls.env["product.product"].create({"name": "Electric Kettle K-200", "list_price": 199})
        cls.order = cls.env["sale.order"].create(
            {"partner_id": cls.customer.id, "date_order": datetime(2026, 3, 14, 9, 0),
             "order_line": [(0, 0, {"product_id": cls.product.id, "product_uom_qty": 2})]}
        )

    def test_case_takes_purchase_date_and_product_from_order(self):
        case = self.create_case(sale_order_id=self.order.id, sale_line_ids=[(6, 0, self.order.order_line.ids)])
        self.assertEqual(str(case.purchase_date), "2026-03-14")
        self.assertEqual(case.product_id, self.product)
        action = case.action_view_sale_order()
        self.assertEqual((action["res_model"], action["res_id"]), ("sale.order", self.order.id))

    def test_order_smart_button_counts_complaints(self):
        self.assertEqual(self.order.with_user(self.officer).complaint_count, 0)
        first = self.create_case(sale_order_id=self.order.id)
        self.order.invalidate_recordset(["complaint_count", "complaint_ids"])
        action = self.order.with_user(self.officer).action_view_complaints()
        self.assertEqual(action["res_id"], first.id, "one complaint opens directly")
        self.create_case(sale_order_id=self.order.id)
        self.order.invalidate_recordset(["complaint_count", "complaint_ids"])
        order = self.order.with_user(self.officer)
        self.assertEqual(order.complaint_count, 2)
        action = order.action_view_complaints()
        self.assertEqual(action["domain"], [("sale_order_id", "=", self.order.id)])
        self.assertEqual(self.env["complaint.case"].search_count(action["domain"]), 2)

    def test_second_open_complaint_on_same_order_is_flagged(self):
        first = self.create_case(sale_order_id=self.order.id)
        second = self.create_case(sale_order_id=self.order.id)
        self.assertEqual(second.possible_duplicate_of_id, first)
        other_order = self.order.copy()
        self.assertFalse(self.create_case(sale_order_id=other_order.id).possible_duplicate_of_id)
