from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestPartnerMatching(ComplaintCommon):
    def match(self, **keys):
        return self.env["complaint.case"]._match_partner(**keys)

    def test_one_match_by_phone_in_any_format(self):
        for phone in ("13800997766", "+86 138-0099-7766", "0086 138 0099 7766"):
            partner, note = self.match(phone=phone)
            self.assertEqual(partner, self.customer, phone)
            self.assertIn("+8613800997766", note)

    def test_one_match_by_email(self):
        partner, _note = self.match(email="WANG.FANG.TEST@example.cn")
        self.assertEqual(partner, self.customer)

    def test_no_match(self):
        partner, note = self.match(phone="13911112222", email="nobody@example.cn")
        self.assertFalse(partner)
        self.assertIn("No customer matched", note)

    def test_several_matches_never_guess(self):
        self.customer.copy({"name": "Wang Fang (second contact)", "email": "other@example.cn"})
        partner, note = self.match(phone="13800997766")
        self.assertFalse(partner)
        self.assertIn("several contacts", note)
        # A unique email still designates one contact.
        partner, _note = self.match(phone="13800997766", email="wang.fang.test@example.cn")
        self.assertEqual(partner, self.customer)

    def test_order_reference_wins_when_the_contact_data_is_its_customers(self):
        other = self.env["res.partner"].create({"name": "Zhang Wei", "email": "zhang.wei@example.cn"})
        order = self.env["sale.order"].create({"partner_id": other.id})
        partner, note = self.match(phone="13800997766", email="zhang.wei@example.cn", order=order)
        self.assertEqual(partner, other)
        self.assertIn(order.name, note)
        # Wang Fang's phone does not make her Zhang Wei's customer.
        partner, note = self.match(phone="13800997766", order=order)
        self.assertFalse(partner)
        self.assertIn("names another customer", note)

    def test_invalid_phone_said_so(self):
        partner, note = self.match(phone="12")
        self.assertFalse(partner)
        self.assertIn("not a valid number", note)

    def test_matching_keys_are_indexed(self):
        self.env.cr.execute(
            """SELECT indexdef FROM pg_indexes
                WHERE tablename = 'res_partner' AND (indexdef LIKE '%%(phone_sanitized)%%'
                   OR indexdef LIKE '%%(email_normalized)%%')"""
        )
        self.assertEqual(len(self.env.cr.fetchall()), 2)
