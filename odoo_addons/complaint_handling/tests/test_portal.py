import re

from odoo.tests import HttpCase, new_test_user, tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestComplaintPortal(HttpCase, ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(cls.env, login="portal_wang", password="portal_wang_pw",
                                        groups="base.group_portal", name="Portal Wang", email="portal.wang@example.cn")
        cls.other_portal_user = new_test_user(cls.env, login="portal_li", password="portal_li_pw",
                                              groups="base.group_portal", name="Portal Li", email="portal.li@example.cn")
        cls.own_case = cls.create_case(partner_id=cls.portal_user.partner_id.id, subject="Own kettle case")
        cls.other_case = cls.create_case(partner_id=cls.other_portal_user.partner_id.id, subject="Other customer case")
        cls.own_case._portal_ensure_token()
        cls.other_case._portal_ensure_token()

    def csrf_from(self, html):
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def test_list_shows_only_own_cases(self):
        self.authenticate("portal_wang", "portal_wang_pw")
        page = self.url_open("/my/complaints").text
        self.assertIn("Own kettle case", page)
        self.assertNotIn("Other customer case", page)

    def test_other_customer_and_forged_token_are_refused(self):
        self.authenticate("portal_li", "portal_li_pw")
        response = self.url_open(f"/my/complaints/{self.own_case.id}")
        self.assertNotIn("Own kettle case", response.text)
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.authenticate(None, None)
        forged = self.url_open(f"/my/complaints/{self.own_case.id}?access_token=forged-{self.own_case.access_token[:8]}")
        self.assertNotIn("Own kettle case", forged.text)
        wrong_case = self.url_open(f"/my/complaints/{self.own_case.id}?access_token={self.other_case.access_token}")
        self.assertNotIn("Own kettle case", wrong_case.text)

    def test_token_opens_the_case_without_account(self):
        self.authenticate(None, None)
        page = self.url_open(f"/my/complaints/{self.own_case.id}?access_token={self.own_case.access_token}").text
        self.assertIn("Own kettle case", page)
        self.assertIn(self.own_case.name, page)

    def test_accept_and_rate_through_the_portal(self):
        self.advance(self.own_case, "solution_proposed")
        self.approve_solution(self.own_case)
        url = f"/my/complaints/{self.own_case.id}?access_token={self.own_case.access_token}"
        self.authenticate(None, None)
        page = self.url_open(url).text
        self.assertIn("Replace the kettle", page)
        decision_url = f"/my/complaints/{self.own_case.id}/decision?access_token={self.own_case.access_token}"
        self.url_open(decision_url, data={"csrf_token": self.csrf_from(page), "decision": "declined", "comment": ""})
        self.assertFalse(self.own_case.customer_decision, "declining needs a reason")
        self.url_open(decision_url, data={"csrf_token": self.csrf_from(page), "decision": "agreed", "comment": "OK"})
        self.assertEqual(self.own_case.customer_decision, "agreed")
        self.advance(self.own_case, "replied")
        page = self.url_open(url).text
        self.url_open(f"/my/complaints/{self.own_case.id}/rate?access_token={self.own_case.access_token}",
                      data={"csrf_token": self.csrf_from(page), "rating": "5", "comment": "Great"})
        self.assertEqual((self.own_case.satisfaction_rating, self.own_case.satisfaction_comment), ("5", "Great"))

    def test_portal_customer_files_a_complaint_about_an_order(self):
        order = self.env["sale.order"].create({"partner_id": self.portal_user.partner_id.id})
        order.action_confirm()
        self.authenticate("portal_wang", "portal_wang_pw")
        page = self.url_open("/my/complaints/new").text
        self.assertIn(order.name, page)
        response = self.url_open(
            "/my/complaints/new",
            data={"csrf_token": self.csrf_from(page), "order_id": str(order.id), "description": "Arrived broken",
                  "subject": "Broken on arrival", "category_id": str(self.category_quality.id)},
            files={"photos": ("photo.jpg", b"\xff\xd8jpeg", "image/jpeg")},
        )
        case = self.env["complaint.case"].search([("subject", "=", "Broken on arrival")])
        self.assertEqual(len(case), 1)
        self.assertIn(case.name, response.text)
        self.assertEqual((case.partner_id, case.sale_order_id, case.channel), (self.portal_user.partner_id, order, "web_form"))
        self.assertEqual(self.env["ir.attachment"].search([("res_model", "=", "complaint.case"), ("res_id", "=", case.id)]).name, "photo.jpg")

    def test_portal_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["complaint_handling"], ["zh_CN"], overwrite=True)
        self.portal_user.lang = "zh_CN"
        self.advance(self.own_case, "solution_proposed")
        self.approve_solution(self.own_case)
        self.authenticate("portal_wang", "portal_wang_pw")
        page = self.url_open(f"/my/complaints/{self.own_case.id}").text
        for chinese in ("我们建议的处理方案", "我接受此方案", "消息和附件", "预计答复日期"):
            self.assertIn(chinese, page)
        for english in ("Our proposed solution", "I accept this solution", "Messages and attachments"):
            self.assertNotIn(english, page)
        listing = self.url_open("/my/complaints").text
        self.assertIn("预计答复日期", listing)
        self.assertIn("提交投诉", listing)

    def test_portal_user_reads_no_case_through_the_orm(self):
        with self.assertRaises(Exception):
            self.env["complaint.case"].with_user(self.portal_user).search([])


@tagged("post_install", "-at_install")
class TestComplaintTours(HttpCase, ComplaintCommon):
    def test_backoffice_tour(self):
        self.env["res.partner"].create({"name": "Tour Customer", "email": "tour.customer@example.com"})
        department = self.env["hr.department"].create({"name": "Production (tour)"})
        head = new_test_user(self.env, login="tour_head", groups="complaint_handling.group_complaint_department_head")
        department.manager_id = self.env["hr.employee"].create(
            {"name": "Tour Head", "user_id": head.id, "department_id": department.id})
        self.start_tour("/odoo", "complaint_handling_backoffice_tour", login="admin")
        case = self.env["complaint.case"].search([("subject", "=", "Blender jug cracked on first use")])
        self.assertEqual((case.state, case.approval_state), ("solution_proposed", "pending"))
        self.assertEqual(case.acknowledgement_state, "queued", "Acknowledge queued the acknowledgement")
        case.with_user(head)._approval_approve("Agreed, replace it.")
        self.start_tour(f"/odoo/action-complaint_handling.complaint_case_action/{case.id}",
                        "complaint_handling_backoffice_execute_tour", login="admin")
        self.assertEqual(case.state, "replied")
        self.assertTrue(case.first_response_date)
        self.assertIn("QA-7", case.reply_summary)

    def test_portal_tour(self):
        user = new_test_user(self.env, login="portal_tour", password="portal_tour", groups="base.group_portal",
                             name="Portal Tour", email="portal.tour@example.com")
        case = self.create_case(partner_id=user.partner_id.id, subject="Tour portal case")
        self.advance(case, "solution_proposed")
        self.approve_solution(case)
        self.start_tour("/my/complaints", "complaint_handling_portal_accept_tour", login="portal_tour")
        self.assertEqual(case.customer_decision, "agreed")
        self.advance(case, "replied")
        self.start_tour("/my/complaints", "complaint_handling_portal_rate_tour", login="portal_tour")
        self.assertEqual(case.satisfaction_rating, "5")
