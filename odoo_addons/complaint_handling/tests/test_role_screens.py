"""The screens each role meets, checked without a browser: the form data the
web client sends, the menus each role gets, the case header in every state,
and the values a person reads."""

import re

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import fields, models
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import ComplaintCommon

IDENTIFIER = re.compile(r"\b[a-z_][a-z0-9_]*\b")


@tagged("post_install", "-at_install")
class TestRoleScreens(ComplaintCommon):
    # ------------------------------------------------------------------
    # Monthly review: what the screen sends
    # ------------------------------------------------------------------
    def test_monthly_review_proposes_the_notice_from_the_screens_data(self):
        """The wizard as the browser fills and saves it (Form sends what the
        view sends: read-only fields only when force_save)."""
        last_month = fields.Date.context_today(self.env["complaint.case"]).replace(day=1) - relativedelta(months=1)
        case = self.create_case(urgency="urgent", subject="Serious, closed last month")
        self.advance(case, "closed")
        case._workflow_write({"close_date": fields.Datetime.to_datetime(last_month) + relativedelta(days=3)})
        wizard_form = Form(self.env["complaint.penalty.review.wizard"].with_user(self.gm))
        self.assertEqual(wizard_form.year, last_month.year)
        self.assertEqual(wizard_form.month, str(last_month.month))
        with wizard_form.line_ids.edit(0) as line:
            self.assertEqual(line.case_id, case)
            line.amount = 120.0
        wizard = wizard_form.save()
        self.assertEqual(wizard.line_ids.case_id, case, "the line keeps its case on save")
        action = wizard.action_create_notice()
        notice = self.env["complaint.penalty.notice"].browse(action["res_id"])
        self.assertEqual((notice.state, notice.amount_penalty, notice.line_ids.case_ids), ("draft", 120.0, case))

    def test_months_by_name_in_both_languages(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["complaint_handling"], ["zh_CN"], overwrite=True)
        Wizard = self.env["complaint.penalty.review.wizard"]
        english = dict(Wizard.with_context(lang="en_US").fields_get(["month"])["month"]["selection"])
        chinese = dict(Wizard.with_context(lang="zh_CN").fields_get(["month"])["month"]["selection"])
        self.assertEqual((english["3"], chinese["3"]), ("March", "三月"))

    # ------------------------------------------------------------------
    # Menus: each role's first screen is one it may open
    # ------------------------------------------------------------------
    def app_menus(self, user):
        menus = self.env["ir.ui.menu"].with_user(user).load_web_menus(False)
        root = self.env.ref("complaint_handling.complaint_menu_root")
        self.assertIn(root.id, menus, f"{user.login} sees no Complaints app")
        visible = {menu["xmlid"] for menu in menus.values() if menu.get("xmlid")}
        return menus[root.id], visible

    def test_each_role_opens_its_first_screen(self):
        for user in (self.agent, self.quality, self.head_production, self.officer, self.gm, self.finance):
            with self.subTest(user=user.login):
                app, _visible = self.app_menus(user)
                action = self.env["ir.actions.act_window"].browse(app["actionID"])
                self.assertTrue(action.exists(), f"{user.login}: the app opens no window action")
                Model = self.env[action.res_model].with_user(user)
                domain = safe_eval(action.domain or "[]", {"uid": user.id})
                # What the first screen reads (its records' names): no AccessError.
                Model.search_read(domain, ["display_name"], limit=5)

    def test_finance_lands_on_its_deductions_and_sees_only_its_menus(self):
        app, visible = self.app_menus(self.finance)
        self.assertEqual(app["actionID"], self.env.ref("complaint_handling.complaint_penalty_notice_action_to_apply").id)
        for xmlid in ("complaint_menu_dashboard", "complaint_menu_cases", "complaint_menu_my_approvals",
                      "complaint_menu_case_all", "complaint_menu_reporting"):
            self.assertNotIn(f"complaint_handling.{xmlid}", visible)
        self.assertIn("complaint_handling.complaint_menu_export_deductions", visible)
        _app, officer_visible = self.app_menus(self.officer)
        self.assertIn("complaint_handling.complaint_menu_dashboard", officer_visible)
        self.assertIn("complaint_handling.complaint_menu_my_approvals", officer_visible)

    def test_one_reporting_menu_for_complaint_figures(self):
        _app, visible = self.app_menus(self.officer)
        reporting = self.env.ref("complaint_handling.complaint_menu_reporting")
        children = reporting.child_id.filtered(lambda m: m.get_external_id()[m.id] in visible)
        models = [m.action.res_model for m in children if m.action and m.action._name == "ir.actions.act_window"]
        self.assertEqual(models.count("complaint.case") + models.count("complaint.report"), 1,
                         "one menu for the complaint figures")

    # ------------------------------------------------------------------
    # The case header: one clear next step
    # ------------------------------------------------------------------
    def header_buttons(self, case, user):
        """The header buttons `user` sees on `case`: (name, primary) pairs."""
        arch = self.env["complaint.case"].with_user(user).get_view(
            self.env.ref("complaint_handling.complaint_case_view_form").id, "form")["arch"]
        header = etree.fromstring(arch).find(".//header")
        record = case.with_user(user)
        shown = []
        for button in header.iter("button"):
            expression = button.get("invisible") or "False"
            values = {}
            for name in set(IDENTIFIER.findall(expression)) & set(record._fields):
                value = record[name]
                values[name] = value.id if isinstance(value, models.BaseModel) else value
            values.update({"True": True, "False": False})
            if not safe_eval(expression, values):
                shown.append((button.get("name"), "btn-primary" in (button.get("class") or "")))
        return shown

    def assert_clear_header(self, case, user, primary):
        shown = self.header_buttons(case, user)
        self.assertLessEqual(len(shown), 3, f"{case.state}: {shown}")
        primaries = [name for name, is_primary in shown if is_primary]
        self.assertEqual(primaries, [primary] if primary else [], f"{case.state} as {user.login}: {shown}")
        if primary and primary.isidentifier():
            # The primary button can succeed now.
            with self.env.cr.savepoint() as savepoint:
                getattr(case.with_user(user), primary)()
                self.env.flush_all()
                savepoint.rollback()
            self.env.invalidate_all(flush=False)

    def test_header_shows_one_next_step_in_every_state(self):
        case = self.create_case(self.officer, subject="Header walk")
        self.assert_clear_header(case, self.officer, "action_acknowledge")
        self.advance(case, "acknowledged", user=self.officer)
        # What the step needs, filled as the user would before clicking.
        case.with_user(self.officer).write({"responsible_department_id": self.dept_production.id, "user_id": self.agent.id})
        self.assert_clear_header(case, self.officer, "action_start_investigation")
        self.advance(case, "investigating", user=self.officer)
        case.with_user(self.officer).write({"verdict": "company", "solution_description": "<p>Replace it.</p>"})
        self.assert_clear_header(case, self.officer, "action_propose_solution")
        self.advance(case, "solution_proposed", user=self.officer)
        # Pending: the approver approves; the others have nothing that can succeed.
        self.assert_clear_header(case, self.head_production, "action_approval_approve")
        self.assert_clear_header(case, self.officer, None)
        self.approve_solution(case)
        self.assert_clear_header(case, self.officer, "action_customer_agreed")
        case.with_user(self.officer).action_customer_agreed()
        self.assert_clear_header(case, self.officer, "action_start_execution")
        self.advance(case, "in_execution", user=self.officer)
        case.with_user(self.officer).reply_summary = "<p>We replaced it.</p>"
        self.assert_clear_header(case, self.officer, "action_open_reply_wizard")
        record_follow_up = str(self.env.ref("complaint_handling.complaint_follow_up_wizard_action").id)
        self.advance(case, "replied", user=self.officer)
        self.assert_clear_header(case, self.officer, record_follow_up)
        self.advance(case, "follow_up", user=self.officer)
        self.assert_clear_header(case, self.officer, record_follow_up)
        case.with_user(self.officer).action_record_follow_up("satisfied", "Happy.")
        case.with_user(self.officer).resolution_note = "Done."
        self.assert_clear_header(case, self.officer, "action_close")
        case.with_user(self.officer).action_close()
        shown = self.header_buttons(case, self.officer)
        self.assertEqual(shown, [("action_reopen", False)])

    def test_rare_steps_in_the_gear_menu_follow_the_rules(self):
        case = self.create_case(self.agent, subject="Gear walk")
        self.advance(case, "investigating", user=self.agent)
        cancel = self.env.ref("complaint_handling.complaint_case_server_action_cancel")
        with self.assertRaises(Exception):
            cancel.with_user(self.agent).with_context(active_model="complaint.case", active_id=case.id,
                                                     active_ids=case.ids).run()
        case.with_user(self.officer).cancel_reason = "withdrawn"
        cancel.with_user(self.officer).with_context(active_model="complaint.case", active_id=case.id,
                                                   active_ids=case.ids).run()
        self.assertEqual(case.state, "cancelled")

    # ------------------------------------------------------------------
    # Human values
    # ------------------------------------------------------------------
    def test_values_read_by_people(self):
        case = self.create_case()
        call = self.env["complaint.call"].sudo()._workflow_create([{
            "case_id": case.id, "source_system": "generic_phone", "call_id": "ui-1", "duration": 412,
            "billsec": 3725,
        }])
        self.assertEqual((call.duration_display, call.billsec_display), ("6:52", "1:02:05"))
        self.assertEqual(call.source_system_label, "Phone system")
        case.sudo()._workflow_write({"source_system": "generic_form"})
        self.assertEqual(case.source_system_label, "Web form")
        self.assertEqual(case.partner_phone, self.customer.phone)
        self.assertEqual(case.partner_email, self.customer.email)

    def test_approval_step_names_translated_when_shown(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["complaint_handling"], ["zh_CN"], overwrite=True)
        case = self.create_case(self.officer)
        self.advance(case, "solution_proposed", user=self.officer)
        step = case.sudo().approval_review_ids[:1]
        self.assertEqual(step.with_context(lang="en_US").name, "Responsible department head")
        self.assertEqual(step.with_context(lang="zh_CN").name, "责任部门主管")
        self.assertEqual(
            case.with_user(self.head_production).with_context(lang="zh_CN").approval_current_review_id.name,
            "责任部门主管",
        )

    def test_approval_is_logged_once_without_a_dialog(self):
        case = self.create_case(self.officer)
        self.advance(case, "solution_proposed", user=self.officer)
        before = case.message_ids
        result = case.with_user(self.head_production).action_approval_approve()
        self.assertIs(result, True, "approving opens no dialog")
        self.assertEqual(case.approval_state, "approved")
        new = case.message_ids - before
        by_head = new.filtered(lambda m: m.author_id == self.head_production.partner_id)
        self.assertEqual(len(by_head), 1, new.mapped("body"))

    # ------------------------------------------------------------------
    # Documents
    # ------------------------------------------------------------------
    def render(self, report, records):
        html, _format = self.env["ir.actions.report"]._render_qweb_html(report, records.ids)
        return html.decode()

    def test_notice_reads_like_a_paper_notice(self):
        gm_clerk = self.env["res.users"].create({
            "name": "Notice Clerk", "login": "notice_clerk",
            "groups_id": [fields.Command.set([self.env.ref("complaint_handling.group_complaint_gm_office").id])],
        })
        notice = self.env["complaint.penalty.notice"].with_user(gm_clerk).create({
            "period": "2024-04",
            "line_ids": [
                fields.Command.create({"employee_id": self.agent.employee_id.id, "department_id": self.dept_production.id,
                                       "kind": "penalty", "amount": 300.0, "reason": "Late reply"}),
                fields.Command.create({"employee_id": self.officer.employee_id.id, "department_id": self.dept_cs.id,
                                       "kind": "reward", "amount": 50.0, "reason": "Customer praised"}),
            ],
        })
        html = self.render("complaint_handling.action_report_complaint_penalty_notice", notice)
        for text in ("Total penalties", "Total rewards", "Prepared by (General Manager's Office)",
                     "Approved by (General Manager)", "Received by (Finance)",
                     "Acknowledgement of the persons concerned", "Signature / date:", "o_complaint_report"):
            self.assertIn(text, html)
        symbol = notice.currency_id.symbol
        self.assertGreaterEqual(html.count(symbol), 4, "amounts and totals carry the currency")
        # The department column does not wrap one character per line.
        self.assertRegex(html, r'class="o_complaint_nowrap"[^>]*>\s*<span>Production \(test\)')
        # One acknowledgement line per person concerned.
        self.assertEqual(html.count("<td style=\"width: 40%\"></td>"), 2)

    def test_monthly_report_without_resolved_cases_reads_a_dash(self):
        wizard = self.env["complaint.monthly.report.wizard"].create({"month": "2020-01-01"})
        html = self.render("complaint_handling.action_report_complaint_monthly", wizard)
        self.assertRegex(html, r"SLA Met Rate \(%\)</th>\s*<td>—</td>")

    def test_department_named_alike_in_lists_and_cards(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        parent = self.env["hr.department"].create({"name": "Plant"})
        child = self.env["hr.department"].create({"name": "Assembly", "parent_id": parent.id})
        parent.with_context(lang="zh_CN").name = "工厂"
        child.with_context(lang="zh_CN").name = "装配"
        self.assertEqual(child.with_context(lang="zh_CN").display_name, "工厂 / 装配")
        self.assertEqual(child.with_context(lang="en_US").display_name, "Plant / Assembly")
