import re

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestChineseTranslation(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        # The addon's terms, and those of its installed extensions (e.g. complaint_handling_helpdesk_mgmt,
        # whose smart button is in the case's form).
        modules = cls.env["ir.module.module"].search(
            [("name", "=like", "complaint_handling%"), ("state", "=", "installed")]
        ).mapped("name")
        cls.env["ir.module.module"]._load_module_terms(modules, ["zh_CN"], overwrite=True)
        cls.agent.lang = "zh_CN"

    def test_selections_categories_and_fields_in_chinese(self):
        env = self.env(context=dict(self.env.context, lang="zh_CN"))
        states = dict(env["complaint.case"]._fields["state"]._description_selection(env))
        self.assertEqual(states["follow_up"], "回访")
        self.assertEqual(states["closed"], "已结案")
        self.assertEqual(self.category_quality.with_env(env).name, "产品质量")
        fields = env["complaint.case"].fields_get(["urgency", "channel"])
        self.assertEqual(fields["urgency"]["string"], "紧急程度")
        self.assertIn(("consumer_association", "消协转办"), fields["channel"]["selection"])

    def test_refused_transition_explained_in_chinese(self):
        case = self.create_case(user=self.agent, category_id=False)
        with self.assertRaises(UserError) as refused:
            case.with_user(self.agent).with_context(lang="zh_CN").action_acknowledge()
        self.assertIn("请填写", str(refused.exception))
        self.assertIn("类别", str(refused.exception))

    def test_customer_type_tip_in_chinese(self):
        case = self.create_case(user=self.agent, customer_type="driver")
        self.assertIn("简明直接", case.with_user(self.agent).with_context(lang="zh_CN").customer_type_tip)

    def test_menus_and_views_in_chinese(self):
        env = self.env(context=dict(self.env.context, lang="zh_CN"))
        self.assertEqual(env.ref("complaint_handling.complaint_menu_root").name, "投诉")
        arch = env["complaint.case"].get_view(env.ref("complaint_handling.complaint_case_view_form").id)["arch"]
        for label in ("确认受理", "事件经过", "责任归属", "结案"):
            self.assertIn(label, arch)

    def test_no_english_label_left_in_key_views(self):
        """Switched to Chinese, the key views show no English label, button,
        tab or placeholder, and every field of the case has a Chinese name."""
        allowed = {"ID", "SMS", "E.164"}
        views = [
            ("complaint.case", "complaint_handling.complaint_case_view_form"),
            ("complaint.case", "complaint_handling.complaint_case_view_list"),
            ("complaint.case", "complaint_handling.complaint_case_view_kanban"),
            ("complaint.case", "complaint_handling.complaint_case_view_search"),
            ("complaint.call", "complaint_handling.complaint_call_view_form"),
            ("complaint.reply.wizard", "complaint_handling.complaint_reply_wizard_view_form"),
            ("complaint.follow.up.wizard", "complaint_handling.complaint_follow_up_wizard_view_form"),
        ]
        pattern = re.compile(r'(?:string|placeholder|title)="([^"]*[A-Za-z][^"]*)"')
        for model, xmlid in views:
            view_id = self.env.ref(xmlid).id
            english = set(pattern.findall(self.env[model].with_context(lang="en_US").get_view(view_id)["arch"]))
            chinese = set(pattern.findall(self.env[model].with_context(lang="zh_CN").get_view(view_id)["arch"]))
            self.assertFalse((english & chinese) - allowed, f"untranslated in {xmlid}")
        for model in ("complaint.case", "complaint.call", "complaint.category", "complaint.sla.policy"):
            english = self.env[model].with_context(lang="en_US").fields_get(attributes=["string"])
            chinese = self.env[model].with_context(lang="zh_CN").fields_get(attributes=["string"])
            same = {f for f in english if english[f]["string"] == chinese[f]["string"]
                    and english[f]["string"] not in allowed}
            self.assertFalse(same, f"fields of {model} without a Chinese name")

    def test_templates_in_chinese(self):
        env = self.env(context=dict(self.env.context, lang="zh_CN"))
        for xmlid in ("mail_template_complaint_acknowledgement", "mail_template_complaint_reply",
                      "mail_template_complaint_explanation", "mail_template_complaint_consumer_association"):
            template = env.ref(f"complaint_handling.{xmlid}")
            self.assertIn("尊敬的", template.body_html, xmlid)
            self.assertNotIn("Dear", template.body_html, xmlid)
            self.assertRegex(template.subject, r"[\u4e00-\u9fff]", xmlid)
