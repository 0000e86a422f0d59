import re

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ComplaintCommon


@tagged("post_install", "-at_install")
class TestApprovalChinese(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"]._load_module_terms(["complaint_handling"], ["zh_CN"], overwrite=True)

    def test_approval_and_notice_views_in_chinese(self):
        allowed = {"ID", "CSV", "2025-03", "refund,exchange,compensation"}
        pattern = re.compile(r'(?:string|placeholder|title)="([^"]*[A-Za-z][^"]*)"')
        views = [
            ("complaint.penalty.notice", "complaint_handling.complaint_penalty_notice_view_form"),
            ("complaint.major.incident", "complaint_handling.complaint_major_incident_view_form"),
            ("complaint.approval.rule", "complaint_handling.complaint_approval_rule_view_form"),
            ("complaint.penalty.review.wizard", "complaint_handling.complaint_penalty_review_wizard_view_form"),
            ("complaint.penalty.export.wizard", "complaint_handling.complaint_penalty_export_wizard_view_form"),
        ]
        for model, xmlid in views:
            view_id = self.env.ref(xmlid).id
            english = set(pattern.findall(self.env[model].with_context(lang="en_US").get_view(view_id)["arch"]))
            chinese = set(pattern.findall(self.env[model].with_context(lang="zh_CN").get_view(view_id)["arch"]))
            self.assertFalse((english & chinese) - allowed, f"untranslated in {xmlid}")
        for model in ("complaint.penalty.notice", "complaint.penalty.notice.line", "complaint.solution.line",
                      "complaint.major.incident", "complaint.approval.rule", "complaint.approval.review"):
            english = self.env[model].with_context(lang="en_US").fields_get(attributes=["string"])
            chinese = self.env[model].with_context(lang="zh_CN").fields_get(attributes=["string"])
            same = {f for f in english if english[f]["string"] == chinese[f]["string"]
                    and english[f]["string"] not in {"ID"}}
            self.assertFalse(same, f"fields of {model} without a Chinese name")
        self.assertEqual(self.env.ref("complaint_handling.complaint_menu_rewards").with_context(lang="zh_CN").name, "奖罚")

    def test_refusal_in_chinese(self):
        notice = self.env["complaint.penalty.notice"].create({"period": "2024-04"})
        with self.assertRaises(UserError) as refused:
            notice.with_context(lang="zh_CN").action_submit()
        self.assertIn("没有明细", str(refused.exception))
