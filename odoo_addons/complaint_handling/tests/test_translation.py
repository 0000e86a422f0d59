from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestChineseTranslation(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"]._load_module_terms(["complaint_handling"], ["zh_CN"], overwrite=True)
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
