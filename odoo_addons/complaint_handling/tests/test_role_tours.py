"""Every role's day in the browser, in English and in Chinese.

Each test logs in as one role, opens the Complaints app from the navbar like
the user would, checks the first screen (and saves a screenshot of it in
Odoo's screenshots folder, `--screenshots`; `scripts/test` puts it under the
test log folder) and does the role's main job to the end, asserting what the
screen shows (static/tests/tours/role_tours.js); the test then checks what
the job left in the database. One fixture serves every tour: each test runs
in its own transaction, rolled back after it.
"""

from datetime import datetime, timedelta
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser

from .common import ComplaintCommon

SCREENSHOT_SIGNAL = "complaint-screenshot: "


@tagged("post_install", "-at_install")
class TestRoleTours(HttpCase, ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"]._load_module_terms(
            ["base", "web", "mail", "portal", "complaint_handling"], ["zh_CN"], overwrite=True,
        )
        Case = cls.env["complaint.case"]
        helper = cls("test_officer_en")  # ComplaintCommon's walking helpers are instance methods
        # Officer: the caller of the phone complaint, a known contact.
        cls.caller = cls.env["res.partner"].create({
            "name": "Tour Caller Zhou", "phone": "138 0000 1111", "email": "zhou.caller@example.com",
        })
        # Department head: a solution waiting for the head of Production.
        cls.approval_case = cls.create_case(cls.officer, subject="Tour approval case")
        helper.advance(cls.approval_case, "solution_proposed", user=cls.officer)
        # GM office: a serious case closed last month.
        last_month = fields.Date.context_today(Case).replace(day=1) - relativedelta(months=1)
        cls.serious_case = cls.create_case(subject="Tour serious case", urgency="urgent")
        helper.advance(cls.serious_case, "closed")
        cls.serious_case._workflow_write({"close_date": datetime.combine(last_month, datetime.min.time()) + timedelta(days=9)})
        # QA: a contact sheet waiting for its analysis.
        product = cls.env["product.product"].create({"name": "Tour Kettle", "type": "consu"})
        sheet_case = cls.create_case(cls.officer, subject="Tour sheet case", product_id=product.id)
        helper.advance(sheet_case, "investigating")
        cls.sheet = cls.env["complaint.contact.sheet"].with_user(cls.officer).create({
            "case_id": sheet_case.id, "product_id": product.id, "lot_number": "TL-7",
            "quantity_affected": 3, "defect_description": "The kettle does not switch off.",
        })
        cls.sheet.with_user(cls.officer).action_submit()
        # Finance: a notice sent to finance.
        clerk = new_test_user(cls.env, login="tour_gm_clerk", name="Tour GM Clerk",
                              groups="base.group_user,complaint_handling.group_complaint_gm_office")
        employee = cls.env["hr.employee"].create({"name": "Tour Agent", "department_id": cls.dept_production.id})
        cls.notice = cls.env["complaint.penalty.notice"].with_user(clerk).create({
            "period": "2099-01",
            "line_ids": [Command.create({
                "employee_id": employee.id, "department_id": cls.dept_production.id,
                "kind": "penalty", "amount": 150.0, "reason": "Late reply",
            })],
        })
        cls.notice.with_user(clerk).action_submit()
        cls.notice.with_user(cls.gm)._approval_approve("ok")
        cls.notice.with_user(clerk).action_send_to_finance()
        # Customer: a solution to accept on the portal, then a reply to rate.
        cls.portal_user = new_test_user(cls.env, login="tour_customer", groups="base.group_portal",
                                        name="Tour Customer", email="tour.customer@example.com")
        cls.portal_case = cls.create_case(partner_id=cls.portal_user.partner_id.id, subject="Tour portal case")
        helper.advance(cls.portal_case, "solution_proposed")
        helper.approve_solution(cls.portal_case)

    def role_tour(self, tour, user, lang, url="/odoo"):
        """Run `<tour>_<en|zh>` as `user` in `lang`; screenshots it asks for
        are saved as `<tour>_<lang>_<label>_*.png`."""
        user.sudo().lang = "zh_CN" if lang == "zh" else "en_US"
        shots = []
        handle_console = ChromeBrowser._handle_console

        def handle(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002 - CDP's name
            message = str(browser._from_remoteobject(args[0])) if args else ""
            if message.startswith(SCREENSHOT_SIGNAL):
                label = message[len(SCREENSHOT_SIGNAL):].strip()
                shots.append(label)
                browser.take_screenshot(prefix=f"{tour.removeprefix('complaint_handling_')}_{lang}_{label}_")
            return handle_console(browser, type, args=args, stackTrace=stackTrace, **kw)

        with patch.object(ChromeBrowser, "_handle_console", handle):
            self.start_tour(url, f"{tour}_{lang}", login=user.login, timeout=120)
        self.assertIn("first_screen", shots, "the tour took no screenshot of the first screen")

    # ------------------------------------------------------------------
    def check_officer(self, lang):
        self.role_tour("complaint_handling_role_officer", self.officer, lang)
        case = self.env["complaint.case"].search([("subject", "=", "Heater stopped after two days")])
        self.assertEqual(len(case), 1)
        self.assertEqual(
            (case.state, case.partner_id, case.channel, case.kind, case.user_id, case.category_id),
            ("investigating", self.caller, "phone", "appeal", self.officer, self.category_quality),
        )
        self.assertTrue(case.responsible_department_id, "the category's department is proposed")

    def test_officer_en(self):
        self.check_officer("en")

    def test_officer_zh(self):
        self.check_officer("zh")

    def check_qa(self, lang):
        self.role_tour("complaint_handling_role_qa", self.quality, lang)
        self.assertEqual(self.sheet.state, "countermeasure")
        self.assertEqual(self.sheet.countermeasure_department_id, self.dept_production)
        self.assertEqual(self.sheet.analysis_user_id, self.quality)

    def test_qa_en(self):
        self.check_qa("en")

    def test_qa_zh(self):
        self.check_qa("zh")

    def check_department_head(self, lang):
        before = self.approval_case.message_ids
        self.role_tour("complaint_handling_role_department_head", self.head_production, lang)
        self.assertEqual(self.approval_case.approval_state, "approved")
        logged = (self.approval_case.message_ids - before).filtered(lambda m: m.author_id == self.head_production.partner_id)
        self.assertEqual(len(logged), 1, f"the approval is logged once: {logged.mapped('body')}")

    def test_department_head_en(self):
        self.check_department_head("en")

    def test_department_head_zh(self):
        self.check_department_head("zh")

    def check_gm_office(self, lang):
        self.role_tour("complaint_handling_role_gm_office", self.gm, lang)
        notice = self.env["complaint.penalty.notice"].search([("line_ids.case_ids", "in", self.serious_case.ids)])
        self.assertEqual(len(notice), 1)
        self.assertEqual((notice.state, notice.amount_penalty), ("draft", 200.0))

    def test_gm_office_en(self):
        self.check_gm_office("en")

    def test_gm_office_zh(self):
        self.check_gm_office("zh")

    def check_finance(self, lang):
        self.role_tour("complaint_handling_role_finance", self.finance, lang)
        self.assertEqual((self.notice.state, self.notice.applied_reference), ("applied", "PAY-2099-01"))

    def test_finance_en(self):
        self.check_finance("en")

    def test_finance_zh(self):
        self.check_finance("zh")

    def check_customer(self, lang):
        self.role_tour("complaint_handling_role_customer_accept", self.portal_user, lang, url="/my")
        self.assertEqual(self.portal_case.customer_decision, "agreed")
        self.advance(self.portal_case, "replied")
        self.start_tour("/my/complaints", f"complaint_handling_role_customer_rate_{lang}", login=self.portal_user.login)
        self.assertEqual(self.portal_case.satisfaction_rating, "5")

    def test_customer_en(self):
        self.check_customer("en")

    def test_customer_zh(self):
        self.check_customer("zh")
